package mlgate.promotion_test

import data.mlgate.promotion

# What the service asks before it records a sign-off, under the pinned thresholds.
signing(doc) := result if {
	result := promotion.signoff_roles with input as doc with data.mlgate.config as config
}

# What the service sends: the model, the tier it was last judged under, the waiver to be given.
giving(tier, code) := {
	"model": {"name": "fraud-detector", "version": "7"},
	"recorded_risk_tier": {"tier": tier},
	"waivers": [object.union(waiver, {"rule_code": code})],
}

# The messages of the sign-offs a decision did not apply.
unapplied(doc) := [w.message | some w in decide(doc).warnings; w.code == "SIGNOFF_NOT_APPLIED"]

test_who_may_sign_off_a_model_of_each_tier[note] := passed if {
	some note, case in {
		"high: its production approver": ["high", {"approval": ["model-risk-officer"], "waiver": {"METRIC_BELOW_FLOOR": ["model-risk-officer"]}}],
		"low: nobody, it asks no approval": ["low", {"approval": [], "waiver": {"METRIC_BELOW_FLOOR": []}}],
		"a tier without settings: nobody": ["medium", {"approval": [], "waiver": {"METRIC_BELOW_FLOOR": []}}],
	}
	[tier, roles] := case
	passed := signing(giving(tier, "METRIC_BELOW_FLOOR")) == roles
}

test_before_any_decision_the_roles_of_any_tier_may_sign if {
	with_eu_officer := json.patch(config, [{"op": "add", "path": "/promotion/tiers/low/stages/production/approver_roles", "value": ["eu-officer"]}])
	roles := promotion.signoff_roles with input as json.remove(giving("high", "METRIC_BELOW_FLOOR"), ["recorded_risk_tier"]) with data.mlgate.config as with_eu_officer
	roles == {"approval": ["eu-officer", "model-risk-officer"], "waiver": {"METRIC_BELOW_FLOOR": ["eu-officer", "model-risk-officer"]}}
}

test_a_code_with_its_own_waiver_roles_is_waived_only_in_them if {
	per_code := json.patch(config, [{"op": "add", "path": "/promotion/waivers", "value": {"roles": {"METRIC_BELOW_FLOOR": ["data-steward"]}}}])
	doc := giving("high", "METRIC_BELOW_FLOOR")
	waivers := array.concat(doc.waivers, [waiver])
	roles := promotion.signoff_roles with input as object.union(doc, {"waivers": waivers}) with data.mlgate.config as per_code
	roles == {"approval": ["model-risk-officer"], "waiver": {"METRIC_BELOW_FLOOR": ["data-steward"], "METRIC_REGRESSION_ABSOLUTE": ["model-risk-officer"]}}
}

test_a_models_own_approver_roles_may_sign_for_it if {
	own := json.patch(config, [{"op": "add", "path": "/promotion/models/fraud-detector-eu/stages/production/approver_roles", "value": ["eu-officer"]}])
	doc := json.patch(giving("low", "METRIC_BELOW_FLOOR"), [{"op": "replace", "path": "/model/name", "value": "fraud-detector-eu"}])
	roles := promotion.signoff_roles with input as doc with data.mlgate.config as own
	roles == {"approval": ["eu-officer"], "waiver": {"METRIC_BELOW_FLOOR": ["eu-officer"]}}
}

test_every_role_a_sign_off_can_count_as_is_asked_for_any_model_and_tier if {
	changed := json.patch(config, [
		{"op": "add", "path": "/promotion/tiers/low/stages/production/approver_roles", "value": ["eu-officer"]},
		{"op": "add", "path": "/promotion/models/fraud-detector-eu/stages/production/first_deployment", "value": {"approver_roles": ["eu-steward"]}},
		{"op": "add", "path": "/promotion/waivers", "value": {"roles": {"METRIC_BELOW_FLOOR": ["data-steward"]}}},
		{"op": "add", "path": "/promotion/tier_changes", "value": {"allowed_roles": ["cro"]}},
	])
	roles := promotion.all_signoff_roles with data.mlgate.config as changed
	roles == ["cro", "data-steward", "eu-officer", "eu-steward", "model-risk-officer"]
}

test_no_role_is_asked_when_no_sign_off_is if {
	roles := promotion.all_signoff_roles with data.mlgate.config as {"promotion": {"tiers": {"low": {"stages": {"production": {}}}}}}
	roles == []
}

test_sign_offs_that_count_are_not_named if {
	unapplied(object.union(regressed, {"waivers": [waiver]})) == []
	unapplied(approved) == []
}

test_an_approval_that_does_not_count_is_named_with_why[note] := passed if {
	some note, case in {
		"another artifact": [{"artifact_digest": "sha256:ef"}, "it was given for artifact sha256:ef, and this version's is sha256:ab"],
		"another version": [{"version": "6"}, "it was given for v6"],
		"a role the tier does not ask": [{"role": "data-steward"}, "a high-risk model asks an approval of model-risk-officer, not of data-steward"],
		"its approver asked for a decision": [{"approver": "ci@example.com"}, "ci@example.com asked for a decision on this version, so may not sign it off"],
	}
	[patch, why] := case
	doc := json.patch(approved, [{"op": "add", "path": "/approvals/0", "value": object.union(approved.approvals[0], patch)}])
	passed := unapplied(doc) == [sprintf("approval (approved) by %v as %v was not applied: %s", [object.union(approved.approvals[0], patch).approver, object.union(approved.approvals[0], patch).role, why])]
}

test_an_approval_in_a_tier_that_asks_none_is_named if {
	doc := json.patch(with_tier(approved, "low"), [{"op": "add", "path": "/approvals/0/id", "value": "a-1"}])
	unapplied(doc) == ["approval a-1 (approved) by risk@example.com as model-risk-officer was not applied: a low-risk model asks an approval of no role, not of model-risk-officer"]
}

test_a_waiver_that_does_not_count_is_named_with_every_why[note] := passed if {
	some note, case in {
		"another artifact": [{"artifact_digest": "sha256:ef"}, "it was given for artifact sha256:ef, and this version's is sha256:ab"],
		"another version": [{"version": "6"}, "it was given for fraud-detector v6"],
		"a role that may not waive": [{"role": "data-steward"}, "a high-risk model's METRIC_REGRESSION_ABSOLUTE may be waived as model-risk-officer, not as data-steward"],
		"its approver asked": [{"approved_by": "ci@example.com"}, "ci@example.com asked for a decision on this version, so may not sign it off"],
		"expired and for another artifact": [
			{"artifact_digest": "sha256:ef", "expires_at": "2026-11-01T00:00:00Z"},
			"it expired at 2026-11-01T00:00:00Z; it was given for artifact sha256:ef, and this version's is sha256:ab",
		],
	}
	[patch, why] := case
	given := object.union(object.union(waiver, {"id": "w-1"}), patch)
	passed := unapplied(object.union(regressed, {"waivers": [given]})) == [sprintf("waiver w-1 of METRIC_REGRESSION_ABSOLUTE by %v as %v was not applied: %s", [given.approved_by, given.role, why])]
}

test_a_waiver_of_a_code_no_waiver_may_lift_is_named if {
	rejection := object.union(waiver, {"rule_code": "APPROVAL_REJECTED"})
	unapplied(object.union(approved, {"waivers": [rejection]})) == ["waiver of APPROVAL_REJECTED by cro@example.com as model-risk-officer was not applied: APPROVAL_REJECTED may not be waived (non_waivable)"]
}

test_a_waiver_in_a_tier_whose_code_nobody_may_waive_is_named if {
	doc := object.union(json.remove(with_tier(regressed, "low"), ["approvals"]), {"waivers": [waiver]})
	unapplied(doc) == ["waiver of METRIC_REGRESSION_ABSOLUTE by cro@example.com as model-risk-officer was not applied: a low-risk model's METRIC_REGRESSION_ABSOLUTE may be waived as no role, not as model-risk-officer"]
}

test_a_withdrawn_waiver_is_named_with_who_withdrew_it if {
	withdrawn := object.union(waiver, {"id": "w-2", "withdrawal": {"withdrawn_by": "m.okafor", "withdrawn_at": "2026-11-20T08:00:00Z", "reason": "the fix slipped"}})
	result := decide(object.union(regressed, {"withdrawn_waivers": [withdrawn]}))
	result.outcome == "deny"
	[w] := result.warnings
	w == {
		"rule": "Every sign-off counts or says why not",
		"code": "SIGNOFF_NOT_APPLIED",
		"severity": "medium",
		"message": "waiver w-2 of METRIC_REGRESSION_ABSOLUTE by cro@example.com as model-risk-officer was not applied: it was withdrawn by m.okafor at 2026-11-20T08:00:00Z (the fix slipped)",
		"field": "withdrawn_waivers",
		"controls": ["SR 11-7 IV", "EU AI Act Art. 14"],
	}
}
