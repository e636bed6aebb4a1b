# Offline metrics of the candidate: required metrics are reported, floors and ceilings are met.
package mlgate.promotion

import data.mlgate.lib.metrics
import data.mlgate.lib.reasons

# This file is loaded (promotion.rego checks that every file of the package is).
files contains "metrics"

# METADATA
# title: Required metrics are reported
# description: |
#   Every metric with a floor, a ceiling or a regression check is in the evaluation, and so is
#   every metric with a first-deployment floor or ceiling when the promotion is a first deployment.
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

_required_metrics contains name if {
	data.mlgate.promotion._is_first_deployment
	some limits in ["floors", "ceilings"]
	some name, _ in object.get(stage_settings, ["first_deployment", limits], {})
}

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
