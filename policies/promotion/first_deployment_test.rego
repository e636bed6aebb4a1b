package mlgate.promotion_test

import data.mlgate.promotion

# The pinned config with a first-deployment rule for high-risk production: one role the stage
# asks an approval of already, one it does not, and stricter limits than the stage's.
first_config := json.patch(config, [{
	"op": "add",
	"path": "/promotion/tiers/high/stages/production/first_deployment",
	"value": {
		"approver_roles": ["model-risk-officer", "head-of-fraud"],
		"floors": {"auc": 0.92},
		"ceilings": {"latency_p99_ms": 40},
	},
}])

decide_first(doc) := result if {
	result := promotion.decision with input as doc with data.mlgate.config as first_config
}

codes_first(doc) := {r.code | some r in decide_first(doc).reasons}

# No champion of record and no baseline: the version is a first deployment.
first := json.remove(approved, ["baseline"])

head_of_fraud(status) := {
	"approver": "fraud-lead@example.com", "role": "head-of-fraud", "status": status,
	"version": "7", "artifact_digest": "sha256:ab",
}

with_approval(doc, approval) := json.patch(doc, [{"op": "add", "path": "/approvals/-", "value": approval}])

pending_reason(state) := {
	"rule": "A first deployment is approved",
	"code": "FIRST_DEPLOYMENT_APPROVAL_PENDING",
	"severity": "medium",
	"message": sprintf(
		"v7 is the first high-risk production deployment of fraud-detector (no champion is on record); it awaits approval by a head-of-fraud (%s)",
		[state],
	),
	"field": "approvals",
	"controls": ["SR 11-7 IV", "EU AI Act Art. 14"],
}

test_a_first_deployment_holds_for_the_roles_the_stage_does_not_ask_already if {
	decide_first(first) == {
		"outcome": "hold",
		"reasons": [pending_reason("none requested")],
		"warnings": [],
		"risk_tier": "high",
	}
}

test_a_first_deployment_names_a_pending_approval if {
	decide_first(with_approval(first, head_of_fraud("pending"))).reasons == [pending_reason("pending")]
}

test_a_first_deployment_approved_by_its_roles_is_allowed if {
	decide_first(with_approval(first, head_of_fraud("approved"))) == {
		"outcome": "allow", "reasons": [], "warnings": [], "risk_tier": "high",
	}
}

# The stage's own approval rule holds for its roles; the first-deployment rule adds no second
# reason for the same role.
test_a_role_the_stage_asks_already_holds_once_under_approval_pending if {
	doc := with_approval(json.remove(first, ["approvals/0"]), head_of_fraud("approved"))
	[r.code | some r in decide_first(doc).reasons] == ["APPROVAL_PENDING"]
}

test_a_first_deployment_rejected_by_one_of_its_roles_is_denied if {
	result := decide_first(with_approval(first, head_of_fraud("rejected")))
	result.outcome == "deny"
	{r.code | some r in result.reasons} == {"APPROVAL_REJECTED", "FIRST_DEPLOYMENT_APPROVAL_PENDING"}
}

test_a_first_deployment_approved_by_the_requester_still_holds if {
	approval := object.union(head_of_fraud("approved"), {"approver": "ci@example.com"})
	codes_first(with_approval(first, approval)) == {"FIRST_DEPLOYMENT_APPROVAL_PENDING"}
}

first_approved := with_approval(first, head_of_fraud("approved"))

# Boundaries: at the first-deployment floor or ceiling passes, just beyond denies.
test_first_deployment_limits_at_their_boundaries[note] := passed if {
	some note, case in {
		"auc at the floor": {"metric": "auc", "value": 0.92, "codes": set()},
		"auc just under the floor": {"metric": "auc", "value": 0.9199, "codes": {"FIRST_DEPLOYMENT_BELOW_FLOOR"}},
		"auc just over the floor": {"metric": "auc", "value": 0.9201, "codes": set()},
		"latency at the ceiling": {"metric": "latency_p99_ms", "value": 40, "codes": set()},
		"latency just over the ceiling": {"metric": "latency_p99_ms", "value": 40.01, "codes": {"FIRST_DEPLOYMENT_ABOVE_CEILING"}},
		"latency just under the ceiling": {"metric": "latency_p99_ms", "value": 39.99, "codes": set()},
	}
	doc := json.patch(first_approved, [{"op": "replace", "path": sprintf("/metrics/values/%s", [case.metric]), "value": case.value}])
	passed := codes_first(doc) == case.codes
}

test_a_first_deployment_below_its_floor_is_denied_quoting_the_evidence if {
	doc := json.patch(first_approved, [{"op": "replace", "path": "/metrics/values/auc", "value": 0.91}])
	decide_first(doc) == {
		"outcome": "deny",
		"reasons": [{
			"rule": "First-deployment floors are met",
			"code": "FIRST_DEPLOYMENT_BELOW_FLOOR",
			"severity": "high",
			"message": "auc 0.91 is below the floor 0.92 for the first high-risk production deployment of fraud-detector (no champion is on record)",
			"metric": "auc",
			"actual": 0.91,
			"threshold": 0.92,
			"controls": ["NIST AI RMF MEASURE 2.3", "SR 11-7 III.B"],
		}],
		"warnings": [],
		"risk_tier": "high",
	}
}

test_a_first_deployment_above_its_ceiling_is_denied_quoting_the_evidence if {
	doc := json.patch(first_approved, [{"op": "replace", "path": "/metrics/values/latency_p99_ms", "value": 45}])
	[reason] := decide_first(doc).reasons
	reason.message == "latency_p99_ms 45 is above the ceiling 40 for the first high-risk production deployment of fraud-detector (no champion is on record)"
	reason.threshold == 40
}

test_a_metric_with_a_first_deployment_floor_must_be_reported if {
	strict := json.patch(first_config, [{
		"op": "add",
		"path": "/promotion/tiers/high/stages/production/first_deployment/floors/recall_at_1pct_fpr",
		"value": 0.6,
	}])
	result := promotion.decision with input as first_approved with data.mlgate.config as strict
	[r.code | some r in result.reasons] == ["METRIC_MISSING"]
	result.reasons[0].metric == "recall_at_1pct_fpr"
}

# With a champion of record, the version is judged against it and the first-deployment rule
# does not apply: no second approval, no stricter limits.
test_a_champion_of_record_is_no_first_deployment if {
	of_record := {"alias": "champion", "version": "5", "move": "m-1", "registry_version": "5"}
	doc := json.patch(approved, [
		{"op": "add", "path": "/alias_of_record", "value": of_record},
		{"op": "replace", "path": "/metrics/values/auc", "value": 0.935},
	])
	decide_first(doc) == {"outcome": "allow", "reasons": [], "warnings": [], "risk_tier": "high"}
}

# A champion on record whose metrics could not be read back is no first deployment either.
test_a_champion_of_record_without_its_baseline_is_still_baseline_missing if {
	doc := object.union(first, {"alias_of_record": {"alias": "champion", "version": "5", "move": "m-1"}})
	codes_first(doc) == {"BASELINE_MISSING"}
}

# A baseline the caller or an evidence file gives while none is on record is compared against.
test_a_given_baseline_is_compared_against_and_is_no_first_deployment if {
	codes_first(approved) == set()
	regressed_doc := json.patch(approved, [{"op": "replace", "path": "/metrics/values/auc", "value": 0.925}])
	codes_first(regressed_doc) == {"METRIC_REGRESSION_ABSOLUTE"}
}

# The version of an alias set outside the gate is no champion: the first-deployment rule
# applies, and the decision warns.
test_an_alias_set_outside_the_gate_is_no_champion_and_is_warned_of if {
	doc := object.union(approved, {"alias_unrecorded": {"alias": "champion", "registry_version": "5"}})
	result := decide_first(doc)
	result.outcome == "hold"
	[r.code | some r in result.reasons] == ["FIRST_DEPLOYMENT_APPROVAL_PENDING"]
	[w.code | some w in result.warnings] == ["ALIAS_SET_OUTSIDE_GATE"]
}

# A stage that compares against no champion has no first deployment (the schema refuses
# first_deployment there; the policy does not apply it either).
test_a_stage_without_baseline_required_has_no_first_deployment if {
	loose := json.patch(first_config, [{"op": "replace", "path": "/promotion/tiers/high/stages/production/baseline_required", "value": false}])
	result := promotion.decision with input as first with data.mlgate.config as loose
	result.outcome == "allow"
}

test_without_a_first_deployment_rule_a_missing_baseline_denies if {
	codes(first) == {"BASELINE_MISSING"}
}
