# Lineage and provenance: where the model and its evidence come from.
package mlgate.promotion

import data.mlgate.lib.reasons

# This file is loaded (promotion.rego checks that every file of the package is).
files contains "lineage"

# METADATA
# title: Artifact digest is the lineage's
# description: |
#   Sign-offs and history are bound to the artifact digest, so a request naming another digest
#   than its lineage records is denied rather than judged on sign-offs given for that artifact.
# custom:
#   code: ARTIFACT_DIGEST_CONFLICT
#   severity: critical
#   controls: ["EU AI Act Art. 12", "SR 11-7 IV"]
#   when_present: [model.artifact_digest, lineage.artifact_digest]
deny contains reason if {
	claimed := input.model.artifact_digest
	recorded := input.lineage.artifact_digest
	claimed != recorded
	msg := sprintf("the request names artifact %v, but the lineage records %v", [claimed, recorded])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "model.artifact_digest"})
}

# METADATA
# title: Evidence comes from the registry where required
# description: |
#   At tiers and stages whose thresholds list require_registry, those parts of the evidence
#   must come from the model registry (the input's provenance, which only mlgate writes);
#   evidence only the caller asserted denies.
# custom:
#   code: REGISTRY_PROVENANCE_REQUIRED
#   severity: high
#   controls: ["SR 11-7 III.A", "EU AI Act Art. 12"]
deny contains reason if {
	some part in object.get(stage_settings, "require_registry", [])
	source := object.get(input, ["provenance", part], "nowhere")
	not startswith(source, "registry")
	msg := sprintf("%s promotion requires %s from the model registry; it came from %s", [_label, part, source])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": part})
}

# METADATA
# title: Code commit is recorded
# description: The lineage names the git commit the model was trained from.
# custom:
#   code: LINEAGE_COMMIT_MISSING
#   severity: high
#   controls: ["EU AI Act Art. 12", "NIST AI RMF MAP 4.1"]
deny contains reason if {
	not _has_text(input.lineage, "git_commit")
	reason := reasons.from_rule(rego.metadata.rule(), "lineage.git_commit is missing: the training code cannot be traced", {"field": "lineage.git_commit"})
}

# METADATA
# title: Artifact digest is recorded
# description: The model artifact is pinned by its sha256 digest.
# custom:
#   code: LINEAGE_ARTIFACT_DIGEST_MISSING
#   severity: high
#   controls: ["EU AI Act Art. 12", "NIST AI RMF MAP 4.1"]
deny contains reason if {
	not _has_text(input.lineage, "artifact_digest")
	reason := reasons.from_rule(rego.metadata.rule(), "lineage.artifact_digest is missing: the deployed artifact cannot be pinned", {"field": "lineage.artifact_digest"})
}

# METADATA
# title: Training data is recorded
# description: The lineage lists at least one training dataset.
# custom:
#   code: LINEAGE_TRAINING_DATA_MISSING
#   severity: high
#   controls: ["EU AI Act Art. 10", "NIST AI RMF MAP 4.1"]
deny contains reason if {
	count([d | some d in object.get(input.lineage, "datasets", []); d.context == "training"]) == 0
	reason := reasons.from_rule(rego.metadata.rule(), "lineage.datasets lists no training dataset", {"field": "lineage.datasets"})
}

# METADATA
# title: Datasets are pinned by digest
# description: Every training dataset in the lineage carries a digest.
# custom:
#   code: LINEAGE_DATASET_DIGEST_MISSING
#   severity: high
#   controls: ["EU AI Act Art. 10", "NIST AI RMF MAP 4.1"]
deny contains reason if {
	some i, dataset in object.get(input.lineage, "datasets", [])
	dataset.context == "training"
	not _has_text(dataset, "digest")
	msg := sprintf("training dataset %s has no digest (lineage.datasets[%d].digest)", [dataset.name, i])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": sprintf("lineage.datasets[%d].digest", [i])})
}
