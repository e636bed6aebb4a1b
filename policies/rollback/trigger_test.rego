package mlgate.rollback_test

import data.mlgate.rollback

said(doc, reason) := json.patch(doc, [{"op": "replace", "path": "/trigger/reason", "value": reason}])

test_a_manual_rollback_with_a_short_reason_is_denied if {
	decide(said(manual, "bad")) == {
		"outcome": "deny",
		"reasons": [{
			"rule": "A manual rollback says why",
			"code": "ROLLBACK_REASON_MISSING",
			"severity": "medium",
			"message": "a manual rollback needs a reason of at least 10 characters; \"bad\" has 3",
			"field": "trigger.reason",
			"actual": 3,
			"threshold": 10,
			"controls": ["EU AI Act Art. 12", "EU AI Act Art. 14"],
		}],
		"warnings": [],
	}
}

# At the minimum, just under and just over; spaces at either end do not count.
test_manual_reason_length_boundaries[note] := passed if {
	some note, case in {
		"9 characters": ["rolled ba", "deny"],
		"10 characters": ["rolled bac", "rollback"],
		"11 characters": ["rolled back", "rollback"],
		"9 characters padded to 13": ["  rolled ba  ", "deny"],
		"only spaces": ["            ", "deny"],
	}
	[reason, outcome] := case
	passed := decide(said(manual, reason)).outcome == outcome
}

test_the_minimum_reason_length_comes_from_data if {
	stricter := {"rollback": {"require_reason_min_length": 20}}
	result := rollback.decision with input as said(manual, "rolled back") with data.mlgate.config as stricter
	[r] := result.reasons
	[r.code, r.actual, r.threshold] == ["ROLLBACK_REASON_MISSING", 11, 20]
	defaulted := rollback.decision with input as said(manual, "rolled ba") with data.mlgate.config as {}
	defaulted.outcome == "deny"
}

# A monitoring trigger carries its decision's reason, however short.
test_a_short_monitoring_reason_is_no_denial if {
	chosen(said(degraded, "drift")) == ["rollback", "6"]
}

# A short reason stops a rollback that would otherwise go ahead: no target is named.
test_a_short_reason_stops_a_rollback_to_a_qualifying_target if {
	result := decide(said(asked_for("5"), "oops"))
	codes(said(asked_for("5"), "oops")) == {"ROLLBACK_REASON_MISSING"}
	object.get(result, "target_version", null) == null
}

test_a_manual_trigger_without_a_reason_is_denied if {
	[r] := decide(json.remove(manual, ["trigger/reason"])).reasons
	r.message == "a manual rollback needs a reason of at least 10 characters; \"\" has 0"
}
