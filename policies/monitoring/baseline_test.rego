package mlgate.monitoring_test

# Absolute change against the baseline passes at its threshold, in both directions, with a
# required gain and with a tolerated drop. Values 1/128 either side.
# A case: [metric, greater_is_better, min_absolute_change, baseline, canary, threshold, fails].
test_absolute_change_against_the_baseline_passes_at_its_threshold[note] := passed if {
	some note, case in {
		"higher is better, at baseline + 0.25": ["success_rate", true, 0.25, 0.5, 0.75, 0.75, false],
		"higher is better, just under": ["success_rate", true, 0.25, 0.5, 0.7421875, 0.75, true],
		"higher is better, just over": ["success_rate", true, 0.25, 0.5, 0.7578125, 0.75, false],
		"tolerated drop, at baseline - 0.25": ["success_rate", true, -0.25, 0.75, 0.5, 0.5, false],
		"tolerated drop, just under": ["success_rate", true, -0.25, 0.75, 0.4921875, 0.5, true],
		"tolerated drop, just over": ["success_rate", true, -0.25, 0.75, 0.5078125, 0.5, false],
		"lower is better, at baseline - 4": ["latency_p99_ms", false, 4, 32, 28, 28, false],
		"lower is better, just under": ["latency_p99_ms", false, 4, 32, 27.9921875, 28, false],
		"lower is better, just over": ["latency_p99_ms", false, 4, 32, 28.0078125, 28, true],
		"tolerated rise, at baseline + 4": ["latency_p99_ms", false, -4, 32, 36, 36, false],
		"tolerated rise, just under": ["latency_p99_ms", false, -4, 32, 35.9921875, 36, false],
		"tolerated rise, just over": ["latency_p99_ms", false, -4, 32, 36.0078125, 36, true],
	}
	[metric, greater_is_better, change, baseline, canary, threshold, fails] := case
	spec := {"greater_is_better": greater_is_better, "min_absolute_change": change}
	passed := versus_verdict(metric, spec, baseline, canary) == expected_versus(fails, "MONITORING_BASELINE_REGRESSION_ABSOLUTE", canary, threshold)
}

# Relative change passes at the threshold: (c - b) / |b| (or (b - c) / |b| when lower is
# better) equal to min_relative_change; against a baseline of 0, MLflow's margin of 1e-10.
# A case: [metric, greater_is_better, min_relative_change, baseline, canary, threshold, fails].
test_relative_change_against_the_baseline_passes_at_its_threshold[note] := passed if {
	some note, case in {
		"higher is better, at +50%": ["success_rate", true, 0.5, 0.5, 0.75, 0.75, false],
		"higher is better, just under": ["success_rate", true, 0.5, 0.5, 0.7421875, 0.75, true],
		"higher is better, just over": ["success_rate", true, 0.5, 0.5, 0.7578125, 0.75, false],
		"tolerated drop, at -50%": ["success_rate", true, -0.5, 0.5, 0.25, 0.25, false],
		"tolerated drop, just under": ["success_rate", true, -0.5, 0.5, 0.2421875, 0.25, true],
		"tolerated drop, just over": ["success_rate", true, -0.5, 0.5, 0.2578125, 0.25, false],
		"lower is better, at -12.5%": ["latency_p99_ms", false, 0.125, 32, 28, 28, false],
		"lower is better, just under": ["latency_p99_ms", false, 0.125, 32, 27.9921875, 28, false],
		"lower is better, just over": ["latency_p99_ms", false, 0.125, 32, 28.0078125, 28, true],
		"tolerated rise, at +12.5%": ["latency_p99_ms", false, -0.125, 32, 36, 36, false],
		"tolerated rise, just under": ["latency_p99_ms", false, -0.125, 32, 35.9921875, 36, false],
		"tolerated rise, just over": ["latency_p99_ms", false, -0.125, 32, 36.0078125, 36, true],
		"baseline 0, higher is better, at 1e-10": ["success_rate", true, 0, 0, 1e-10, 1e-10, false],
		"baseline 0, higher is better, just under": ["success_rate", true, 0, 0, 5e-11, 1e-10, true],
		"baseline 0, higher is better, just over": ["success_rate", true, 0, 0, 2e-10, 1e-10, false],
		"baseline 0, lower is better, at -1e-10": ["latency_p99_ms", false, 0, 0, -1e-10, -1e-10, false],
		"baseline 0, lower is better, just under": ["latency_p99_ms", false, 0, 0, -2e-10, -1e-10, false],
		"baseline 0, lower is better, just over": ["latency_p99_ms", false, 0, 0, -5e-11, -1e-10, true],
	}
	[metric, greater_is_better, change, baseline, canary, threshold, fails] := case
	spec := {"greater_is_better": greater_is_better, "min_relative_change": change}
	passed := versus_verdict(metric, spec, baseline, canary) == expected_versus(fails, "MONITORING_BASELINE_REGRESSION_RELATIVE", canary, threshold)
}

# The verdict on one interval's canary value against its baseline's under one spec.
versus_verdict(metric, spec, baseline, canary) := judged_once({"versus_baseline": {metric: spec}}, object.union(bare, {
	"operational": {metric: canary},
	"baseline": {"version": "6", "operational": {metric: baseline}},
}))

expected_versus(false, _, _, _) := allowed

expected_versus(true, code, actual, threshold) := failed_once(code, actual, threshold)

# The baseline's quality figures count too, as the canary's do.
test_quality_metrics_compare_with_the_baselines_quality if {
	body := object.union(bare, {
		"quality": {"metrics": {"auc": 0.85}},
		"baseline": {"version": "6", "quality": {"metrics": {"auc": 0.9}}},
	})
	judged_once({"versus_baseline": {"auc": {"greater_is_better": true, "min_absolute_change": -0.01}}}, body) == failed_once("MONITORING_BASELINE_REGRESSION_ABSOLUTE", 0.85, 0.89)
}

# A metric the interval does not report for the canary is not compared (nor an error).
test_a_metric_the_canary_does_not_report_is_not_compared if {
	judged_once({"versus_baseline": {"auc": {"greater_is_better": true, "min_absolute_change": 0}}}, bare) == allowed
}

test_regressions_against_the_baseline_quote_both_values if {
	body := object.union(bare, {
		"operational": {"latency_p99_ms": 150, "error_rate": 0.03},
		"baseline": {"version": "6", "operational": {"latency_p99_ms": 120, "error_rate": 0.01}},
	})
	versus := {
		"latency_p99_ms": {"greater_is_better": false, "min_relative_change": -0.2},
		"error_rate": {"greater_is_better": false, "min_absolute_change": -0.01},
	}
	result := decided_under(pinned({"versus_baseline": versus}), run([body]))
	{r | some r in result.reasons; r.code != "MONITORING_FAILURE_LIMIT"} == {
		{
			"rule": "No regression against the baseline (relative)",
			"code": "MONITORING_BASELINE_REGRESSION_RELATIVE",
			"severity": "high",
			"message": concat("", [
				"latency_p99_ms 150 in 14:25-14:30 against the baseline v6's 120: the relative change -25% misses ",
				"min_relative_change -20%, so it needs at most 144 ",
				"(a negative minimum is mlgate's tolerated drop; MLflow takes only positive ones); 1 of 1 intervals failed, budget 0",
			]),
			"metric": "latency_p99_ms",
			"actual": 150,
			"threshold": 144,
			"baseline": 120,
			"relative_change": -0.25,
			"field": "snapshots[0].operational.latency_p99_ms",
			"controls": ["SR 11-7 IV", "NIST AI RMF MEASURE 2.13"],
		},
		{
			"rule": "No regression against the baseline (absolute)",
			"code": "MONITORING_BASELINE_REGRESSION_ABSOLUTE",
			"severity": "high",
			"message": concat("", [
				"error_rate 0.03 in 14:25-14:30 against the baseline v6's 0.01: the change 0.02 misses min_absolute_change -0.01, ",
				"so it needs at most 0.02 ",
				"(a negative minimum is mlgate's tolerated drop; MLflow takes only positive ones); 1 of 1 intervals failed, budget 0",
			]),
			"metric": "error_rate",
			"actual": 0.03,
			"threshold": 0.02,
			"baseline": 0.01,
			"field": "snapshots[0].operational.error_rate",
			"controls": ["SR 11-7 IV", "NIST AI RMF MEASURE 2.13"],
		},
	}
}

test_a_regression_against_a_zero_baseline_names_mlflows_fallback if {
	body := object.union(bare, {
		"operational": {"latency_p99_ms": 3},
		"baseline": {"version": "6", "operational": {"latency_p99_ms": 0}},
	})
	result := decided_under(pinned({"versus_baseline": {"latency_p99_ms": {"greater_is_better": false, "min_relative_change": 0.1}}}), run([body]))
	some r in result.reasons
	r.code == "MONITORING_BASELINE_REGRESSION_RELATIVE"
	r.message == concat("", [
		"latency_p99_ms 3 in 14:25-14:30 against the baseline v6's 0: no relative change against a baseline of 0: ",
		"MLflow's fallback asks for better by 1e-10, so it needs at most -1e-10; 1 of 1 intervals failed, budget 0",
	])
	not "relative_change" in object.keys(r)
}
