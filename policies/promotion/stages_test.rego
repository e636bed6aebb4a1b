package mlgate.promotion_test

test_promotion_denied_to_production_without_earlier_allow if {
	codes(json.remove(approved, ["history"])) == {"STAGE_ORDER"}
}

test_stage_order_ignores_other_versions_denials_and_later_decisions[note] := passed if {
	some note, prior in {
		"other version": {"gate": "promotion", "stage": "canary", "version": "6", "outcome": "allow", "decided_at": "2026-11-20T09:00:00Z"},
		"denied": {"gate": "promotion", "stage": "canary", "version": "7", "outcome": "deny", "decided_at": "2026-11-20T09:00:00Z"},
		"after request": {"gate": "promotion", "stage": "canary", "version": "7", "outcome": "allow", "decided_at": "2026-11-22T09:00:00Z"},
		"wrong stage": {"gate": "promotion", "stage": "production", "version": "7", "outcome": "allow", "decided_at": "2026-11-20T09:00:00Z"},
	}
	doc := json.patch(approved, [{"op": "replace", "path": "/history", "value": [prior]}])
	passed := codes(doc) == {"STAGE_ORDER"}
}

test_promotion_holds_while_approval_pending if {
	doc := json.patch(approved, [{"op": "replace", "path": "/approvals/0/status", "value": "pending"}])
	decide(doc) == {
		"outcome": "hold",
		"reasons": [{
			"rule": "Human approval is given",
			"code": "APPROVAL_PENDING",
			"severity": "medium",
			"message": "v7 to production awaits approval by a model-risk-officer (pending)",
			"field": "approvals",
			"controls": ["SR 11-7 IV", "EU AI Act Art. 14"],
		}],
		"warnings": [],
		"risk_tier": "high",
	}
}

test_promotion_holds_when_no_approval_requested if {
	some r in decide(json.remove(approved, ["approvals"])).reasons
	r.message == "v7 to production awaits approval by a model-risk-officer (none requested)"
}

test_requester_cannot_approve_own_request if {
	doc := json.patch(approved, [{"op": "replace", "path": "/caller/id", "value": "risk@example.com"}])
	decide(doc).outcome == "hold"
}

test_promotion_denied_when_approval_rejected if {
	doc := json.patch(approved, [{"op": "replace", "path": "/approvals/0/status", "value": "rejected"}])
	decide(doc).outcome == "deny"
	codes(doc) == {"APPROVAL_REJECTED", "APPROVAL_PENDING"}
}

test_approval_for_another_artifact_does_not_count if {
	doc := json.patch(approved, [{"op": "replace", "path": "/approvals/0/artifact_digest", "value": "sha256:ef"}])
	codes(doc) == {"APPROVAL_PENDING"}
	decide(doc).outcome == "hold"
}

test_an_allow_under_a_lower_tier_is_no_history_for_a_higher_one if {
	doc := json.patch(approved, [{"op": "add", "path": "/history/0/risk_tier", "value": "low"}])
	codes(doc) == {"STAGE_ORDER"}
	decide(json.patch(approved, [{"op": "add", "path": "/history/0/risk_tier", "value": "high"}])).outcome == "allow"
}

# An earlier allow counts only when it was decided before the request, not at the same instant.
test_an_earlier_allow_counts_only_before_the_request[note] := passed if {
	some note, case in {
		"a nanosecond before": ["2026-11-21T11:59:59.999999999Z", set()],
		"at the request": ["2026-11-21T12:00:00Z", {"STAGE_ORDER"}],
		"a nanosecond after": ["2026-11-21T12:00:00.000000001Z", {"STAGE_ORDER"}],
	}
	[decided_at, denied] := case
	doc := json.patch(approved, [{"op": "replace", "path": "/history/0/decided_at", "value": decided_at}])
	passed := codes(doc) == denied
}

# A waiver lifts denials only: one given for the pending approval leaves the gate holding.
test_a_waiver_cannot_stand_in_for_a_pending_approval if {
	doc := json.patch(approved, [{"op": "replace", "path": "/approvals/0/status", "value": "pending"}])
	approval_waiver := object.union(waiver, {"rule_code": "APPROVAL_PENDING"})
	result := decide(object.union(doc, {"waivers": [approval_waiver]}))
	[result.outcome, [r.code | some r in result.reasons], result.warnings] == ["hold", ["APPROVAL_PENDING"], []]
}
