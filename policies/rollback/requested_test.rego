package mlgate.rollback_test

requested_refused(message) := {
	"rule": "The version asked for qualifies",
	"code": "ROLLBACK_REQUESTED_TARGET_REFUSED",
	"severity": "high",
	"message": message,
	"field": "trigger.requested_version",
	"controls": ["EU AI Act Art. 14", "NIST AI RMF MANAGE 2.4"],
}

# An older version asked for by name is the target, though a newer one qualifies too.
test_a_version_asked_for_that_qualifies_is_the_target if {
	decide(asked_for("5")) == {
		"outcome": "rollback",
		"reasons": [{
			"rule": "Rolled back to the last known-good version",
			"code": "ROLLBACK_TO_LAST_KNOWN_GOOD",
			"severity": "high",
			"message": "rolling back v7 to v5 (installed 2026-11-12T09:00:00Z by decision d-5), asked by oncall@example.com: p99 latency doubled after the release",
			"field": "candidates",
			"controls": ["NIST AI RMF MANAGE 2.4", "EU AI Act Art. 15"],
		}],
		"warnings": [],
		"target_version": "5",
		"target_artifact_digest": "sha256:55",
	}
}

# A version asked for that does not qualify is refused, naming it and why; the gate never
# falls back to another version, though v5 and v4 qualify.
test_a_version_asked_for_that_does_not_qualify_is_refused[note] := passed if {
	some note, case in {
		"rolled back since": [rolled_back_since, "v6 was itself rolled back at 2026-11-20T15:30:00Z (decision r-9)"],
		"digest changed": [digest_changed, "v6's artifacts hash to sha256:ff now, but it was allowed with sha256:66"],
		"deleted from the registry": [deleted, "v6 was deleted from the registry"],
		"registry digest unreadable": [unreadable, "v6's digest cannot be read from the registry"],
		"allowed without a digest": [allowed_without_digest, "v6 was allowed without an artifact digest, so there is nothing to check its artifacts against"],
	}
	[candidate, why] := case
	doc := with_candidates(asked_for("6"), [candidate, v5, v4])
	passed := decide(doc) == {
		"outcome": "deny",
		"reasons": [requested_refused(sprintf("v6, asked for as the rollback target, does not qualify: %s; no other version is chosen in its place", [why]))],
		"warnings": [],
	}
}

test_a_version_the_gate_never_installed_behind_the_alias_is_refused if {
	decide(asked_for("3")).reasons == [requested_refused("v3, asked for as the rollback target, does not qualify: the gate never installed v3 behind champion; no other version is chosen in its place")]
}

# Asked for by the version being rolled back: refused, whether the candidates list it or not.
test_the_version_being_rolled_back_cannot_be_asked_for[note] := passed if {
	some note, candidates in {
		"not a candidate": [v6, v5],
		"listed as a candidate": [installed("7", "2026-11-21T08:00:00Z"), v6],
	}
	passed := decide(with_candidates(asked_for("7"), candidates)).reasons == [requested_refused("v7, asked for as the rollback target, does not qualify: v7 is the version being rolled back; no other version is chosen in its place")]
}
