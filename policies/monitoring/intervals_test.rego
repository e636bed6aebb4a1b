package mlgate.monitoring_test

# Each judged interval is exactly one kind, in this order: error, inconclusive, failed,
# successful. An interval that is both an error and failed counts once, as an error.
test_each_interval_is_exactly_one_kind[note] := passed if {
	some note, case in {
		"an error with too few samples and a broken ceiling": [
			object.union(failing, {"error": "scrape failed", "sample_count": 40}),
			["hold", {["MONITORING_CONSECUTIVE_ERRORS", 1, 1]}],
		],
		"too few samples and a broken ceiling": [
			object.union(failing, {"sample_count": 40}),
			["hold", {["MONITORING_INCONCLUSIVE_LIMIT", 1, 0]}],
		],
		"a broken ceiling": [failing, failed_once("MONITORING_ABOVE_CEILING", 0.031, 0.02)],
		"nothing wrong": [good, allowed],
	}
	[body, expected] := case
	passed := judged_once({"ceilings": {"error_rate": 0.02}, "min_samples": 100, "required_metrics": ["error_rate"]}, body) == expected
}

# Only the intervals after the warm-up are counted, and the reasons name them by their place
# in input.snapshots.
test_intervals_are_counted_after_the_warm_up_and_named_by_their_place if {
	result := decided_under(pinned({"warmup_intervals": 2, "ceilings": {"error_rate": 0.02}}), run([failing, failing, good, failing]))
	{[r.code, r.actual, object.get(r, "field", null)] | some r in result.reasons} == {
		["MONITORING_FAILURE_LIMIT", 1, "snapshots"],
		["MONITORING_ABOVE_CEILING", 0.031, "snapshots[3].operational.error_rate"],
	}
}

# Every limit an interval breaks is named, each once.
test_every_broken_limit_of_a_failed_interval_is_named if {
	body := object.union(failing, {"operational": {"latency_p99_ms": 300}, "quality": {"metrics": {"auc": 0.7}}})
	thresholds := {"ceilings": {"error_rate": 0.02, "latency_p99_ms": 250}, "floors": {"auc": 0.8}}
	verdict(decided_under(pinned(thresholds), run([body]))) == ["rollback", {
		["MONITORING_FAILURE_LIMIT", 1, 0],
		["MONITORING_ABOVE_CEILING", 0.031, 0.02],
		["MONITORING_ABOVE_CEILING", 300, 250],
		["MONITORING_BELOW_FLOOR", 0.7, 0.8],
	}]
}
