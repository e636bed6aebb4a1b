# Fairness across the groups of each protected attribute the model card declares.
package mlgate.promotion

import data.mlgate.lib.metrics
import data.mlgate.lib.reasons

# This file is loaded (promotion.rego checks that every file of the package is).
files contains "fairness"

# The fairness metrics of this tier and stage: metric -> {max_gap}. A tier's `fairness` holds
# at every stage; a stage's `fairness` adds its own metrics (or another max_gap for one).
fairness_limits := object.union(object.get(settings, "fairness", {}), object.get(stage_settings, "fairness", {}))

# METADATA
# title: Per-group metrics for protected attributes
# description: |
#   Every protected attribute the card declares has per-group metrics in the evaluation:
#   every group listed reports each fairness metric of the tier and stage, and at least two
#   groups do (a gap needs two). A group left out of a metric cannot hide a gap.
# custom:
#   code: FAIRNESS_EVIDENCE_MISSING
#   severity: high
#   controls: ["EU AI Act Art. 10(2)(f)", "NIST AI RMF MEASURE 2.11"]
deny contains reason if {
	some attribute in _fairness_attributes
	some metric, _ in fairness_limits
	some group in metrics.groups_missing(_groups(attribute), metric)
	field := sprintf("metrics.by_group.%s.%s.%s", [attribute, group, metric])
	msg := sprintf("group %s of protected attribute %s reports no %s (%s)", [group, attribute, metric, field])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": field, "metric": metric})
}

# METADATA
# title: Per-group metrics for protected attributes
# description: At least two groups of each protected attribute report each fairness metric.
# custom:
#   code: FAIRNESS_GROUPS_TOO_FEW
#   severity: high
#   controls: ["EU AI Act Art. 10(2)(f)", "NIST AI RMF MEASURE 2.11"]
deny contains reason if {
	some attribute in _fairness_attributes
	some metric, _ in fairness_limits
	reporting := metrics.groups_reporting(_groups(attribute), metric)
	reporting < 2
	msg := sprintf(
		"protected attribute %s has %d group(s) reporting %s in metrics.by_group.%s; a gap needs at least two",
		[attribute, reporting, metric, attribute],
	)
	field := sprintf("metrics.by_group.%s", [attribute])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": field, "metric": metric})
}

_fairness_attributes contains attribute if {
	count(fairness_limits) > 0
	some attribute in input.model_card.protected_attributes
}

_groups(attribute) := object.get(input.metrics, ["by_group", attribute], {})

# METADATA
# title: Fairness gap within limit
# description: For each protected attribute and fairness metric, the spread of the metric across groups is within the tier and stage's limit.
# custom:
#   code: FAIRNESS_GAP_EXCEEDED
#   severity: high
#   controls: ["EU AI Act Art. 10(2)(f)", "NIST AI RMF MEASURE 2.11"]
deny contains reason if {
	some attribute in _fairness_attributes
	some metric, limit in fairness_limits
	gap := metrics.group_gap(_groups(attribute), metric)
	gap > limit.max_gap
	msg := sprintf("%s gap across %s groups is %v, above the %s limit %v", [metric, attribute, metrics.for_people(gap), _label, limit.max_gap])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"metric": metric, "field": sprintf("metrics.by_group.%s", [attribute]), "actual": gap, "threshold": limit.max_gap})
}
