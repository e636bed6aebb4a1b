package mlgate.monitoring_test

# A canary still short of its successes: the gate would hold it.
waiting := run([good, good, good])

held_since(doc, at) := json.patch(doc, [{"op": "replace", "path": "/monitoring_history/held_since", "value": at}])

test_a_hold_past_max_hold_rolls_back_where_on_max_hold_says_so if {
	result := decide(held_since(waiting, "2026-11-21T12:21:00Z"))
	result.outcome == "rollback"
	result.reasons == [
		{
			"rule": "A hold is bounded in time",
			"code": "MONITORING_HELD_TOO_LONG",
			"severity": "high",
			"message": "held for 2h10m (since 2026-11-21T12:21:00Z), longer than the canary max_hold 2h",
			"field": "monitoring_history.held_since",
			"actual": 7800000000000,
			"threshold": 7200000000000,
			"controls": ["NIST AI RMF MANAGE 2.4", "EU AI Act Art. 14"],
		},
		{
			"rule": "Enough consecutive successful intervals",
			"code": "MONITORING_NEEDS_SUCCESSES",
			"severity": "medium",
			"message": "2 of 3 consecutive successful intervals; 2 interval(s) judged so far",
			"field": "snapshots",
			"actual": 2,
			"threshold": 3,
			"controls": ["NIST AI RMF MEASURE 2.4", "SR 11-7 IV"],
		},
	]
}

test_a_hold_past_max_hold_stays_a_hold_where_on_max_hold_says_so if {
	doc := at_stage(held_since(run([good, failing]), "2026-11-21T12:00:00Z"), "production")
	result := decide(doc)
	[result.outcome, {r.code | some r in result.reasons}] == ["hold", {"MONITORING_HELD_TOO_LONG", "MONITORING_NEEDS_SUCCESSES"}]
}

# Held at most max_hold is within the bound: 2h before the request (14:31), and 1ns either side.
test_a_hold_is_bounded_after_max_hold[note] := passed if {
	some note, case in {
		"at max_hold": ["2026-11-21T12:31:00Z", ["hold", {["MONITORING_NEEDS_SUCCESSES", 0, 1]}]],
		"just under": ["2026-11-21T12:31:00.000000001Z", ["hold", {["MONITORING_NEEDS_SUCCESSES", 0, 1]}]],
		"just over": ["2026-11-21T12:30:59.999999999Z", ["hold", {["MONITORING_NEEDS_SUCCESSES", 0, 1], ["MONITORING_HELD_TOO_LONG", 7200000000001, 7200000000000]}]],
	}
	[since, expected] := case
	doc := held_since(run([thin]), since)
	passed := verdict(decided_under(pinned({"min_samples": 100, "inconclusive_limit": 1}), doc)) == expected
}

# Only a hold is bounded: an allow or a rollback is not held, whatever the history says.
test_max_hold_applies_to_holds_only[note] := passed if {
	some note, case in {
		"an allow": [healthy, "2026-11-21T08:00:00Z", "allow", set()],
		"a rollback": [run([good, failing, failing]), "2026-11-21T08:00:00Z", "rollback", {"MONITORING_FAILURE_LIMIT", "MONITORING_ABOVE_CEILING"}],
		"a hold, not held before": [waiting, null, "hold", {"MONITORING_NEEDS_SUCCESSES"}],
	}
	[doc, since, outcome, reason_codes] := case
	result := decide(held_since(doc, since))
	passed := [result.outcome, {r.code | some r in result.reasons}] == [outcome, reason_codes]
}

# A max_hold that is no duration is never met (the schema refuses it when the set loads).
test_a_max_hold_that_is_no_duration_is_never_met if {
	doc := held_since(run([thin]), "2026-11-21T14:30:00Z")
	result := decided_under(pinned({"min_samples": 100, "inconclusive_limit": 1, "max_hold": "two hours"}), doc)
	verdict(result) == ["hold", {["MONITORING_NEEDS_SUCCESSES", 0, 1], ["MONITORING_HELD_TOO_LONG", 60000000000, "two hours"]}]
}

# How long it was held reads as people write durations, to the second.
test_the_time_held_reads_as_people_write_it[note] := passed if {
	some note, case in {
		"hours and minutes": ["2026-11-21T12:21:00Z", "2h10m"],
		"whole hours": ["2026-11-21T11:31:00Z", "3h"],
		"minutes and seconds": ["2026-11-21T14:15:30Z", "15m30s"],
		"seconds": ["2026-11-21T14:30:15Z", "45s"],
		"under a second": ["2026-11-21T14:30:59.5Z", "500ms"],
	}
	[since, text] := case
	doc := held_since(run([thin]), since)
	result := decided_under(pinned({"min_samples": 100, "inconclusive_limit": 1, "max_hold": "0s"}), doc)
	some r in result.reasons
	r.code == "MONITORING_HELD_TOO_LONG"
	passed := startswith(r.message, sprintf("held for %s (since %s)", [text, since]))
}
