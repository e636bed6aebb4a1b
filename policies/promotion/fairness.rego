# Fairness across the groups of each protected attribute the model card declares.
package mlgate.promotion

import data.mlgate.lib.metrics
import data.mlgate.lib.reasons

# This file is loaded (promotion.rego checks that every file of the package is).
files contains "fairness"

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
