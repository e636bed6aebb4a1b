# Regression against the champion (the baseline): MLflow MetricThreshold's absolute and
# relative checks.
package mlgate.promotion

import data.mlgate.lib.metrics
import data.mlgate.lib.reasons

# This file is loaded (promotion.rego checks that every file of the package is).
files contains "regression"

# METADATA
# title: Champion baseline is present
# description: |
#   Promotion to this stage compares against the current champion, so its metrics are needed.
#   A first deployment (no champion on record) to a stage with first_deployment settings is
#   decided by those instead (first_deployment.rego).
# custom:
#   code: BASELINE_MISSING
#   severity: high
#   controls: ["SR 11-7 III.B", "NIST AI RMF MEASURE 2.13"]
deny contains reason if {
	object.get(stage_settings, "baseline_required", false)
	not input.baseline
	not data.mlgate.promotion._is_first_deployment
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
#   when_present: [baseline]
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
#   when_present: [baseline]
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
#   when_present: [baseline]
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
