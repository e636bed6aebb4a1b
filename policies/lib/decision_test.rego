package mlgate.lib.decision_test

import data.mlgate.lib.decision as decisions

ctx := {
	"waivers": [waiver],
	"non_waivable": ["APPROVAL_REJECTED"],
	"model": {"name": "fraud-detector", "version": "7", "artifact_digest": "sha256:ab"},
	"requesters": {"ci@example.com"},
	"now_ns": time.parse_rfc3339_ns("2026-11-21T12:00:00Z"),
	"waiver_roles": {},
	"default_waiver_roles": {"model-risk-officer"},
}

waiver := {
	"rule_code": "METRIC_BELOW_FLOOR",
	"model": "fraud-detector",
	"version": "7",
	"artifact_digest": "sha256:ab",
	"approved_by": "cro@example.com",
	"role": "model-risk-officer",
	"reason": "accepted for 30 days",
	"expires_at": "2026-12-21T00:00:00Z",
}

reason(code, severity) := {
	"rule": sprintf("Rule giving %s", [code]),
	"code": code,
	"severity": severity,
	"message": sprintf("%s fired", [code]),
	"controls": ["SR 11-7 IV"],
}

floor := reason("METRIC_BELOW_FLOOR", "high")

rejected := reason("APPROVAL_REJECTED", "critical")

pending := reason("APPROVAL_PENDING", "medium")

degraded := reason("CANARY_DEGRADED", "critical")

test_no_reasons_allow if {
	decisions.make({}, ctx) == {"outcome": "allow", "reasons": [], "warnings": []}
}

test_empty_reason_sets_allow if {
	decisions.make({"rollback": set(), "deny": set(), "hold": set()}, ctx) == {"outcome": "allow", "reasons": [], "warnings": []}
}

test_rollback_wins_over_deny_and_hold if {
	decisions.make({"rollback": {degraded}, "deny": {rejected}, "hold": {pending}}, ctx) == {
		"outcome": "rollback",
		"reasons": [degraded, rejected, pending],
		"warnings": [],
	}
}

test_deny_wins_over_hold if {
	decisions.make({"deny": {rejected}, "hold": {pending}}, ctx) == {
		"outcome": "deny",
		"reasons": [rejected, pending],
		"warnings": [],
	}
}

test_a_hold_alone_holds if {
	decisions.make({"hold": {pending}}, ctx) == {"outcome": "hold", "reasons": [pending], "warnings": []}
}

test_a_waived_deny_with_a_pending_hold_holds if {
	decisions.make({"deny": {floor}, "hold": {pending}}, ctx) == {
		"outcome": "hold",
		"reasons": [pending],
		"warnings": [object.union(floor, {"waiver": {
			"approved_by": "cro@example.com",
			"role": "model-risk-officer",
			"reason": "accepted for 30 days",
			"expires_at": "2026-12-21T00:00:00Z",
		}})],
	}
}

test_a_waived_deny_alone_allows_with_a_warning if {
	result := decisions.make({"deny": {floor}}, ctx)
	[result.outcome, result.reasons, [w.code | some w in result.warnings]] == ["allow", [], ["METRIC_BELOW_FLOOR"]]
}

# A waiver lifts only denials: a rollback or a hold with the waived code stays as it is.
test_waivers_never_lift_rollbacks_or_holds[note] := passed if {
	some note, outcome in {"a rollback": "rollback", "a hold": "hold"}
	passed := decisions.make({outcome: {floor}}, ctx) == {"outcome": outcome, "reasons": [floor], "warnings": []}
}

test_a_non_waivable_denial_stays if {
	rejection_waiver := object.union(waiver, {"rule_code": "APPROVAL_REJECTED"})
	with_waiver := object.union(ctx, {"waivers": [rejection_waiver]})
	decisions.make({"deny": {rejected}}, with_waiver) == {"outcome": "deny", "reasons": [rejected], "warnings": []}
}

test_rollback_with_a_waived_deny_keeps_the_warning if {
	decisions.make({"rollback": {degraded}, "deny": {floor}}, ctx).outcome == "rollback"
	[w] := decisions.make({"rollback": {degraded}, "deny": {floor}}, ctx).warnings
	w.code == "METRIC_BELOW_FLOOR"
}

# A misspelt outcome must not turn reasons into an allow: the decision is undefined instead,
# and the service denies an undefined decision.
test_an_unknown_outcome_leaves_the_decision_undefined[note] := passed if {
	some note, by_outcome in {
		"misspelt deny": {"dney": {rejected}},
		"allow is no reason set": {"allow": set()},
		"misspelt next to a known one": {"deny": set(), "rolback": {degraded}},
	}
	passed := _is_undefined(by_outcome)
}

_is_undefined(by_outcome) if {
	not decisions.make(by_outcome, ctx)
} else := false

test_reasons_come_worst_first_then_in_a_stable_order if {
	other := reason("LINEAGE_COMMIT_MISSING", "high")
	result := decisions.make({"hold": {pending}, "deny": {other, rejected}}, object.union(ctx, {"waivers": []}))
	[r.code | some r in result.reasons] == ["APPROVAL_REJECTED", "LINEAGE_COMMIT_MISSING", "APPROVAL_PENDING"]
}

test_a_waiver_from_the_sign_off_records_is_named if {
	recorded := object.union(waiver, {"id": "6d0e2b1a"})
	[w] := decisions.make({"deny": {floor}}, object.union(ctx, {"waivers": [recorded]})).warnings
	w.waiver.id == "6d0e2b1a"
}

# Reasons under "warn" only inform: they are warnings, and the outcome is the others'.
test_warn_reasons_are_warnings_whatever_the_outcome if {
	note := reason("NOTED", "low")
	decisions.make({"warn": {note}}, ctx) == {"outcome": "allow", "reasons": [], "warnings": [note]}
	held := decisions.make({"hold": {reason("WAIT", "medium")}, "warn": {note}}, ctx)
	[held.outcome, held.warnings] == ["hold", [note]]
}
