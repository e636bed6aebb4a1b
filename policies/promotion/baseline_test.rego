package mlgate.promotion_test

import data.mlgate.promotion

of_record(registry_version) := {
	"alias": "champion",
	"version": "5",
	"move": "m-1",
	"decision_id": "d-1",
	"registry_version": registry_version,
}

alias_message(named) := sprintf(
	"alias champion of fraud-detector names %s in the registry, but the gate last installed v5 behind it (alias move m-1): it was moved outside the gate; the champion of record v5 stays the baseline",
	[named],
)

test_an_alias_on_the_champion_of_record_is_no_reason if {
	codes(object.union(approved, {"alias_of_record": of_record("5")})) == set()
}

test_without_a_registry_reading_the_alias_is_not_judged if {
	doc := object.union(approved, {"alias_of_record": json.remove(of_record("5"), ["registry_version"])})
	codes(doc) == set()
}

test_an_alias_moved_outside_the_gate_holds[note] := passed if {
	some note, case in {
		"to another version": {"registry": "3", "named": "v3"},
		"deleted": {"registry": null, "named": "no version"},
	}
	result := decide(object.union(approved, {"alias_of_record": of_record(case.registry)}))
	passed := result == {
		"outcome": "hold",
		"reasons": [{
			"rule": "The alias names the champion of record",
			"code": "ALIAS_MOVED_OUTSIDE_GATE",
			"severity": "high",
			"message": alias_message(case.named),
			"field": "alias_of_record",
			"controls": ["SR 11-7 IV", "EU AI Act Art. 12"],
		}],
		"warnings": [],
		"risk_tier": "high",
	}
}

test_a_stage_configured_to_deny_denies_and_no_waiver_lifts_it if {
	strict := json.patch(config, [
		{"op": "add", "path": "/promotion/alias_moved_outside_gate", "value": {"production": "deny"}},
		{"op": "add", "path": "/promotion/non_waivable", "value": ["ALIAS_MOVED_OUTSIDE_GATE_DENIED"]},
	])
	waiver := {
		"rule_code": "ALIAS_MOVED_OUTSIDE_GATE_DENIED", "version": "7", "approved_by": "r.okafor",
		"role": "model-risk-officer", "reason": "r", "expires_at": "2027-01-01T00:00:00Z",
		"artifact_digest": approved.model.artifact_digest,
	}
	doc := object.union(approved, {"alias_of_record": of_record("3"), "waivers": [waiver]})
	result := promotion.decision with input as doc with data.mlgate.config as strict
	result.outcome == "deny"
	[r.code | some r in result.reasons] == ["ALIAS_MOVED_OUTSIDE_GATE_DENIED"]
}

# An alias the gate never moved is reported whatever the stage: a warning naming it and its
# version, the outcome left to the other rules.
test_an_alias_the_gate_never_moved_is_warned_of if {
	doc := json.patch(approved, [
		{"op": "replace", "path": "/target/stage", "value": "staging"},
		{"op": "add", "path": "/alias_unrecorded", "value": {"alias": "staging", "registry_version": "4"}},
	])
	decide(doc) == {
		"outcome": "allow",
		"reasons": [],
		"warnings": [{
			"rule": "The alias was set by the gate",
			"code": "ALIAS_SET_OUTSIDE_GATE",
			"severity": "medium",
			"message": "alias staging of fraud-detector names v4 in the registry, but the gate has never moved it: it was set outside the gate, so v4 is no champion of record",
			"field": "alias_unrecorded",
			"controls": ["SR 11-7 IV", "EU AI Act Art. 12"],
		}],
		"risk_tier": "high",
	}
}
