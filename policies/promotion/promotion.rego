# METADATA
# title: Promotion gate
# description: |
#   May this model version move to the target stage? Checks the model card, metric floors and
#   ceilings, regression against the champion, fairness across protected groups, lineage,
#   stage order and human approval. Thresholds come from data.mlgate.config.promotion.
package mlgate.promotion

import data.mlgate.lib.decision as decisions
import data.mlgate.lib.metrics
import data.mlgate.lib.reasons

# METADATA
# title: Promotion decision
# description: |
#   The gate's answer; the service queries exactly this rule. Names the risk tier it judged
#   under, so the service records that tier rather than working it out again.
# entrypoint: true
decision := object.union(
	decisions.make({"deny": deny, "hold": hold}, _signoff_context),
	_judged_under,
)

# What a waiver of this request is checked against (data.mlgate.lib.decision.make).
_signoff_context := {
	"waivers": object.get(input, "waivers", []),
	"model": input.model,
	"requesters": _requesters,
	"now_ns": time.parse_rfc3339_ns(input.requested_at),
	"non_waivable": object.get(_promotion, "non_waivable", []),
	"waiver_roles": object.get(_promotion, ["waivers", "roles"], {}),
	"default_waiver_roles": _tier_approver_roles,
}

# Only a known tier is claimed: evidence naming another is refused by its schema anyway.
_judged_under := {"risk_tier": tier} if tier in object.keys(_tier_rank)

else := {}

_promotion := object.get(data.mlgate.config, "promotion", {})

# The model card's risk tier decides the thresholds; a card without one is judged as high
# risk. A request cannot choose it (RISK_TIER_CONFLICT), nor lower the tier the model was last
# judged under (RISK_TIER_LOWERED): the higher of the two applies. The decision names it
# (risk_tier), so the service records the tier the policy judged under.
_card_tier := object.get(input, ["model_card", "risk_tier"], "high")

_recorded_tier := object.get(input, ["recorded_risk_tier", "tier"], _card_tier)

tier := _recorded_tier if _is_lowered

else := _card_tier

_tier_rank := {"low": 0, "medium": 1, "high": 2}

_is_lowered if _tier_rank[_recorded_tier] > _tier_rank[_card_tier]

# Who may not sign off this request: its caller, and whoever asked for a decision on this
# version before (the ledger's requesters), whatever the order of sign-off and request.
_requesters := {input.caller.id} | {who | some who in object.get(input, "requesters", [])}

stage := input.target.stage

# Tier settings with the model's own overrides merged over them.
settings := object.union(
	object.get(_promotion, ["tiers", tier], {}),
	object.get(_promotion, ["models", input.model.name], {}),
)

stage_settings := object.get(settings, ["stages", stage], {})

_values := object.get(input.metrics, "values", {})

_label := sprintf("%s-risk %s", [tier, stage])

# METADATA
# title: Promotion is configured
# description: There are thresholds for the model's risk tier and the target stage.
# custom:
#   code: PROMOTION_NOT_CONFIGURED
#   severity: critical
#   controls: ["NIST AI RMF GOVERN 1.2", "SR 11-7 IV"]
deny contains reason if {
	not _is_configured
	msg := sprintf("no promotion thresholds are configured for %s models going to %s", [tier, stage])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "model.risk_tier"})
}

_is_configured if object.get(_promotion, ["tiers", tier, "stages", stage], null) != null

# METADATA
# title: Risk tier is the model card's
# description: |
#   The risk tier picks the thresholds and comes from the model card; a request naming another
#   tier is denied rather than judged under a tier of its choosing.
# custom:
#   code: RISK_TIER_CONFLICT
#   severity: critical
#   controls: ["SR 11-7 IV", "NIST AI RMF GOVERN 1.3"]
deny contains reason if {
	claimed := input.model.risk_tier
	claimed != _card_tier
	msg := sprintf("the request names risk tier %v, but the model card says %v; only the card sets the tier", [claimed, _card_tier])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "model.risk_tier"})
}

# METADATA
# title: Artifact digest is the lineage's
# description: |
#   Sign-offs and history are bound to the artifact digest, so a request naming another digest
#   than its lineage records is denied rather than judged on sign-offs given for that artifact.
# custom:
#   code: ARTIFACT_DIGEST_CONFLICT
#   severity: critical
#   controls: ["EU AI Act Art. 12", "SR 11-7 IV"]
deny contains reason if {
	claimed := input.model.artifact_digest
	recorded := input.lineage.artifact_digest
	claimed != recorded
	msg := sprintf("the request names artifact %v, but the lineage records %v", [claimed, recorded])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "model.artifact_digest"})
}

# METADATA
# title: Risk tier is never lowered
# description: |
#   A model was judged under a tier before; a card naming a lower one is denied, and the
#   recorded tier's thresholds apply, so the party being gated cannot pick lighter checks.
# custom:
#   code: RISK_TIER_LOWERED
#   severity: critical
#   controls: ["SR 11-7 IV", "NIST AI RMF GOVERN 1.3"]
deny contains reason if {
	_is_lowered
	recorded := input.recorded_risk_tier
	msg := sprintf(
		"the model card says risk tier %v, but %v was judged as %v-risk before (decision %v on v%v); a tier is never lowered through a request",
		[_card_tier, input.model.name, recorded.tier, recorded.decision_id, recorded.version],
	)
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "model_card.risk_tier"})
}

# Every role the tier asks an approval of, at any stage: by default they may waive a rule.
_tier_approver_roles contains role if {
	some stage_config in object.get(settings, "stages", {})
	some role in object.get(stage_config, "approver_roles", [])
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
# title: Model card is complete
# description: The card has every section its risk tier requires, each with text.
# custom:
#   code: CARD_SECTION_MISSING
#   severity: high
#   controls: ["EU AI Act Art. 11", "NIST AI RMF MAP 1.1"]
deny contains reason if {
	some section in object.get(settings, "card_sections", [])
	not _has_text(input.model_card, section)
	msg := sprintf("model_card.%s is required for %s-risk models and is missing or empty", [section, tier])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": sprintf("model_card.%s", [section])})
}

# Text counts only with a visible character (a letter, digit, punctuation or symbol): a
# section holding only spaces or zero-width characters is empty.
_has_text(doc, key) if {
	is_string(doc[key])
	regex.match(`[\pL\pN\pP\pS]`, doc[key])
}

# METADATA
# title: Required metrics are reported
# description: Every metric with a floor, a ceiling or a regression check is in the evaluation.
# custom:
#   code: METRIC_MISSING
#   severity: high
#   controls: ["NIST AI RMF MEASURE 2.3", "SR 11-7 III.B"]
deny contains reason if {
	some name in _required_metrics
	not metrics.has_metric(_values, name)
	msg := sprintf("metric %s is required for %s promotion and is not in metrics.values", [name, _label])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"metric": name, "field": sprintf("metrics.values.%s", [name])})
}

_required_metrics contains name if some name, _ in object.get(stage_settings, "floors", {})

_required_metrics contains name if some name, _ in object.get(stage_settings, "ceilings", {})

_required_metrics contains name if some name, _ in object.get(stage_settings, "regression", {})

# METADATA
# title: Metric floors are met
# description: Each metric with a floor for the tier and stage is at or above it.
# custom:
#   code: METRIC_BELOW_FLOOR
#   severity: high
#   controls: ["NIST AI RMF MEASURE 2.3", "SR 11-7 III.B"]
deny contains reason if {
	some name, floor in object.get(stage_settings, "floors", {})
	metrics.has_metric(_values, name)
	not metrics.meets_floor(_values, name, floor)
	msg := sprintf("%s %v is below the %s floor %v", [name, _values[name], _label, floor])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"metric": name, "actual": _values[name], "threshold": floor})
}

# METADATA
# title: Metric ceilings are met
# description: Each metric with a ceiling for the tier and stage is at or below it.
# custom:
#   code: METRIC_ABOVE_CEILING
#   severity: high
#   controls: ["NIST AI RMF MEASURE 2.3", "SR 11-7 III.B"]
deny contains reason if {
	some name, ceiling in object.get(stage_settings, "ceilings", {})
	metrics.has_metric(_values, name)
	not metrics.within_ceiling(_values, name, ceiling)
	msg := sprintf("%s %v is above the %s ceiling %v", [name, _values[name], _label, ceiling])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"metric": name, "actual": _values[name], "threshold": ceiling})
}

# METADATA
# title: Champion baseline is present
# description: Promotion to this stage compares against the current champion, so its metrics are needed.
# custom:
#   code: BASELINE_MISSING
#   severity: high
#   controls: ["SR 11-7 III.B", "NIST AI RMF MEASURE 2.13"]
deny contains reason if {
	object.get(stage_settings, "baseline_required", false)
	not input.baseline
	msg := sprintf("%s promotion compares against the champion, but no baseline was given", [_label])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "baseline"})
}

_baseline_values := object.get(input, ["baseline", "metrics", "values"], {})

# METADATA
# title: Champion metrics are reported
# description: Every metric with a regression check is in the champion's evaluation too.
# custom:
#   code: BASELINE_METRIC_MISSING
#   severity: high
#   controls: ["SR 11-7 III.B", "NIST AI RMF MEASURE 2.13"]
deny contains reason if {
	input.baseline
	some name, _ in object.get(stage_settings, "regression", {})
	not metrics.has_metric(_baseline_values, name)
	msg := sprintf("metric %s of the champion v%s is needed for the regression check and is missing", [name, input.baseline.version])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"metric": name, "field": sprintf("baseline.metrics.values.%s", [name])})
}

# METADATA
# title: No regression against the champion (absolute)
# description: |
#   The candidate changes each metric by at least min_absolute_change against the champion
#   (MLflow MetricThreshold's formula). A negative min_absolute_change is a tolerated drop,
#   an mlgate extension: MLflow accepts only positive values.
# custom:
#   code: METRIC_REGRESSION_ABSOLUTE
#   severity: high
#   controls: ["SR 11-7 III.B", "NIST AI RMF MEASURE 2.13"]
deny contains reason if {
	some name, spec in object.get(stage_settings, "regression", {})
	"min_absolute_change" in object.keys(spec)
	[candidate, baseline] := _compared(name)
	not metrics.meets_absolute_change(candidate, baseline, spec)
	threshold := metrics.absolute_change_threshold(baseline, spec)
	msg := sprintf(
		"%s %v against the champion v%s's %v: the change %v misses min_absolute_change %v, so it needs %s %v%s",
		[
			name, metrics.for_people(candidate), input.baseline.version, metrics.for_people(baseline),
			metrics.for_people(candidate - baseline), spec.min_absolute_change,
			_direction(spec), metrics.for_people(threshold), _tolerance_note(spec.min_absolute_change),
		],
	)
	details := {"metric": name, "actual": candidate, "threshold": threshold, "baseline": baseline}
	reason := reasons.from_rule(rego.metadata.rule(), msg, details)
}

# METADATA
# title: No regression against the champion (relative)
# description: |
#   The candidate changes each metric by at least min_relative_change of the champion's
#   magnitude (MLflow MetricThreshold's formula, (c - b) / |b|; against a champion value of 0,
#   MLflow's fallback: better by 1e-10). A negative min_relative_change is a tolerated drop,
#   an mlgate extension: MLflow accepts only 0 to 1.
# custom:
#   code: METRIC_REGRESSION_RELATIVE
#   severity: high
#   controls: ["SR 11-7 III.B", "NIST AI RMF MEASURE 2.13"]
deny contains reason if {
	some name, spec in object.get(stage_settings, "regression", {})
	"min_relative_change" in object.keys(spec)
	[candidate, baseline] := _compared(name)
	not metrics.meets_relative_change(candidate, baseline, spec)
	threshold := metrics.relative_change_threshold(baseline, spec)
	msg := sprintf(
		"%s %v against the champion v%s's %v: %s, so it needs %s %v%s",
		[
			name, metrics.for_people(candidate), input.baseline.version, metrics.for_people(baseline),
			_relative_text(candidate, baseline, spec), _direction(spec), metrics.for_people(threshold),
			_tolerance_note(spec.min_relative_change),
		],
	)
	details := object.union(
		{"metric": name, "actual": candidate, "threshold": threshold, "baseline": baseline},
		_relative_field(candidate, baseline, spec),
	)
	reason := reasons.from_rule(rego.metadata.rule(), msg, details)
}

_compared(name) := [_values[name], _baseline_values[name]] if {
	metrics.has_metric(_values, name)
	metrics.has_metric(_baseline_values, name)
}

_direction(spec) := "at least" if object.get(spec, "greater_is_better", true) == true

_direction(spec) := "at most" if object.get(spec, "greater_is_better", true) == false

_relative_text(_, 0, _) := "no relative change against a champion of 0: MLflow's fallback asks for better by 1e-10"

_relative_text(candidate, baseline, spec) := sprintf(
	"the relative change %v%% misses min_relative_change %v%%",
	[
		metrics.for_people(100 * metrics.relative_change(candidate, baseline, spec)),
		metrics.for_people(100 * spec.min_relative_change),
	],
) if {
	baseline != 0
}

_relative_field(_, 0, _) := {}

_relative_field(candidate, baseline, spec) := {"relative_change": metrics.relative_change(candidate, baseline, spec)} if {
	baseline != 0
}

_tolerance_note(change) := " (a negative minimum is mlgate's tolerated drop; MLflow takes only positive ones)" if change < 0

_tolerance_note(change) := "" if change >= 0

# METADATA
# title: Per-group metrics for protected attributes
# description: |
#   Every protected attribute the card declares has per-group metrics in the evaluation:
#   every group listed reports the tier's fairness metric, and at least two groups do (a gap
#   needs two). A group left out of the metric cannot hide a gap.
# custom:
#   code: FAIRNESS_EVIDENCE_MISSING
#   severity: high
#   controls: ["EU AI Act Art. 10(2)(f)", "NIST AI RMF MEASURE 2.11"]
deny contains reason if {
	some attribute in _fairness_attributes
	some group in metrics.groups_missing(_groups(attribute), settings.fairness.metric)
	msg := sprintf(
		"group %s of protected attribute %s reports no %s (metrics.by_group.%s.%s.%s)",
		[group, attribute, settings.fairness.metric, attribute, group, settings.fairness.metric],
	)
	field := sprintf("metrics.by_group.%s.%s.%s", [attribute, group, settings.fairness.metric])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": field, "metric": settings.fairness.metric})
}

# METADATA
# title: Per-group metrics for protected attributes
# description: At least two groups of each protected attribute report the fairness metric.
# custom:
#   code: FAIRNESS_GROUPS_TOO_FEW
#   severity: high
#   controls: ["EU AI Act Art. 10(2)(f)", "NIST AI RMF MEASURE 2.11"]
deny contains reason if {
	some attribute in _fairness_attributes
	reporting := metrics.groups_reporting(_groups(attribute), settings.fairness.metric)
	reporting < 2
	msg := sprintf(
		"protected attribute %s has %d group(s) reporting %s in metrics.by_group.%s; a gap needs at least two",
		[attribute, reporting, settings.fairness.metric, attribute],
	)
	field := sprintf("metrics.by_group.%s", [attribute])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": field, "metric": settings.fairness.metric})
}

_fairness_attributes contains attribute if {
	settings.fairness
	some attribute in input.model_card.protected_attributes
}

_groups(attribute) := object.get(input.metrics, ["by_group", attribute], {})

# METADATA
# title: Fairness gap within limit
# description: For each protected attribute, the spread of the fairness metric across groups is within the tier's limit.
# custom:
#   code: FAIRNESS_GAP_EXCEEDED
#   severity: high
#   controls: ["EU AI Act Art. 10(2)(f)", "NIST AI RMF MEASURE 2.11"]
deny contains reason if {
	some attribute in _fairness_attributes
	gap := metrics.group_gap(_groups(attribute), settings.fairness.metric)
	gap > settings.fairness.max_gap
	msg := sprintf("%s gap across %s groups is %v, above the %s-risk limit %v", [settings.fairness.metric, attribute, metrics.for_people(gap), tier, settings.fairness.max_gap])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"metric": settings.fairness.metric, "field": sprintf("metrics.by_group.%s", [attribute]), "actual": gap, "threshold": settings.fairness.max_gap})
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

# METADATA
# title: Stage order is respected
# description: The version was allowed at an earlier stage before it goes to this one.
# custom:
#   code: STAGE_ORDER
#   severity: high
#   controls: ["SR 11-7 IV", "NIST AI RMF MANAGE 1.1"]
deny contains reason if {
	required := object.get(_promotion, ["stage_prerequisites", stage], [])
	count(required) > 0
	not _passed_any(required)
	msg := sprintf("v%s has no earlier allow at %s, which %s requires", [input.model.version, concat(" or ", required), stage])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "history"})
}

_passed_any(stages) if {
	some prior in object.get(input, "history", [])
	prior.gate == "promotion"
	prior.outcome == "allow"
	prior.version == input.model.version
	prior.stage in stages
	_judged_at_least_as_strictly(prior)
	time.parse_rfc3339_ns(prior.decided_at) < time.parse_rfc3339_ns(input.requested_at)
}

# An allow under a lower tier (lighter checks) does not count for this one. An earlier decision
# that names no tier (an evidence file's, in local mode) is taken as given.
_judged_at_least_as_strictly(prior) if not prior.risk_tier

_judged_at_least_as_strictly(prior) if _tier_rank[prior.risk_tier] >= _tier_rank[tier]

# METADATA
# title: Approval was not rejected
# description: No required approver rejected this version.
# custom:
#   code: APPROVAL_REJECTED
#   severity: critical
#   controls: ["SR 11-7 IV", "EU AI Act Art. 14"]
deny contains reason if {
	some role in object.get(stage_settings, "approver_roles", [])
	some approval in _approvals_for(role)
	approval.status == "rejected"
	msg := sprintf("%s (%s) rejected v%s", [approval.approver, role, input.model.version])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "approvals"})
}

# METADATA
# title: Human approval is given
# description: |
#   Each approver role the tier requires has approved this version; nobody who asked for a
#   decision on it can approve it. Until then the gate holds.
# custom:
#   code: APPROVAL_PENDING
#   severity: medium
#   controls: ["SR 11-7 IV", "EU AI Act Art. 14"]
hold contains reason if {
	some role in object.get(stage_settings, "approver_roles", [])
	not _is_approved_by(role)
	msg := sprintf("v%s to %s awaits approval by a %s (%s)", [input.model.version, stage, role, _approval_state(role)])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "approvals"})
}

# An approval counts for the artifact it was given for, and never when its approver asked for a
# decision on this version (now or before).
_approvals_for(role) := [a |
	some a in object.get(input, "approvals", [])
	a.role == role
	a.version == input.model.version
	a.artifact_digest == input.model.artifact_digest
	not a.approver in _requesters
]

_is_approved_by(role) if "approved" in {a.status | some a in _approvals_for(role)}

_approval_state(role) := "pending" if {
	"pending" in {a.status | some a in _approvals_for(role)}
} else := "none requested"
