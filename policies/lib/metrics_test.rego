package mlgate.lib.metrics_test

import data.mlgate.lib.metrics

# MLflow MetricThreshold semantics, case by case: [candidate, baseline, spec, passes].
test_absolute_change[note] := passed if {
	some note, case in {
		"higher is better, improved enough": [0.95, 0.93, {"min_absolute_change": 0.01}, true],
		"higher is better, not enough": [0.935, 0.93, {"min_absolute_change": 0.01}, false],
		"lower is better, improved enough": [25, 30, {"greater_is_better": false, "min_absolute_change": 5}, true],
		"lower is better, not enough": [27, 30, {"greater_is_better": false, "min_absolute_change": 5}, false],
		"tolerated drop": [0.928, 0.93, {"min_absolute_change": -0.005}, true],
	}
	[candidate, baseline, spec, expected] := case
	passed := _absolute_holds(candidate, baseline, spec) == expected
}

test_relative_change[note] := passed if {
	some note, case in {
		"higher is better, 2% up": [102, 100, {"min_relative_change": 0.02}, true],
		"higher is better, 1% up": [101, 100, {"min_relative_change": 0.02}, false],
		"lower is better, 10% down": [27, 30, {"greater_is_better": false, "min_relative_change": 0.1}, true],
		"lower is better, 5% down": [28.5, 30, {"greater_is_better": false, "min_relative_change": 0.1}, false],
		"baseline zero never passes": [1, 0, {"min_relative_change": -1}, false],
	}
	[candidate, baseline, spec, expected] := case
	passed := _relative_holds(candidate, baseline, spec) == expected
}

test_group_gap_is_spread_across_groups if {
	abs(metrics.group_gap({"a": {"tpr": 0.6}, "b": {"tpr": 0.7}, "c": {"fpr": 0.1}}, "tpr") - 0.1) < 0.000001
}

test_group_gap_undefined_without_values if {
	not metrics.group_gap({"a": {"fpr": 0.1}}, "tpr")
}

# A check that does not hold is undefined, not false: `else` makes it false, so that every
# case has a value (an undefined case would vanish from the table instead of failing).
_absolute_holds(candidate, baseline, spec) if {
	metrics.meets_absolute_change(candidate, baseline, spec)
} else := false

_relative_holds(candidate, baseline, spec) if {
	metrics.meets_relative_change(candidate, baseline, spec)
} else := false
