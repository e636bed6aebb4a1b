package mlgate.lib.metrics_test

import data.mlgate.lib.metrics

# MLflow MetricThreshold formulas, case by case: [candidate, baseline, spec, passes].
test_absolute_change[note] := passed if {
	some note, case in {
		"higher is better, improved enough": [0.95, 0.93, {"min_absolute_change": 0.01}, true],
		"higher is better, not enough": [0.935, 0.93, {"min_absolute_change": 0.01}, false],
		"higher is better, exactly at the threshold": [0.94, 0.93, {"min_absolute_change": 0.01}, true],
		"lower is better, improved enough": [25, 30, {"greater_is_better": false, "min_absolute_change": 5}, true],
		"lower is better, not enough": [27, 30, {"greater_is_better": false, "min_absolute_change": 5}, false],
		"tolerated drop (mlgate extension)": [0.928, 0.93, {"min_absolute_change": -0.005}, true],
		"drop beyond the tolerance": [0.92, 0.93, {"min_absolute_change": -0.005}, false],
		"negative baseline, better": [-0.30, -0.35, {"min_absolute_change": 0.01}, true],
		"negative baseline, worse": [-0.40, -0.35, {"min_absolute_change": 0.01}, false],
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
		"negative baseline, worse candidate": [-0.40, -0.35, {"min_relative_change": 0}, false],
		"negative baseline, better candidate": [-0.30, -0.35, {"min_relative_change": 0}, true],
		"negative baseline, lower is better, worse": [-0.30, -0.35, {"greater_is_better": false, "min_relative_change": 0}, false],
		"negative baseline, lower is better, better": [-0.40, -0.35, {"greater_is_better": false, "min_relative_change": 0}, true],
		"tolerated 10% rise in latency (mlgate extension)": [33, 30, {"greater_is_better": false, "min_relative_change": -0.1}, true],
		"baseline 0, candidate better by 1e-10": [1e-10, 0, {"min_relative_change": 0.5}, true],
		"baseline 0, candidate better by less": [1e-11, 0, {"min_relative_change": 0}, false],
		"baseline 0, candidate equal": [0, 0, {"min_relative_change": 0}, false],
		"baseline 0, lower is better, candidate lower": [-1, 0, {"greater_is_better": false, "min_relative_change": 0.1}, true],
		"baseline 0, lower is better, candidate higher": [1, 0, {"greater_is_better": false, "min_relative_change": 0.1}, false],
	}
	[candidate, baseline, spec, expected] := case
	passed := _relative_holds(candidate, baseline, spec) == expected
}

test_thresholds_are_in_the_metrics_unit[note] := passed if {
	some note, case in {
		"absolute, higher is better": [metrics.absolute_change_threshold(0.93, {"min_absolute_change": 0.01}), 0.94],
		"absolute, lower is better": [metrics.absolute_change_threshold(30, {"greater_is_better": false, "min_absolute_change": -2}), 32],
		"relative, lower is better": [metrics.relative_change_threshold(30, {"greater_is_better": false, "min_relative_change": -0.1}), 33],
		"relative, negative baseline": [metrics.relative_change_threshold(-0.5, {"min_relative_change": 0.1}), -0.45],
		"relative, baseline 0": [metrics.relative_change_threshold(0, {"min_relative_change": 0.1}), 1e-10],
		"relative, baseline 0, lower is better": [metrics.relative_change_threshold(0, {"greater_is_better": false, "min_relative_change": 0.1}), -1e-10],
	}
	[got, want] := case
	passed := got == want
}

test_group_gap_is_spread_across_groups if {
	abs(metrics.group_gap({"a": {"tpr": 0.6}, "b": {"tpr": 0.7}, "c": {"tpr": 0.65}}, "tpr") - 0.1) < 0.000001
}

test_group_gap_undefined_unless_every_group_reports_it[note] := passed if {
	some note, groups in {
		"one group missing": {"a": {"tpr": 0.6}, "b": {"tpr": 0.7}, "c": {"fpr": 0.1}},
		"one group only": {"a": {"tpr": 0.6}},
		"no groups": {},
		"text instead of a number": {"a": {"tpr": 0.6}, "b": {"tpr": "0.7"}},
	}
	passed := _has_no_gap(groups)
}

test_groups_missing_names_each_group if {
	metrics.groups_missing({"a": {"tpr": 0.6}, "b": {"fpr": 0.1}, "c": {"tpr": null}}, "tpr") == {"b", "c"}
}

test_numbers_for_people[note] := passed if {
	some note, case in {
		"four decimal places": [0.93571234, 0.9357],
		"whole number": [34, 34],
		"tiny stays exact": [1e-10, 1e-10],
		"negative": [-0.133333333, -0.1333],
	}
	[x, want] := case
	passed := metrics.for_people(x) == want
}

# A check that does not hold is undefined, not false: `else` makes it false, so that every
# case has a value (an undefined case would vanish from the table instead of failing).
_absolute_holds(candidate, baseline, spec) if {
	metrics.meets_absolute_change(candidate, baseline, spec)
} else := false

_relative_holds(candidate, baseline, spec) if {
	metrics.meets_relative_change(candidate, baseline, spec)
} else := false

_has_no_gap(groups) if {
	not metrics.group_gap(groups, "tpr")
} else := false
