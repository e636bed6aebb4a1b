package mlgate.monitoring_test

import data.mlgate.monitoring

# Thresholds pinned here, so shipped values in policies/data can change without breaking tests.
config := {"monitoring": {
	"stages": {
		"default": {
			"warmup_intervals": 0,
			"min_samples": 100,
			"max_age": "15m",
			"failure_limit": 0,
			"inconclusive_limit": 1,
			"consecutive_error_limit": 2,
			"consecutive_successes": 1,
			"max_hold": "2h",
			"on_no_data": "hold",
			"on_stale": "hold",
			"on_errors": "hold",
			"on_max_hold": "hold",
			"ceilings": {"error_rate": 0.02, "latency_p99_ms": 250},
			"required_metrics": ["error_rate", "latency_p99_ms"],
		},
		"canary": {
			"warmup_intervals": 1,
			"failure_limit": 1,
			"consecutive_successes": 3,
			"on_errors": "rollback",
			"on_max_hold": "rollback",
			"versus_baseline": {"latency_p99_ms": {"greater_is_better": false, "min_relative_change": -0.20}},
		},
		"production": {"failure_limit": 1},
	},
	"statistics": {
		"confidence": 0.95,
		"min_intervals": 5,
		"pass_score": 95,
		"marginal_score": 75,
		"metrics": {
			"latency_p99_ms": {"source": "operational", "direction": "increase", "allowed_increase": 1.2, "critical": true},
			"error_rate": {"source": "operational", "direction": "increase", "allowed_increase": 1.5, "critical": true},
		},
	},
	"models": {"fraud-detector-eu": {"canary": {"ceilings": {"error_rate": 0.01}}}},
}}

# A healthy interval of the canary and its baseline.
good := {
	"sample_count": 500,
	"operational": {"error_rate": 0.004, "latency_p99_ms": 120},
	"quality": {"metrics": {"auc": 0.91}, "label_delay_seconds": 3600, "labelled_count": 410},
	"drift": {"features": [
		{"name": "amount", "score": 0.04, "method": "psi", "threshold": 0.2, "drifted": false},
		{"name": "merchant", "score": 0.31, "method": "chisquare", "threshold": 0.05, "drifted": false},
	]},
	"data_quality": {
		"schema_violations": 0,
		"null_rate": {"amount": 0.001},
		"out_of_range_rate": {"amount": 0},
		"expectations": {"evaluated": 12, "failed": 0},
	},
	"baseline": {"version": "6", "sample_count": 4800, "operational": {"error_rate": 0.004, "latency_p99_ms": 118}},
}

# The same interval with an error rate above the ceiling, too few samples, or no measurement.
failing := object.union(good, {"operational": {"error_rate": 0.031}})

thin := object.union(good, {"sample_count": 40})

erroring := object.union(good, {"error": "prometheus query timed out"})

# The request comes a minute after the newest interval ends at 14:30.
requested_at := "2026-11-21T14:31:00Z"

_end_ns := time.parse_rfc3339_ns("2026-11-21T14:30:00Z")

_minutes(n) := (n * 60) * 1000000000

# The k-th of n five-minute intervals, the last ending at 14:30; received 30s after its end.
snapshot(k, n, body) := object.union(
	{
		"id": sprintf("snap-%d", [k]),
		"record": 100 + k,
		"interval": {
			"start": time.format(_end_ns - _minutes(5 * (n - k))),
			"end": time.format(_end_ns - _minutes(5 * ((n - k) - 1))),
		},
		"received_at": time.format((_end_ns - _minutes(5 * ((n - k) - 1))) + 30000000000),
	},
	body,
)

# The canary's input with these snapshot bodies, oldest first.
run(bodies) := object.union(base, {"snapshots": [snapshot(k, count(bodies), body) | some k, body in bodies]})

base := {
	"gate": "monitoring",
	"requested_at": requested_at,
	"caller": {"id": "argo-rollouts", "role": "gate"},
	"model": {"name": "fraud-detector", "version": "7"},
	"target": {"stage": "canary"},
	"deployment": {"stage": "canary", "alias": "canary", "installed_by_gate": true, "installed_at": "2026-11-21T13:50:00Z"},
	"snapshots": [],
	"comparisons": [],
	"monitoring_history": {"decisions": 4, "held_since": null, "last_outcome": "hold"},
}

# One warm-up interval, then the three successes canary needs.
healthy := run([good, good, good, good])

at_stage(doc, stage) := json.patch(doc, [
	{"op": "replace", "path": "/target/stage", "value": stage},
	{"op": "replace", "path": "/deployment/stage", "value": stage},
])

decide(doc) := result if {
	result := monitoring.decision with input as doc with data.mlgate.config as config
}

codes(doc) := {r.code | some r in decide(doc).reasons}

test_monitoring_allows_a_healthy_canary if {
	decide(healthy) == {"outcome": "allow", "reasons": [], "warnings": []}
}

test_monitoring_judges_production_by_its_own_settings if {
	doc := at_stage(run([good, failing, good]), "production")
	result := decide(doc)
	[result.outcome, result.reasons] == ["allow", []]
	[w.code | some w in result.warnings] == ["MONITORING_FAILURES_TOLERATED"]
	codes(at_stage(run([failing, good, failing, good]), "production")) == {"MONITORING_FAILURE_LIMIT", "MONITORING_ABOVE_CEILING"}
}

# Without settings nothing can be met: max_age unstated is never met either.
test_monitoring_holds_when_not_configured if {
	result := monitoring.decision with input as healthy with data.mlgate.config as {}
	result.outcome == "hold"
	{r.code | some r in result.reasons} == {"MONITORING_NOT_CONFIGURED", "MONITORING_DATA_STALE"}
	some r in result.reasons
	r == {
		"rule": "Monitoring is configured",
		"code": "MONITORING_NOT_CONFIGURED",
		"severity": "critical",
		"message": "no monitoring settings are configured (stages.default) to judge fraud-detector v7 at canary by",
		"field": "target.stage",
		"controls": ["NIST AI RMF GOVERN 1.2", "SR 11-7 IV"],
	}
}

# The input's schema requires these; should one be missing, the gate still holds.
test_monitoring_holds_when_the_input_lacks_a_part[note] := passed if {
	some note, case in {
		"no snapshots": [["snapshots"], {"MONITORING_NO_DATA"}, "no metric snapshot of an interval since fraud-detector v7 was installed at canary (2026-11-21T13:50:00Z) has been reported: nothing shows it is healthy (intervals that began before the installation measured the version before it)"],
		"no target": [["target"], {"MONITORING_NOT_CONFIGURED"}, "no monitoring settings are configured (stages.default) to judge fraud-detector v7 at no stage by"],
		"neither": [["snapshots", "target"], {"MONITORING_NOT_CONFIGURED"}, "no monitoring settings are configured (stages.default) to judge fraud-detector v7 at no stage by"],
	}
	[parts, reason_codes, message] := case
	result := decide(json.remove(healthy, parts))
	result.outcome == "hold"
	{r.code | some r in result.reasons} == reason_codes
	passed := message in {r.message | some r in result.reasons}
}

test_an_unknown_stage_is_not_configured if {
	result := decide(at_stage(healthy, "qa"))
	[result.outcome, [r.code | some r in result.reasons]] == ["hold", ["MONITORING_NOT_CONFIGURED"]]
}

# Settings merge key by key: stages.default, the stage's, then the model's.
test_settings_merge_default_stage_and_model[note] := passed if {
	some note, case in {
		"default alone at staging": ["fraud-detector", "staging", {"failure_limit": 0, "consecutive_successes": 1, "ceilings": {"error_rate": 0.02, "latency_p99_ms": 250}}],
		"canary over default": ["fraud-detector", "canary", {"failure_limit": 1, "consecutive_successes": 3, "ceilings": {"error_rate": 0.02, "latency_p99_ms": 250}}],
		"model over canary, per metric": ["fraud-detector-eu", "canary", {"failure_limit": 1, "consecutive_successes": 3, "ceilings": {"error_rate": 0.01, "latency_p99_ms": 250}}],
		"model's canary override not at production": ["fraud-detector-eu", "production", {"failure_limit": 1, "consecutive_successes": 1, "ceilings": {"error_rate": 0.02, "latency_p99_ms": 250}}],
	}
	[name, stage, expected] := case
	doc := json.patch(at_stage(healthy, stage), [{"op": "replace", "path": "/model/name", "value": name}])
	settings := monitoring.settings with input as doc with data.mlgate.config as config
	passed := {key: settings[key] | some key, _ in expected} == expected
}

test_a_models_default_applies_at_every_stage if {
	eu := json.patch(config, [{"op": "add", "path": "/monitoring/models/fraud-detector-eu/default", "value": {"min_samples": 1000}}])
	doc := json.patch(healthy, [{"op": "replace", "path": "/model/name", "value": "fraud-detector-eu"}])
	result := monitoring.decision with input as doc with data.mlgate.config as eu
	result.outcome == "hold"
	{r.code | some r in result.reasons} == {"MONITORING_INCONCLUSIVE_LIMIT"}
}

test_a_misspelt_outcome_setting_holds if {
	misspelt := json.patch(config, [{"op": "replace", "path": "/monitoring/stages/canary/on_errors", "value": "rolback"}])
	result := monitoring.decision with input as run([good, good, erroring, erroring]) with data.mlgate.config as misspelt
	[result.outcome, {r.code | some r in result.reasons}] == ["hold", {"MONITORING_CONSECUTIVE_ERRORS"}]
}

# The input's schema rules these out; should one get through, it still never allows, and the
# reasons quote what they found.
test_a_malformed_snapshot_never_allows_and_is_quoted_as_written[note] := passed if {
	some note, case in {
		"no sample count": [
			[{"op": "remove", "path": "/snapshots/0/sample_count"}],
			"1 of 1 judged intervals had fewer than 1 samples (14:25-14:30: none), more than the canary inconclusive_limit 0",
		],
		"an interval that is no time": [
			[{"op": "replace", "path": "/snapshots/0/interval", "value": {"start": "noon", "end": 1}}],
			"1 of 1 judged intervals failed (noon-1), more than the canary failure_limit 0",
		],
		"no time of receipt": [
			[{"op": "replace", "path": "/snapshots/0/received_at", "value": "soon"}],
			"no snapshot says when it was received: nothing is within the canary max_age 15m",
		],
		"no interval": [
			[{"op": "remove", "path": "/snapshots/0/interval"}],
			"1 of 1 judged intervals failed (null-null), more than the canary failure_limit 0",
		],
	}
	[patch, message] := case
	doc := json.patch(run([failing]), patch)
	result := decided_under(pinned({"ceilings": {"error_rate": 0.02}}), doc)
	result.outcome != "allow"
	passed := message in {r.message | some r in result.reasons}
}

test_an_interval_is_quoted_to_the_unit_that_tells_its_ends_apart[note] := passed if {
	some note, case in {
		"whole minutes": [{"start": "2026-11-21T14:25:00Z", "end": "2026-11-21T14:30:00Z"}, "14:25-14:30"],
		"within one minute": [{"start": "2026-11-21T14:29:10Z", "end": "2026-11-21T14:29:40Z"}, "14:29:10-14:29:40"],
		"one end off the minute": [{"start": "2026-11-21T14:29:00Z", "end": "2026-11-21T14:29:30Z"}, "14:29:00-14:29:30"],
		"within one second": [
			{"start": "2026-11-21T14:29:10.001Z", "end": "2026-11-21T14:29:10.300Z"},
			"14:29:10.001-14:29:10.300",
		],
		"an offset": [{"start": "2026-11-21T15:29:10+01:00", "end": "2026-11-21T15:29:40+01:00"}, "14:29:10-14:29:40"],
	}
	[interval, text] := case
	doc := json.patch(run([failing]), [{"op": "replace", "path": "/snapshots/0/interval", "value": interval}])
	result := decided_under(pinned({"ceilings": {"error_rate": 0.02}}), doc)
	message := sprintf("1 of 1 judged intervals failed (%s), more than the canary failure_limit 0", [text])
	passed := message in {r.message | some r in result.reasons}
}

# Boundary tables pin a policy configured with one threshold and nothing else: one judged
# interval decides (no warm-up, a failure budget of 0, one success needed).
pinned(stage_settings) := {"monitoring": {
	"stages": {"default": object.union(counting, stage_settings)},
	"statistics": {"min_intervals": 1, "pass_score": 95, "marginal_score": 75},
}}

counting := {
	"warmup_intervals": 0,
	"min_samples": 1,
	"max_age": "15m",
	"failure_limit": 0,
	"inconclusive_limit": 0,
	"consecutive_error_limit": 1,
	"consecutive_successes": 1,
	"max_hold": "2h",
	"on_no_data": "hold",
	"on_stale": "hold",
	"on_errors": "hold",
	"on_max_hold": "hold",
}

# A bare interval: samples and nothing else; a case adds the figures it is about.
bare := {"sample_count": 500}

decided_under(thresholds, doc) := result if {
	result := monitoring.decision with input as doc with data.mlgate.config as thresholds
}

# The outcome, and each reason's code with the value and the limit it quotes.
verdict(result) := [result.outcome, {[r.code, r.actual, r.threshold] | some r in result.reasons}]

# One interval judged under one threshold: the verdict.
judged_once(stage_settings, body) := verdict(decided_under(pinned(stage_settings), run([body])))

allowed := ["allow", set()]

# One failed interval over a budget of 0: the budget's reason and the broken check's.
failed_once(code, actual, threshold) := ["rollback", {["MONITORING_FAILURE_LIMIT", 1, 0], [code, actual, threshold]}]

# A policy set that lost a file of the package (budgets.rego here) denies, naming it: without
# its rules a deployment with no success would have been allowed.
test_a_policy_set_missing_a_file_denies_naming_it if {
	loaded := {"baseline", "data_quality", "drift", "freshness", "intervals", "max_hold", "statistics", "thresholds"}
	result := monitoring.decision with input as healthy with data.mlgate.config as config with data.mlgate.monitoring.files as loaded
	result.outcome == "deny"
	some reason in result.reasons
	reason.code == "MONITORING_POLICY_FILES_MISSING"
	reason.message == "the monitoring policy lacks budgets.rego (package mlgate.monitoring): it cannot judge without them"
}
