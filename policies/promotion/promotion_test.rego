package mlgate.promotion_test

import data.mlgate.promotion

# Thresholds pinned here, so shipped values in policies/data can change without breaking tests.
config := {"promotion": {
	"non_waivable": ["APPROVAL_REJECTED"],
	"stage_prerequisites": {"production": ["staging", "canary"]},
	"tiers": {
		"high": {
			"card_sections": ["monitoring_plan"],
			"fairness": {"tpr": {"max_gap": 0.05}},
			"stages": {
				"staging": {"floors": {"auc": 0.85}},
				"production": {
					"floors": {"auc": 0.90},
					"ceilings": {"latency_p99_ms": 50},
					"baseline_required": true,
					"regression": {
						"auc": {"greater_is_better": true, "min_absolute_change": 0},
						"latency_p99_ms": {"greater_is_better": false, "min_relative_change": -0.10},
					},
					"approver_roles": ["model-risk-officer"],
				},
			},
		},
		"low": {"stages": {"production": {"floors": {"auc": 0.75}}}},
	},
	"models": {"fraud-detector-eu": {"stages": {"production": {"floors": {"auc": 0.95}}}}},
}}

approved := {
	"gate": "promotion",
	"requested_at": "2026-11-21T12:00:00Z",
	"caller": {"id": "ci@example.com", "role": "gate"},
	"model": {"name": "fraud-detector", "version": "7", "risk_tier": "high", "artifact_digest": "sha256:ab"},
	"target": {"stage": "production"},
	"model_card": {"risk_tier": "high", "monitoring_plan": "hourly AUC proxy", "protected_attributes": ["region"]},
	"metrics": {
		"values": {"auc": 0.94, "latency_p99_ms": 31},
		"by_group": {"region": {"uk": {"tpr": 0.64}, "eu": {"tpr": 0.62}}},
	},
	"baseline": {"version": "5", "metrics": {"values": {"auc": 0.93, "latency_p99_ms": 30}}},
	"lineage": {
		"git_commit": "3e9f1c27",
		"artifact_digest": "sha256:ab",
		"datasets": [{"name": "train", "digest": "sha256:cd", "context": "training"}],
	},
	"history": [{"gate": "promotion", "stage": "canary", "version": "7", "outcome": "allow", "decided_at": "2026-11-20T09:00:00Z"}],
	"approvals": [{"approver": "risk@example.com", "role": "model-risk-officer", "status": "approved", "version": "7", "artifact_digest": "sha256:ab"}],
}

decide(doc) := result if {
	result := promotion.decision with input as doc with data.mlgate.config as config
}

codes(doc) := {r.code | some r in decide(doc).reasons}

test_promotion_allowed_with_complete_evidence if {
	decide(approved) == {"outcome": "allow", "reasons": [], "warnings": [], "risk_tier": "high"}
}

test_deny_wins_over_hold if {
	doc := json.patch(approved, [
		{"op": "replace", "path": "/approvals/0/status", "value": "pending"},
		{"op": "replace", "path": "/metrics/values/auc", "value": 0.80},
	])
	decide(doc).outcome == "deny"
	codes(doc) == {"APPROVAL_PENDING", "METRIC_BELOW_FLOOR", "METRIC_REGRESSION_ABSOLUTE"}
}

waiver := {
	"rule_code": "METRIC_REGRESSION_ABSOLUTE",
	"model": "fraud-detector",
	"version": "7",
	"artifact_digest": "sha256:ab",
	"approved_by": "cro@example.com",
	"role": "model-risk-officer",
	"reason": "Champion was over-fitted to Q3; accepted for 30 days",
	"expires_at": "2026-12-21T00:00:00Z",
}

regressed := json.patch(approved, [{"op": "replace", "path": "/metrics/values/auc", "value": 0.92}])

test_waived_violation_becomes_warning if {
	result := decide(object.union(regressed, {"waivers": [waiver]}))
	result.outcome == "allow"
	result.reasons == []
	[w] := result.warnings
	w.code == "METRIC_REGRESSION_ABSOLUTE"
	w.waiver == {"approved_by": "cro@example.com", "role": "model-risk-officer", "reason": waiver.reason, "expires_at": "2026-12-21T00:00:00Z"}
}

test_expired_waiver_does_nothing if {
	expired := object.union(waiver, {"expires_at": "2026-11-21T11:59:59Z"})
	result := decide(object.union(regressed, {"waivers": [expired]}))
	result.outcome == "deny"
	[w.message | some w in result.warnings] == ["waiver of METRIC_REGRESSION_ABSOLUTE by cro@example.com as model-risk-officer was not applied: it expired at 2026-11-21T11:59:59Z"]
}

test_waiver_for_other_version_does_nothing if {
	other := object.union(waiver, {"version": "6"})
	decide(object.union(regressed, {"waivers": [other]})).outcome == "deny"
}

test_non_waivable_rule_stays_denied if {
	doc := json.patch(approved, [{"op": "replace", "path": "/approvals/0/status", "value": "rejected"}])
	rejected_waiver := object.union(waiver, {"rule_code": "APPROVAL_REJECTED"})
	decide(object.union(doc, {"waivers": [rejected_waiver]})).outcome == "deny"
}

with_tier(doc, tier) := json.patch(doc, [
	{"op": "replace", "path": "/model/risk_tier", "value": tier},
	{"op": "replace", "path": "/model_card/risk_tier", "value": tier},
])

test_unconfigured_tier_denies if {
	doc := with_tier(approved, "medium")
	"PROMOTION_NOT_CONFIGURED" in codes(doc)
}

test_missing_risk_tier_is_judged_as_high if {
	doc := json.remove(approved, ["model/risk_tier", "model_card/risk_tier"])
	decide(doc).outcome == "allow"
	json.patch(doc, [{"op": "replace", "path": "/metrics/values/auc", "value": 0.80}]).model == doc.model
	"METRIC_BELOW_FLOOR" in codes(json.patch(doc, [{"op": "replace", "path": "/metrics/values/auc", "value": 0.89}]))
}

test_low_tier_needs_no_approval_fairness_or_baseline if {
	doc := with_tier(approved, "low")
	decide(json.remove(doc, ["approvals", "baseline", "metrics/by_group"])) == {"outcome": "allow", "reasons": [], "warnings": [], "risk_tier": "low"}
}

test_model_override_raises_floor if {
	doc := json.patch(approved, [{"op": "replace", "path": "/model/name", "value": "fraud-detector-eu"}])
	codes(doc) == {"METRIC_BELOW_FLOOR"}
}

test_request_cannot_lower_the_cards_risk_tier if {
	doc := json.patch(approved, [{"op": "replace", "path": "/model/risk_tier", "value": "low"}])
	decide(doc).reasons == [{
		"rule": "Risk tier is the model card's",
		"code": "RISK_TIER_CONFLICT",
		"severity": "critical",
		"message": "the request names risk tier low, but the model card says high; only the card sets the tier",
		"controls": ["SR 11-7 IV", "NIST AI RMF GOVERN 1.3"],
		"field": "model.risk_tier",
	}]
}

test_waiver_does_not_count_when[note] := passed if {
	some note, patch in {
		"given for another artifact": {"artifact_digest": "sha256:ef"},
		"given by the requester": {"approved_by": "ci@example.com"},
		"given in a role that may not waive": {"role": "data-steward"},
		"without a role": {"role": null},
	}
	passed := decide(object.union(regressed, {"waivers": [object.union(waiver, patch)]})).outcome == "deny"
}

test_waiver_roles_per_code_come_from_data if {
	steward := object.union(waiver, {"role": "data-steward"})
	roles := json.patch(config, [{"op": "add", "path": "/promotion/waivers", "value": {"roles": {"METRIC_REGRESSION_ABSOLUTE": ["data-steward"]}}}])
	by_steward := promotion.decision with input as object.union(regressed, {"waivers": [steward]}) with data.mlgate.config as roles
	by_steward.outcome == "allow"
	by_officer := promotion.decision with input as object.union(regressed, {"waivers": [waiver]}) with data.mlgate.config as roles
	by_officer.outcome == "deny"
}

test_waiver_from_the_sign_off_records_is_named_in_the_warning if {
	recorded := object.union(waiver, {"id": "6d0e2b1a", "record": 12})
	[w] := decide(object.union(regressed, {"waivers": [recorded]})).warnings
	w.waiver.id == "6d0e2b1a"
}

test_a_card_cannot_lower_the_tier_the_model_was_judged_under if {
	doc := object.union(
		with_tier(approved, "low"),
		{"recorded_risk_tier": {"tier": "high", "decision_id": "d-1", "version": "6"}},
	)
	decide(doc).reasons == [{
		"rule": "Risk tier is never lowered",
		"code": "RISK_TIER_LOWERED",
		"severity": "critical",
		"message": "the model card says risk tier low, but fraud-detector was judged as high-risk before (decision d-1 on v6); a tier is lowered only by a signed tier change (mlgate tier set, POST /v1/tiers) by a role in tier_changes.allowed_roles of the promotion data (it names none), never through a request",
		"controls": ["SR 11-7 IV", "NIST AI RMF GOVERN 1.3"],
		"field": "model_card.risk_tier",
	}]

	# judged under the recorded tier: the high-risk floor applies
	"METRIC_BELOW_FLOOR" in codes(json.patch(doc, [{"op": "replace", "path": "/metrics/values/auc", "value": 0.80}]))
}

# A tier set by a signed tier change holds like a judged one; the reason names the change and
# the roles that may make another.
test_a_card_cannot_lower_a_tier_set_by_a_tier_change if {
	changed := {"tier": "high", "tier_change_id": "tc-1", "changed_by": "cro@example.com", "role": "model-risk-officer", "changed_at": "2026-11-20T09:00:00Z"}
	doc := object.union(with_tier(approved, "low"), {"recorded_risk_tier": changed})
	changers := json.patch(config, [{"op": "add", "path": "/promotion/tier_changes", "value": {"allowed_roles": ["model-risk-officer", "cro"]}}])
	result := promotion.decision with input as doc with data.mlgate.config as changers
	[reason] := result.reasons
	reason.code == "RISK_TIER_LOWERED"
	reason.message == "the model card says risk tier low, but fraud-detector's risk tier was set to high by tier change tc-1 (cro@example.com as model-risk-officer); a tier is lowered only by a signed tier change (mlgate tier set, POST /v1/tiers) by cro, model-risk-officer, never through a request"
	result.risk_tier == "high"
}

# A tier change lowering the tier lets a card naming that tier be judged under it.
test_a_card_at_a_tier_lowered_by_a_tier_change_is_judged_under_it if {
	changed := {"tier": "low", "tier_change_id": "tc-2", "changed_by": "cro@example.com", "role": "model-risk-officer"}
	result := decide(object.union(with_tier(approved, "low"), {"recorded_risk_tier": changed}))
	result.outcome == "allow"
	result.risk_tier == "low"
}

# A recorded tier naming neither its decision nor its change still denies, naming what it can.
test_a_bare_recorded_tier_still_denies_a_lower_card if {
	[reason] := decide(object.union(with_tier(approved, "low"), {"recorded_risk_tier": {"tier": "high"}})).reasons
	reason.code == "RISK_TIER_LOWERED"
	contains(reason.message, "but fraud-detector was judged as high-risk before; a tier is lowered only")
}

test_a_higher_card_tier_than_recorded_applies if {
	doc := object.union(approved, {"recorded_risk_tier": {"tier": "low", "decision_id": "d-1", "version": "6"}})
	decide(doc).outcome == "allow"
	decide(json.remove(doc, ["approvals"])).outcome == "hold" # the high-risk approval applies
}

test_a_sign_off_by_someone_who_asked_for_this_version_does_not_count if {
	doc := object.union(approved, {"requesters": ["risk@example.com"]})
	codes(doc) == {"APPROVAL_PENDING"}
	waived := object.union(regressed, {"waivers": [waiver], "requesters": ["cro@example.com"]})
	decide(waived).outcome == "deny"
}

# The decision names the tier it judged under, so the service records that one.
test_decision_names_the_tier_it_judged_under[note] := passed if {
	some note, case in {
		"the card's tier": [with_tier(approved, "low"), "low"],
		"high when the card names none": [json.remove(approved, ["model/risk_tier", "model_card/risk_tier"]), "high"],
		"the recorded tier over a lower card's": [object.union(with_tier(approved, "low"), {"recorded_risk_tier": {"tier": "high"}}), "high"],
		"the card's over a lower recorded one": [object.union(approved, {"recorded_risk_tier": {"tier": "medium"}}), "high"],
		"an unconfigured tier as well": [with_tier(approved, "medium"), "medium"],
	}
	[doc, judged] := case
	passed := decide(doc).risk_tier == judged
}

test_decision_claims_no_tier_outside_low_medium_high if {
	result := decide(with_tier(approved, "critical"))
	not "risk_tier" in object.keys(result)
	result.outcome == "deny"
}

# Boundary tables pin a policy configured with one threshold and nothing else (a tier's
# settings, e.g. fairness, and its production stage's), so each sees only the limit it is about.
pinned(tier_settings, production) := {"promotion": {"tiers": {"high": object.union(tier_settings, {"stages": {"production": production}})}}}

decided_under(thresholds, doc) := result if {
	result := promotion.decision with input as doc with data.mlgate.config as thresholds
}

# The outcome, and each reason's code with the value and the limit it quotes.
verdict(result) := [result.outcome, {[r.code, r.actual, r.threshold] | some r in result.reasons}]

# A waiver lifts a denial until the instant it expires, not at it.
test_a_waiver_lifts_until_the_instant_it_expires[note] := passed if {
	some note, case in {
		"expiring a nanosecond after the request": ["2026-11-21T12:00:00.000000001Z", "allow"],
		"expiring at the request": ["2026-11-21T12:00:00Z", "deny"],
		"expired a nanosecond before the request": ["2026-11-21T11:59:59.999999999Z", "deny"],
	}
	[expires_at, outcome] := case
	doc := object.union(regressed, {"waivers": [object.union(waiver, {"expires_at": expires_at})]})
	passed := decide(doc).outcome == outcome
}

test_a_policy_set_missing_a_file_denies_naming_it if {
	loaded := {"baseline", "card", "fairness", "first_deployment", "lineage", "metrics", "signoffs", "stages"}
	result := promotion.decision with input as approved with data.mlgate.config as config with data.mlgate.promotion.files as loaded
	result.outcome == "deny"
	some reason in result.reasons
	reason.code == "PROMOTION_POLICY_FILES_MISSING"
	reason.message == "the promotion policy lacks regression.rego (package mlgate.promotion): it cannot judge without them"
}
