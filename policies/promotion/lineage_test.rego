package mlgate.promotion_test

import data.mlgate.promotion

test_promotion_denied_when_lineage_incomplete if {
	doc := json.patch(approved, [{"op": "replace", "path": "/lineage", "value": {"datasets": [{"name": "train", "context": "training"}]}}])
	codes(doc) == {"LINEAGE_COMMIT_MISSING", "LINEAGE_ARTIFACT_DIGEST_MISSING", "LINEAGE_DATASET_DIGEST_MISSING"}
}

test_promotion_denied_when_no_training_dataset if {
	doc := json.patch(approved, [{"op": "replace", "path": "/lineage/datasets/0/context", "value": "evaluation"}])
	codes(doc) == {"LINEAGE_TRAINING_DATA_MISSING"}
}

test_a_request_naming_another_artifact_than_the_lineage_is_denied if {
	doc := json.patch(approved, [{"op": "replace", "path": "/model/artifact_digest", "value": "sha256:ef"}])
	codes(doc) == {"ARTIFACT_DIGEST_CONFLICT", "APPROVAL_PENDING"} # the approval names sha256:ab
	decide(doc).reasons[0] == {
		"rule": "Artifact digest is the lineage's",
		"code": "ARTIFACT_DIGEST_CONFLICT",
		"severity": "critical",
		"message": "the request names artifact sha256:ef, but the lineage records sha256:ab",
		"controls": ["EU AI Act Art. 12", "SR 11-7 IV"],
		"field": "model.artifact_digest",
	}
}

test_registry_provenance_required_where_the_thresholds_say_so[note] := passed if {
	some note, case in {
		"caller's evidence denies": [{"metrics": "request", "lineage": "registry: MLflow"}, {"metrics"}],
		"registry evidence passes": [{"metrics": "registry: MLflow", "lineage": "registry: MLflow"}, set()],
		"no provenance denies": [{}, {"metrics", "lineage"}],
	}
	[provenance, denied] := case
	strict := json.patch(config, [{
		"op": "add",
		"path": "/promotion/tiers/high/stages/production/require_registry",
		"value": ["metrics", "lineage"],
	}])
	result := promotion.decision with input as object.union(approved, {"provenance": provenance})
		with data.mlgate.config as strict
	passed := {r.field | some r in result.reasons; r.code == "REGISTRY_PROVENANCE_REQUIRED"} == denied
}
