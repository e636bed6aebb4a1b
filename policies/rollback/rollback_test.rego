package mlgate.rollback_test

import data.mlgate.rollback

# Settings pinned here, so shipped values in policies/data can change without breaking tests.
config := {"rollback": {
	"non_waivable": ["ROLLBACK_NO_SAFE_TARGET", "ROLLBACK_CANDIDATE_REFUSED"],
	"require_reason_min_length": 10,
}}

# A version the gate installed behind the alias and that qualifies: in the registry with the
# artifacts it was allowed with, never rolled back.
installed(version, installed_at) := {
	"version": version,
	"installed_at": installed_at,
	"alias_move": sprintf("move-%s", [version]),
	"decision_id": sprintf("d-%s", [version]),
	"allowed_digest": sprintf("sha256:%s%s", [version, version]),
	"in_registry": true,
	"registry_digest": sprintf("sha256:%s%s", [version, version]),
	"rolled_back_at": null,
	"rollback_decision_id": null,
}

v6 := installed("6", "2026-11-20T09:00:00Z")

v5 := installed("5", "2026-11-12T09:00:00Z")

v4 := installed("4", "2026-11-03T09:00:00Z")

# v7 went bad behind champion; monitoring asks for the rollback.
degraded := {
	"gate": "rollback",
	"requested_at": "2026-11-21T12:00:00Z",
	"caller": {"id": "monitor@example.com", "role": "gate"},
	"model": {"name": "fraud-detector", "version": "7"},
	"target": {"stage": "production", "alias": "champion"},
	"trigger": {
		"kind": "monitoring",
		"reason": "canary error rate 0.08 is above the ceiling 0.05",
		"decision_id": "m-42",
		"requested_version": null,
	},
	"candidates": [v6, v5, v4],
}

# The same, asked for by a person.
manual := json.patch(degraded, [
	{"op": "replace", "path": "/caller", "value": {"id": "oncall@example.com", "role": "admin"}},
	{"op": "replace", "path": "/trigger", "value": {
		"kind": "manual",
		"reason": "p99 latency doubled after the release",
		"decision_id": null,
		"requested_version": null,
	}},
])

# A person asking for one version by name (--to).
asked_for(version) := json.patch(manual, [{"op": "replace", "path": "/trigger/requested_version", "value": version}])

with_candidates(doc, candidates) := json.patch(doc, [{"op": "replace", "path": "/candidates", "value": candidates}])

decide(doc) := result if {
	result := rollback.decision with input as doc with data.mlgate.config as config
}

codes(doc) := {r.code | some r in decide(doc).reasons}

# [outcome, target_version or null]: what a test of which version is chosen compares.
chosen(doc) := [result.outcome, object.get(result, "target_version", null)] if {
	result := decide(doc)
}

test_rolled_back_to_the_newest_installation_when_monitoring_asks if {
	decide(degraded) == {
		"outcome": "rollback",
		"reasons": [{
			"rule": "Rolled back to the last known-good version",
			"code": "ROLLBACK_TO_LAST_KNOWN_GOOD",
			"severity": "high",
			"message": "rolling back v7 to v6 (installed 2026-11-20T09:00:00Z by decision d-6), triggered by monitoring decision m-42: canary error rate 0.08 is above the ceiling 0.05",
			"field": "candidates",
			"controls": ["NIST AI RMF MANAGE 2.4", "EU AI Act Art. 15"],
		}],
		"warnings": [],
		"target_version": "6",
		"target_artifact_digest": "sha256:66",
	}
}

test_a_manual_rollback_names_who_asked if {
	[r] := decide(manual).reasons
	r.message == "rolling back v7 to v6 (installed 2026-11-20T09:00:00Z by decision d-6), asked by oncall@example.com: p99 latency doubled after the release"
}

# A monitoring trigger that names no decision is told as the caller's request.
test_a_monitoring_trigger_without_a_decision_names_the_caller if {
	doc := json.patch(degraded, [{"op": "replace", "path": "/trigger/decision_id", "value": null}])
	[r] := decide(doc).reasons
	r.message == "rolling back v7 to v6 (installed 2026-11-20T09:00:00Z by decision d-6), asked by monitor@example.com: canary error rate 0.08 is above the ceiling 0.05"
}

# The order given is the order of installation, newest first: the first that qualifies wins,
# whatever the version numbers say.
test_the_newest_installation_wins_not_the_highest_version if {
	chosen(with_candidates(degraded, [v5, v6, v4])) == ["rollback", "5"]
	chosen(with_candidates(degraded, [v4, v5])) == ["rollback", "4"]
}

test_the_version_being_rolled_back_is_skipped_among_candidates if {
	chosen(with_candidates(degraded, [installed("7", "2026-11-21T08:00:00Z"), v6])) == ["rollback", "6"]
}

# The gate never holds and never allows: every answer is a rollback or a denial.
test_the_gate_never_holds_or_allows[note] := passed if {
	some note, doc in {
		"monitoring": degraded,
		"manual": manual,
		"asked for a qualifying version": asked_for("5"),
		"asked for the version being rolled back": asked_for("7"),
		"no candidates": with_candidates(degraded, []),
		"short reason": json.patch(manual, [{"op": "replace", "path": "/trigger/reason", "value": "bad"}]),
	}
	passed := decide(doc).outcome in {"rollback", "deny"}
}

# A denial here is never lifted, even by a waiver that would lift a promotion denial.
test_a_waiver_lifts_nothing if {
	waiver := {
		"rule_code": "ROLLBACK_NO_SAFE_TARGET",
		"model": "fraud-detector",
		"version": "7",
		"artifact_digest": "sha256:77",
		"approved_by": "cro@example.com",
		"role": "model-risk-officer",
		"reason": "accepted for 30 days",
		"expires_at": "2026-12-21T00:00:00Z",
	}
	doc := object.union(with_candidates(degraded, []), {"waivers": [waiver]})
	result := decide(doc)
	[result.outcome, result.warnings] == ["deny", []]
}

test_a_denial_names_no_target if {
	result := decide(with_candidates(degraded, []))
	not result.target_version
	not result.target_artifact_digest
}

# The contract requires a trigger; were one missing, a vetted target is still rolled back to,
# and the reason says none was given, rather than the rule going silent.
test_a_request_without_a_trigger_still_rolls_back_saying_so if {
	[r] := decide(json.remove(degraded, ["trigger"])).reasons
	r.message == "rolling back v7 to v6 (installed 2026-11-20T09:00:00Z by decision d-6), asked by monitor@example.com: no reason given"
}

test_a_policy_set_missing_a_file_denies_naming_it if {
	result := rollback.decision with input as degraded with data.mlgate.config as config with data.mlgate.rollback.files as {"candidates", "trigger"}
	result.outcome == "deny"
	some reason in result.reasons
	reason.code == "ROLLBACK_POLICY_FILES_MISSING"
	reason.message == "the rollback policy lacks requested.rego (package mlgate.rollback): it cannot judge without them"
}
