package mlgate.monitoring_test

# An interval (body) of each kind: S successful, F failed, I inconclusive, E error.
kinds := {"S": good, "F": failing, "I": thin, "E": erroring}

# The outcome and reason codes of a run of kinds ("SFS") under the counting settings given,
# an error-rate ceiling of 0.02 and min_samples 100.
counted(stage_settings, letters) := [result.outcome, {r.code | some r in result.reasons}] if {
	thresholds := pinned(object.union({"ceilings": {"error_rate": 0.02}, "min_samples": 100, "required_metrics": ["error_rate"]}, stage_settings))
	result := decided_under(thresholds, run([kinds[letter] | some letter in split(letters, "")]))
}

over_failures := ["rollback", {"MONITORING_FAILURE_LIMIT", "MONITORING_ABOVE_CEILING"}]

needs_successes := ["hold", {"MONITORING_NEEDS_SUCCESSES"}]

# Argo's failureLimit: failed > limit rolls back; at the limit it does not.
test_failures_roll_back_only_over_the_budget[note] := passed if {
	some note, case in {
		"none failed, budget 0": [0, "S", allowed],
		"one failed, budget 0": [0, "F", over_failures],
		"one failed then a success, budget 1": [1, "FS", allowed],
		"two failed, budget 1": [1, "FFS", over_failures],
		"two apart, budget 2": [2, "FSFS", allowed],
		"three apart, budget 2": [2, "FSFSFS", over_failures],
		"the last failed within the budget": [1, "SF", needs_successes],
	}
	[limit, letters, expected] := case
	passed := counted({"failure_limit": limit}, letters) == expected
}

# Argo's inconclusiveLimit: inconclusive > limit holds.
test_inconclusive_intervals_hold_only_over_the_budget[note] := passed if {
	some note, case in {
		"one, budget 0": [0, "IS", ["hold", {"MONITORING_INCONCLUSIVE_LIMIT"}]],
		"one, budget 1": [1, "IS", allowed],
		"two, budget 1": [1, "ISIS", ["hold", {"MONITORING_INCONCLUSIVE_LIMIT"}]],
		"the last inconclusive within the budget": [1, "SI", needs_successes],
	}
	[limit, letters, expected] := case
	passed := counted({"inconclusive_limit": limit}, letters) == expected
}

# A trailing run of consecutive_error_limit errors ends in on_errors; errors before a success
# do not count (Argo resets its consecutive errors on a measurement that is not one).
test_a_run_of_errors_ends_in_on_errors[note] := passed if {
	some note, case in {
		"one error, limit 2": [{"consecutive_error_limit": 2}, "SE", needs_successes],
		"two errors, limit 2": [{"consecutive_error_limit": 2}, "SEE", ["hold", {"MONITORING_CONSECUTIVE_ERRORS"}]],
		"three errors, limit 2": [{"consecutive_error_limit": 2}, "SEEE", ["hold", {"MONITORING_CONSECUTIVE_ERRORS"}]],
		"two errors then a success": [{"consecutive_error_limit": 2}, "EES", allowed],
		"errors apart": [{"consecutive_error_limit": 2}, "ESE", needs_successes],
		"on_errors rollback": [{"consecutive_error_limit": 2, "on_errors": "rollback"}, "EE", ["rollback", {"MONITORING_CONSECUTIVE_ERRORS_ROLLBACK"}]],
	}
	[stage_settings, letters, expected] := case
	passed := counted(stage_settings, letters) == expected
}

# An error is never a success: a run of nothing but errors never allows, whatever the limits.
test_every_interval_an_error_never_allows[note] := passed if {
	some note, case in {
		"one error, limit 2": [{"consecutive_error_limit": 2}, "E"],
		"one error, limit 1": [{"consecutive_error_limit": 1}, "E"],
		"four errors, limit 100": [{"consecutive_error_limit": 100}, "EEEE"],
		"four errors, budgets wide open": [{"consecutive_error_limit": 100, "failure_limit": 100, "inconclusive_limit": 100}, "EEEE"],
		"consecutive_successes 0 is taken as 1": [{"consecutive_error_limit": 100, "consecutive_successes": 0}, "EEE"],
		"warm-up then errors": [{"consecutive_error_limit": 100, "warmup_intervals": 1}, "SEE"],
	}
	[stage_settings, letters] := case
	[outcome, _] := counted(stage_settings, letters)
	passed := outcome != "allow"
}

# Each way an interval is an error, alone: never an allow, and the cause is quoted.
test_every_kind_of_error_interval_never_allows[note] := passed if {
	some note, case in {
		"the monitor's error": [{}, erroring, "the monitor reported an error: prometheus query timed out"],
		"a required metric missing": [{}, json.remove(good, ["operational/error_rate"]), "error_rate is not reported"],
		"a required metric as text": [{}, json.patch(good, [{"op": "replace", "path": "/operational/error_rate", "value": "0.01"}]), "error_rate is not reported"],
		"zero expectations evaluated": [{}, json.patch(good, [{"op": "replace", "path": "/data_quality/expectations", "value": {"evaluated": 0, "failed": 0}}]), "0 expectations evaluated, fewer than min_expectations_evaluated 1: no evidence of the data's quality"],
		"no baseline value to compare": [{"versus_baseline": {"latency_p99_ms": {"greater_is_better": false, "min_relative_change": 0}}}, json.remove(good, ["baseline/operational/latency_p99_ms"]), "the baseline reports no latency_p99_ms to compare the canary's with"],
		"no verdict for a critical feature": [{"drift": {"critical_features": ["device"]}}, good, "critical feature device has no drift verdict"],
	}
	[stage_settings, body, cause] := case
	result := decided_under(pinned(object.union({"required_metrics": ["error_rate"]}, stage_settings)), run([body]))
	[r] := result.reasons
	passed := [result.outcome, r.code, r.message] == [
		"hold", "MONITORING_CONSECUTIVE_ERRORS",
		sprintf("the last 1 judged interval(s) ended in error (14:25-14:30: %s), at or over the canary consecutive_error_limit 1", [cause]),
	]
}

test_consecutive_errors_quote_each_intervals_cause if {
	no_latency := json.remove(good, ["operational/latency_p99_ms"])
	result := decide(run([good, good, erroring, no_latency]))
	result == {
		"outcome": "rollback",
		"reasons": [{
			"rule": "Intervals can be measured (rolled back)",
			"code": "MONITORING_CONSECUTIVE_ERRORS_ROLLBACK",
			"severity": "critical",
			"message": concat("", [
				"the last 2 judged interval(s) ended in error (14:20-14:25: the monitor reported an error: prometheus query timed out; ",
				"14:25-14:30: latency_p99_ms is not reported), at or over the canary consecutive_error_limit 2",
			]),
			"field": "snapshots",
			"actual": 2,
			"threshold": 2,
			"controls": ["NIST AI RMF MANAGE 2.4", "EU AI Act Art. 72"],
		}],
		"warnings": [],
	}
}

# A missing quality metric is usually one whose labels have not arrived: the reason says so.
test_a_missing_quality_metric_quotes_the_label_delay[note] := passed if {
	some note, case in {
		"labels delayed": [json.remove(good, ["quality/metrics/auc"]), "auc is not reported (a quality metric: labels arrive after 3600s; 410 predictions of the interval labelled)"],
		"no delay reported": [json.remove(good, ["quality/metrics/auc", "quality/label_delay_seconds"]), "auc is not reported (a quality metric: 410 predictions of the interval labelled)"],
	}
	[body, cause] := case
	[r] := decided_under(pinned({"required_metrics": ["auc"]}), run([good, body])).reasons
	passed := r.message == sprintf("the last 1 judged interval(s) ended in error (14:25-14:30: %s), at or over the canary consecutive_error_limit 1", [cause])
}

test_the_statistics_settings_name_quality_metrics_too if {
	thresholds := json.patch(pinned({"required_metrics": ["precision"]}), [{
		"op": "add", "path": "/monitoring/statistics/metrics",
		"value": {"precision": {"source": "quality", "direction": "decrease"}},
	}])
	[r] := decided_under(thresholds, run([good])).reasons
	r.message == concat("", [
		"the last 1 judged interval(s) ended in error (14:25-14:30: precision is not reported ",
		"(a quality metric: labels arrive after 3600s; 410 predictions of the interval labelled)), ",
		"at or over the canary consecutive_error_limit 1",
	])
}

# A quality metric nobody is required to report is not an error when its labels are late.
test_a_missing_quality_metric_is_no_error_unless_required if {
	no_auc := json.remove(good, ["quality/metrics/auc"])
	verdict(decided_under(pinned({"floors": {"auc": 0.9}}), run([no_auc]))) == allowed
}

test_failed_intervals_over_the_budget_are_each_named if {
	result := decide(run([good, failing, good, failing, good, good]))
	result.outcome == "rollback"
	{r | some r in result.reasons} == {
		{
			"rule": "Failures within the budget",
			"code": "MONITORING_FAILURE_LIMIT",
			"severity": "critical",
			"message": "2 of 5 judged intervals failed (14:05-14:10, 14:15-14:20), more than the canary failure_limit 1",
			"field": "snapshots",
			"actual": 2,
			"threshold": 1,
			"controls": ["NIST AI RMF MANAGE 2.4", "SR 11-7 IV"],
		},
		ceiling_broken("14:05-14:10", 1),
		ceiling_broken("14:15-14:20", 3),
	}
}

ceiling_broken(interval, index) := {
	"rule": "Metric ceilings are met",
	"code": "MONITORING_ABOVE_CEILING",
	"severity": "high",
	"message": sprintf("error_rate 0.031 in %s is above the canary ceiling 0.02; 2 of 5 intervals failed, budget 1", [interval]),
	"metric": "error_rate",
	"actual": 0.031,
	"threshold": 0.02,
	"field": sprintf("snapshots[%d].operational.error_rate", [index]),
	"controls": ["NIST AI RMF MEASURE 2.4", "SR 11-7 IV"],
}

# One failed interval within the budget, then the successes canary needs: healthy again.
test_a_canary_recovers_from_a_failure_within_the_budget if {
	result := decide(run([good, failing, good, good, good]))
	[result.outcome, result.reasons] == ["allow", []]
	[warning] := result.warnings
	warning.code == "MONITORING_FAILURES_TOLERATED"
	startswith(warning.message, "1 of 4 intervals failed, budget 1 (")
	endswith(warning.message, "): within the budget, so no rollback for them")
}

# The first warmup_intervals are not judged, whatever they report.
test_warm_up_intervals_are_not_judged[note] := passed if {
	some note, case in {
		"none reported": ["", ["hold", {"MONITORING_NO_DATA"}]],
		"two of three": ["SS", ["hold", {"MONITORING_WARMING_UP"}]],
		"three of three": ["SSS", ["hold", {"MONITORING_WARMING_UP"}]],
		"one after the warm-up": ["SSSS", allowed],
		"failed warm-up intervals": ["FFFS", allowed],
		"erroring warm-up intervals": ["EEES", allowed],
		"a failure after the warm-up": ["SSSF", over_failures],
	}
	[letters, expected] := case
	passed := counted({"warmup_intervals": 3}, letters) == expected
}

test_warming_up_says_how_far_it_is if {
	decide(run([good])) == {
		"outcome": "hold",
		"reasons": [{
			"rule": "Warm-up is over",
			"code": "MONITORING_WARMING_UP",
			"severity": "low",
			"message": "1 of 1 warm-up intervals reported; fraud-detector v7 is judged on the intervals after them",
			"field": "snapshots",
			"actual": 1,
			"threshold": 1,
			"controls": ["NIST AI RMF MEASURE 2.4", "SR 11-7 IV"],
		}],
		"warnings": [],
	}
}

# Argo's consecutiveSuccessLimit: the run must end in that many successful intervals.
test_the_run_must_end_in_consecutive_successes[note] := passed if {
	some note, case in {
		"two of three": ["SS", needs_successes],
		"three of three": ["SSS", allowed],
		"four": ["SSSS", allowed],
		"a failure within the budget breaks the run": ["SFSS", needs_successes],
		"a failure before three successes": ["FSSS", allowed],
		"an inconclusive interval breaks the run": ["SSIS", needs_successes],
		"an error breaks the run": ["SSES", needs_successes],
	}
	[letters, expected] := case
	passed := counted({"consecutive_successes": 3, "failure_limit": 1, "inconclusive_limit": 1, "consecutive_error_limit": 2}, letters) == expected
}

test_needing_successes_says_what_broke_the_run[note] := passed if {
	some note, case in {
		"too few judged": [[good, good, good], "2 of 3 consecutive successful intervals; 2 interval(s) judged so far"],
		"a failure within the budget": [[good, good, failing, good], "1 of 3 consecutive successful intervals; 14:20-14:25 before them was failed (within the failure budget)"],
		"an inconclusive interval": [[good, good, thin], "0 of 3 consecutive successful intervals; 14:25-14:30 before them was inconclusive"],
		"an error": [[good, good, good, erroring], "0 of 3 consecutive successful intervals; 14:25-14:30 before them was an error"],
	}
	[bodies, message] := case
	result := decide(run(bodies))
	[r] := result.reasons
	passed := [result.outcome, r.code, r.message] == ["hold", "MONITORING_NEEDS_SUCCESSES", message]
}

test_inconclusive_intervals_over_the_budget_quote_their_samples if {
	result := decide(run([good, thin, good, thin, good]))
	result == {
		"outcome": "hold",
		"reasons": [{
			"rule": "Inconclusive intervals within the budget",
			"code": "MONITORING_INCONCLUSIVE_LIMIT",
			"severity": "medium",
			"message": "2 of 4 judged intervals had fewer than 100 samples (14:10-14:15: 40, 14:20-14:25: 40), more than the canary inconclusive_limit 1",
			"field": "snapshots",
			"actual": 2,
			"threshold": 1,
			"controls": ["NIST AI RMF MEASURE 2.4", "SR 11-7 IV"],
		}],
		"warnings": [],
	}
}

# min_samples: an interval with exactly that many samples is judged; one fewer is inconclusive.
test_an_interval_is_conclusive_from_min_samples[note] := passed if {
	some note, case in {
		"at min_samples": [100, allowed],
		"just under": [99, ["hold", {["MONITORING_INCONCLUSIVE_LIMIT", 1, 0]}]],
		"just over": [101, allowed],
	}
	[samples, expected] := case
	passed := judged_once({"min_samples": 100}, {"sample_count": samples}) == expected
}

# Two judged five-minute intervals cover 10 minutes: allowed at a min_soak of 10m, held just over.
test_the_judged_intervals_must_cover_min_soak[note] := passed if {
	some note, case in {
		"at min_soak": ["10m", allowed],
		"just under": ["9m59.999999999s", allowed],
		"just over": ["10m0.000000001s", ["hold", {["MONITORING_NEEDS_SOAK", 600000000000, "10m0.000000001s"]}]],
	}
	[soak, expected] := case
	passed := verdict(decided_under(pinned({"min_soak": soak}), run([bare, bare]))) == expected
}

# Four intervals of 50 ms each are four intervals, and 200 ms of watching.
test_many_short_intervals_do_not_make_a_soak if {
	doc := json.patch(run([bare, bare, bare, bare]), [
	{"op": "replace", "path": sprintf("/snapshots/%d/interval/start", [i]), "value": time.format(time.parse_rfc3339_ns(doc_end(i)) - 50000000)} |
		some i in numbers.range(0, 3)
	])
	[reason] := decided_under(pinned({"min_soak": "10m"}), doc).reasons
	reason.code == "MONITORING_NEEDS_SOAK"
	reason.message == "the judged intervals cover 200ms, less than the canary min_soak 10m"
}

doc_end(i) := run([bare, bare, bare, bare]).snapshots[i].interval.end

# A min_soak that is no duration is never met (the schema refuses it when the set loads).
test_a_min_soak_that_is_no_duration_is_never_met if {
	result := decided_under(pinned({"min_soak": "ten minutes"}), run([bare]))
	result.outcome == "hold"
	[r.code | some r in result.reasons] == ["MONITORING_NEEDS_SOAK"]
}
