package mlgate.monitoring_test

import data.mlgate.monitoring

# One warm-up interval and five judged ones: as many as statistics.min_intervals.
compared := run([good, good, good, good, good, good])

with_comparisons(doc, comparisons) := object.union(doc, {"comparisons": comparisons})

comparison(metric, classification) := {
	"metric": metric,
	"source": "operational",
	"critical": false,
	"classification": classification,
	"canary": {"n": 5, "mean": 180},
	"baseline": {"n": 5, "mean": 120},
	"p_value": 0.004,
	"effect_size": 1.5,
	"confidence": 0.95,
}

critical(metric, classification) := object.union(comparison(metric, classification), {"critical": true})

test_a_critical_metric_deviating_rolls_back if {
	decide(with_comparisons(compared, [critical("latency_p99_ms", "high")])) == {
		"outcome": "rollback",
		"reasons": [{
			"rule": "Critical metrics match the baseline",
			"code": "MONITORING_CRITICAL_METRIC",
			"severity": "critical",
			"message": "critical metric latency_p99_ms is high against the baseline: canary mean 180 against 120 (n=5, 5), effect size 1.5, p-value 0.004 at confidence 0.95; the allowed increase is 1.2",
			"metric": "latency_p99_ms",
			"actual": 1.5,
			"threshold": 1.2,
			"field": "comparisons",
			"controls": ["SR 11-7 IV", "NIST AI RMF MEASURE 2.4"],
		}],
		"warnings": [],
	}
}

# Critical by the comparison or by the settings; a deviation counts in its harmful direction.
test_critical_metrics_fail_in_their_harmful_direction[note] := passed if {
	some note, case in {
		"high, harmful increase": [critical("latency_p99_ms", "high"), "rollback"],
		"low, harmful increase": [critical("latency_p99_ms", "low"), "allow"],
		"critical by the settings": [comparison("error_rate", "high"), "rollback"],
		"critical by the comparison, either way": [critical("cpu_seconds", "low"), "rollback"],
		"low, harmful decrease": [object.union(critical("throughput_rps", "low"), {"direction": "decrease"}), "rollback"],
		"high, harmful decrease": [object.union(critical("throughput_rps", "high"), {"direction": "decrease"}), "allow"],
		"pass": [critical("latency_p99_ms", "pass"), "allow"],
		"no data": [critical("latency_p99_ms", "nodata"), "allow"],
	}
	[c, outcome] := case
	passed := decide(with_comparisons(compared, [c])).outcome == outcome
}

test_a_low_critical_metric_quotes_the_allowed_decrease if {
	[r] := decide(with_comparisons(compared, [object.union(critical("cpu_seconds", "low"), {"p_value": null, "effect_size": null})])).reasons
	r.message == "critical metric cpu_seconds is low against the baseline: canary mean 180 against 120 (n=5, 5), effect size n/a, p-value n/a at confidence 0.95; the allowed decrease is 1"
	[r.actual, r.threshold] == [null, 1]
}

# Below statistics.min_intervals judged intervals the comparisons say nothing.
test_comparisons_count_from_min_intervals[note] := passed if {
	some note, case in {
		"at min_intervals": [6, "rollback"],
		"just under": [5, "allow"],
		"just over": [7, "rollback"],
	}
	[snapshots, outcome] := case
	doc := with_comparisons(run([good | some _ in numbers.range(1, snapshots)]), [critical("latency_p99_ms", "high")])
	passed := decide(doc).outcome == outcome
}

# Kayenta's score over the non-critical metrics: 100 x passing / classified. Four metrics,
# three passing (75) or two (50), against pass and marginal scores at, just under and just
# over the score.
test_the_score_passes_at_pass_score_and_holds_from_marginal_score[note] := passed if {
	some note, case in {
		"75 at pass_score 75": [3, 75, 50, "allow"],
		"75 just under pass_score 75.5": [3, 75.5, 50, "hold"],
		"75 just over pass_score 74.5": [3, 74.5, 50, "allow"],
		"50 at marginal_score 50": [2, 75, 50, "hold"],
		"50 just under marginal_score 50.5": [2, 75, 50.5, "rollback"],
		"50 just over marginal_score 49.5": [2, 75, 49.5, "hold"],
	}
	[passing, pass_score, marginal_score, outcome] := case
	scores := json.patch(config, [
		{"op": "replace", "path": "/monitoring/statistics/pass_score", "value": pass_score},
		{"op": "replace", "path": "/monitoring/statistics/marginal_score", "value": marginal_score},
	])
	result := monitoring.decision with input as with_comparisons(compared, four_scored(passing)) with data.mlgate.config as scores
	passed := result.outcome == outcome
}

# Four non-critical metrics, the first `passing` of them classified pass, the rest high.
four_scored(passing) := [comparison(name, classification) |
	some i, name in ["throughput_rps", "cpu_seconds", "memory_mb", "queue_depth"]
	classification := _classified(i < passing)
]

_classified(true) := "pass"

_classified(false) := "high"

test_score_reasons_quote_the_score_and_the_failing_metrics[note] := passed if {
	some note, case in {
		"marginal": [3, {
			"rule": "Canary score reaches the pass score",
			"code": "MONITORING_SCORE_MARGINAL",
			"severity": "medium",
			"message": "canary score 75 (3 of 4 non-critical metrics pass; queue_depth high) is below the pass score 95 (marginal from 75)",
			"field": "comparisons",
			"actual": 75,
			"threshold": 95,
			"controls": ["SR 11-7 IV", "NIST AI RMF MEASURE 2.4"],
		}],
		"failed": [1, {
			"rule": "Canary score reaches the marginal score",
			"code": "MONITORING_SCORE_FAILED",
			"severity": "high",
			"message": "canary score 25 (1 of 4 non-critical metrics pass; cpu_seconds high, memory_mb high, queue_depth high) is below the marginal score 75",
			"field": "comparisons",
			"actual": 25,
			"threshold": 75,
			"controls": ["SR 11-7 IV", "NIST AI RMF MEASURE 2.4"],
		}],
	}
	[passing, reason] := case
	passed := decide(with_comparisons(compared, four_scored(passing))).reasons == [reason]
}

# Metrics without data are left out of the score; critical ones are not in it at all.
test_the_score_leaves_out_metrics_without_data_and_critical_ones if {
	comparisons := array.concat(
		[comparison("throughput_rps", "pass"), comparison("cpu_seconds", "nodata")],
		[critical("latency_p99_ms", "low"), comparison("memory_mb", "low")],
	)
	low_harmless := object.union(comparisons[3], {"direction": "increase"})
	decide(with_comparisons(compared, [comparisons[0], comparisons[1], comparisons[2], low_harmless])).outcome == "allow"
}

test_a_metric_that_must_have_data_holds_without_it if {
	doc := with_comparisons(compared, [object.union(comparison("queue_depth", "nodata"), {"must_have_data": true, "canary": {"n": 0}})])
	decide(doc) == {
		"outcome": "hold",
		"reasons": [{
			"rule": "Metrics that must have data have it",
			"code": "MONITORING_METRIC_NO_DATA",
			"severity": "medium",
			"message": "queue_depth has no data to compare (canary n=0, baseline n=5), and it must have data",
			"metric": "queue_depth",
			"field": "comparisons",
			"controls": ["SR 11-7 IV", "NIST AI RMF MEASURE 2.4"],
		}],
		"warnings": [],
	}
}

test_must_have_data_can_come_from_the_settings if {
	must := json.patch(config, [{"op": "add", "path": "/monitoring/statistics/metrics/queue_depth", "value": {"source": "operational", "direction": "increase", "must_have_data": true}}])
	result := monitoring.decision with input as with_comparisons(compared, [comparison("queue_depth", "nodata")]) with data.mlgate.config as must
	[r.code | some r in result.reasons] == ["MONITORING_METRIC_NO_DATA"]
}

# Statistics only add reasons: passing comparisons do not lift a hold.
test_passing_comparisons_never_turn_a_hold_into_an_allow if {
	doc := with_comparisons(run([good, good, good, good, failing, good]), four_scored(4))
	result := decide(doc)
	[result.outcome, [r.code | some r in result.reasons]] == ["hold", ["MONITORING_NEEDS_SUCCESSES"]]
}
