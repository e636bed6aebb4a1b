package mlgate.monitoring_test

# A floor passes at its value: floor 0.5, and values 1/128 either side (exact in binary).
test_a_floor_passes_at_its_value[note] := passed if {
	some note, case in {
		"at the floor": [0.5, allowed],
		"just under": [0.4921875, failed_once("MONITORING_BELOW_FLOOR", 0.4921875, 0.5)],
		"just over": [0.5078125, allowed],
	}
	[auc, expected] := case
	passed := judged_once({"floors": {"auc": 0.5}}, object.union(bare, {"quality": {"metrics": {"auc": auc}}})) == expected
}

# A ceiling passes at its value: ceiling 0.25, and values 1/128 either side.
test_a_ceiling_passes_at_its_value[note] := passed if {
	some note, case in {
		"at the ceiling": [0.25, allowed],
		"just under": [0.2421875, allowed],
		"just over": [0.2578125, failed_once("MONITORING_ABOVE_CEILING", 0.2578125, 0.25)],
	}
	[rate, expected] := case
	passed := judged_once({"ceilings": {"error_rate": 0.25}}, object.union(bare, {"operational": {"error_rate": rate}})) == expected
}

# A range includes both ends: [0.25, 0.75], and values 1/128 either side of each.
test_a_range_includes_both_ends[note] := passed if {
	some note, case in {
		"at the low end": [0.25, allowed],
		"just under the low end": [0.2421875, failed_once("MONITORING_OUT_OF_RANGE", 0.2421875, 0.25)],
		"just over the low end": [0.2578125, allowed],
		"at the high end": [0.75, allowed],
		"just under the high end": [0.7421875, allowed],
		"just over the high end": [0.7578125, failed_once("MONITORING_OUT_OF_RANGE", 0.7578125, 0.75)],
	}
	[share, expected] := case
	passed := judged_once({"ranges": {"approval_share": [0.25, 0.75]}}, object.union(bare, {"operational": {"approval_share": share}})) == expected
}

# Serving figures first: a name reported in both places is judged by its operational value.
test_a_metric_is_looked_up_in_operational_first if {
	body := object.union(bare, {"operational": {"auc": 0.95}, "quality": {"metrics": {"auc": 0.5}}})
	judged_once({"floors": {"auc": 0.9}}, body) == allowed
}

test_broken_limits_name_the_metric_the_interval_and_the_budget if {
	body := object.union(bare, {"quality": {"metrics": {"auc": 0.8}}, "operational": {"approval_share": 0.9}})
	result := decided_under(pinned({"floors": {"auc": 0.85}, "ranges": {"approval_share": [0.2, 0.6]}}), run([body]))
	result.outcome == "rollback"
	{r | some r in result.reasons; r.code != "MONITORING_FAILURE_LIMIT"} == {
		{
			"rule": "Metric floors are met",
			"code": "MONITORING_BELOW_FLOOR",
			"severity": "high",
			"message": "auc 0.8 in 14:25-14:30 is below the canary floor 0.85; 1 of 1 intervals failed, budget 0",
			"metric": "auc",
			"actual": 0.8,
			"threshold": 0.85,
			"field": "snapshots[0].quality.metrics.auc",
			"controls": ["NIST AI RMF MEASURE 2.4", "SR 11-7 IV"],
		},
		{
			"rule": "Metrics stay in range",
			"code": "MONITORING_OUT_OF_RANGE",
			"severity": "high",
			"message": "approval_share 0.9 in 14:25-14:30 is outside the canary range [0.2, 0.6]; 1 of 1 intervals failed, budget 0",
			"metric": "approval_share",
			"actual": 0.9,
			"threshold": 0.6,
			"field": "snapshots[0].operational.approval_share",
			"controls": ["NIST AI RMF MEASURE 2.4", "SR 11-7 IV"],
		},
	}
}

# Within the budget a failed interval names nothing: the allow has no reasons to carry.
test_a_failed_interval_within_the_budget_gives_no_reason_but_a_warning if {
	result := decided_under(pinned({"failure_limit": 1, "ceilings": {"error_rate": 0.02}}), run([failing, good]))
	[result.outcome, result.reasons] == ["allow", []]
	[w.code | some w in result.warnings] == ["MONITORING_FAILURES_TOLERATED"]
}

# A threshold on a metric no judged interval reports (a misspelt name) is said on the decision.
test_a_threshold_on_a_metric_never_reported_is_a_warning if {
	result := decided_under(pinned({"ceilings": {"eror_rate": 0.02}}), run([good]))
	result.outcome == "allow"
	[warning] := result.warnings
	warning.code == "MONITORING_THRESHOLD_UNUSED"
	warning.field == "ceilings.eror_rate"
	startswith(warning.message, "ceilings.eror_rate names a metric no judged interval reports")
}

test_a_threshold_on_a_reported_metric_gives_no_warning if {
	result := decided_under(pinned({"ceilings": {"error_rate": 0.02}}), run([good]))
	result.warnings == []
}
