package mlgate.rollback_test

rolled_back_since := object.union(v6, {"rolled_back_at": "2026-11-20T15:30:00Z", "rollback_decision_id": "r-9"})

digest_changed := object.union(v6, {"registry_digest": "sha256:ff"})

deleted := object.union(v6, {"in_registry": false, "registry_digest": null})

# Deleted, though its artifacts can still be read and hash as allowed.
deleted_readable := object.union(v6, {"in_registry": false})

unreadable := object.union(v6, {"registry_digest": null})

allowed_without_digest := object.union(v6, {"allowed_digest": null})

# Two unknown digests are no match.
neither_digest := object.union(v6, {"allowed_digest": null, "registry_digest": null})

refused(message) := {
	"rule": "Each candidate qualifies as a rollback target",
	"code": "ROLLBACK_CANDIDATE_REFUSED",
	"severity": "high",
	"message": message,
	"field": "candidates",
	"controls": ["NIST AI RMF MANAGE 2.4", "NIST AI RMF MEASURE 2.7"],
}

no_safe_target(message) := {
	"rule": "A safe rollback target exists",
	"code": "ROLLBACK_NO_SAFE_TARGET",
	"severity": "critical",
	"message": message,
	"field": "candidates",
	"controls": ["NIST AI RMF MANAGE 2.4", "EU AI Act Art. 15"],
}

test_rollback_denied_when_the_gate_never_installed_another_version if {
	decide(with_candidates(degraded, [])) == {
		"outcome": "deny",
		"reasons": [no_safe_target("no version the gate installed behind champion qualifies as a rollback target for fraud-detector v7: the gate never installed another version behind champion")],
		"warnings": [],
	}
}

test_when_the_previous_version_was_itself_rolled_back_the_one_before_it_is_chosen if {
	chosen(with_candidates(degraded, [rolled_back_since, v5])) == ["rollback", "5"]
}

# Each way the newest installation can fail to qualify: the next one is chosen instead.
test_a_candidate_that_does_not_qualify_is_passed_over[note] := passed if {
	some note, candidate in {
		"rolled back since": rolled_back_since,
		"digest changed": digest_changed,
		"deleted from the registry": deleted,
		"deleted, artifacts still readable": deleted_readable,
		"registry digest unreadable": unreadable,
		"allowed without a digest": allowed_without_digest,
		"neither digest known": neither_digest,
	}
	passed := chosen(with_candidates(degraded, [candidate, v5])) == ["rollback", "5"]
}

# With no other candidate, the denial says why this one does not qualify.
test_rollback_denied_saying_why_the_only_candidate_does_not_qualify[note] := passed if {
	some note, case in {
		"rolled back since": [rolled_back_since, "v6 was itself rolled back at 2026-11-20T15:30:00Z (decision r-9)"],
		"rolled back, no decision recorded": [object.union(rolled_back_since, {"rollback_decision_id": null}), "v6 was itself rolled back at 2026-11-20T15:30:00Z"],
		"digest changed": [digest_changed, "v6's artifacts hash to sha256:ff now, but it was allowed with sha256:66"],
		"deleted from the registry": [deleted, "v6 was deleted from the registry"],
		"deleted, artifacts still readable": [deleted_readable, "v6 was deleted from the registry"],
		"registry digest unreadable": [unreadable, "v6's digest cannot be read from the registry"],
		"allowed without a digest": [allowed_without_digest, "v6 was allowed without an artifact digest, so there is nothing to check its artifacts against"],
		"neither digest known": [neither_digest, "v6 was allowed without an artifact digest, so there is nothing to check its artifacts against"],
		"the version being rolled back": [installed("7", "2026-11-21T08:00:00Z"), "v7 is the version being rolled back"],
	}
	[candidate, why] := case
	passed := decide(with_candidates(degraded, [candidate])) == {
		"outcome": "deny",
		"reasons": [
			refused(why),
			no_safe_target("no version the gate installed behind champion qualifies as a rollback target for fraud-detector v7"),
		],
		"warnings": [],
	}
}

test_every_candidate_says_why_and_every_cause_is_named if {
	doc := with_candidates(degraded, [
		object.union(rolled_back_since, {"registry_digest": "sha256:ff"}),
		object.union(v5, {"in_registry": false, "registry_digest": null}),
	])
	{r | some r in decide(doc).reasons} == {
		no_safe_target("no version the gate installed behind champion qualifies as a rollback target for fraud-detector v7"),
		refused("v6 was itself rolled back at 2026-11-20T15:30:00Z (decision r-9); v6's artifacts hash to sha256:ff now, but it was allowed with sha256:66"),
		refused("v5 was deleted from the registry"),
	}
}

# A record lacking a field the qualification reads does not qualify, and still says so.
test_an_incomplete_candidate_record_is_refused if {
	doc := with_candidates(degraded, [json.remove(v6, ["rolled_back_at"])])
	refused("v6's record lacks what would show it qualifies") in decide(doc).reasons
	decide(doc).outcome == "deny"
}

test_a_request_without_an_alias_names_the_stages_alias if {
	doc := json.remove(with_candidates(degraded, []), ["target/alias"])
	[r] := decide(doc).reasons
	r.message == "no version the gate installed behind the production alias qualifies as a rollback target for fraud-detector v7: the gate never installed another version behind the production alias"
}

# Read as the contract says they are required, but never a rollback without them.
test_a_request_without_candidates_or_target_denies if {
	doc := json.remove(degraded, ["candidates", "target"])
	[r] := decide(doc).reasons
	r.message == "no version the gate installed behind the stage's alias qualifies as a rollback target for fraud-detector v7: the gate never installed another version behind the stage's alias"
}
