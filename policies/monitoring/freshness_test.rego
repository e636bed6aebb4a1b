package mlgate.monitoring_test

import data.mlgate.monitoring

test_monitoring_holds_without_snapshots if {
	decide(not_installed(base)) == {
		"outcome": "hold",
		"reasons": [{
			"rule": "Snapshots are reported",
			"code": "MONITORING_NO_DATA",
			"severity": "high",
			"message": "no metric snapshot has been reported for fraud-detector v7 at canary: nothing shows it is healthy",
			"field": "snapshots",
			"controls": ["NIST AI RMF MEASURE 2.4", "EU AI Act Art. 72"],
		}],
		"warnings": [],
	}
}

test_no_data_rolls_back_where_on_no_data_says_so if {
	thresholds := json.patch(config, [{"op": "add", "path": "/monitoring/stages/canary/on_no_data", "value": "rollback"}])
	result := monitoring.decision with input as base with data.mlgate.config as thresholds
	[result.outcome, [r.code | some r in result.reasons]] == ["rollback", ["MONITORING_NO_DATA_ROLLBACK"]]
}

# A deployment the gate did not install is judged by when its snapshots were received.
not_installed(doc) := json.patch(doc, [{"op": "replace", "path": "/deployment/installed_by_gate", "value": false}])

stale := not_installed(object.union(healthy, {"requested_at": "2026-11-21T14:47:30Z"}))

test_monitoring_holds_on_a_stale_snapshot if {
	decide(stale) == {
		"outcome": "hold",
		"reasons": [{
			"rule": "Snapshots are recent",
			"code": "MONITORING_DATA_STALE",
			"severity": "high",
			"message": "the newest snapshot was received 17m before the request (at 2026-11-21T14:30:30Z), older than the canary max_age 15m",
			"field": "snapshots",
			"actual": 1020000000000,
			"threshold": 900000000000,
			"controls": ["NIST AI RMF MEASURE 2.4", "EU AI Act Art. 72"],
		}],
		"warnings": [],
	}
}

test_stale_data_rolls_back_where_on_stale_says_so if {
	thresholds := json.patch(config, [{"op": "add", "path": "/monitoring/stages/canary/on_stale", "value": "rollback"}])
	result := monitoring.decision with input as stale with data.mlgate.config as thresholds
	[result.outcome, [r.code | some r in result.reasons]] == ["rollback", ["MONITORING_DATA_STALE_ROLLBACK"]]
}

# The newest snapshot by when it was received, whatever its place in the list.
test_the_newest_snapshot_is_the_latest_received if {
	doc := json.patch(stale, [{"op": "replace", "path": "/snapshots/1/received_at", "value": "2026-11-21T14:40:00Z"}])
	decide(doc).outcome == "allow"
}

# Fresh up to max_age inclusive: the newest snapshot was received at 14:30:30, max_age 15m.
test_a_snapshot_is_fresh_up_to_max_age[note] := passed if {
	some note, case in {
		"at max_age": ["2026-11-21T14:45:30Z", allowed],
		"just under": ["2026-11-21T14:45:29.999999999Z", allowed],
		"just over": ["2026-11-21T14:45:30.000000001Z", ["hold", {["MONITORING_DATA_STALE", 900000000001, 900000000000]}]],
	}
	[at, expected] := case
	doc := not_installed(object.union(run([bare]), {"requested_at": at}))
	passed := verdict(decided_under(pinned({}), doc)) == expected
}

# A deployment the gate installed: its newest interval (ending 14:30:00, received 30 s later)
# must also have ended at most max_age before the request, so a late report of an old interval
# is not fresh.
test_an_installed_deployments_newest_interval_ended_within_max_age[note] := passed if {
	some note, case in {
		"at max_age": ["2026-11-21T14:45:00Z", allowed],
		"just under": ["2026-11-21T14:44:59.999999999Z", allowed],
		"just over": ["2026-11-21T14:45:00.000000001Z", ["hold", {["MONITORING_DATA_STALE", 870000000001, 900000000000]}]],
	}
	[at, expected] := case
	doc := object.union(run([bare]), {"requested_at": at})
	passed := verdict(decided_under(pinned({}), doc)) == expected
}

test_a_late_report_of_an_old_interval_says_when_it_ended if {
	doc := object.union(run([bare]), {"requested_at": "2026-11-21T15:00:00Z"})
	[reason] := decided_under(pinned({}), doc).reasons
	startswith(reason.message, "the newest interval ended 30m before the request (at 2026-11-21T14:30:00Z)")
}

# A max_age that is no duration is never met (the schema refuses it when the set loads).
test_a_max_age_that_is_no_duration_is_never_met if {
	result := decided_under(pinned({"max_age": "15 minutes"}), run([bare]))
	verdict(result) == ["hold", {["MONITORING_DATA_STALE", 30000000000, "15 minutes"]}]
}

test_no_data_since_the_installation_says_when_it_was_installed if {
	[reason] := decide(base).reasons
	reason.message == "no metric snapshot of an interval since fraud-detector v7 was installed at canary (2026-11-21T13:50:00Z) has been reported: nothing shows it is healthy (intervals that began before the installation measured the version before it)"
}
