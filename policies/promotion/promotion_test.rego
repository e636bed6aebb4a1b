package mlgate.promotion_test

import data.mlgate.promotion

# Thresholds pinned here, so shipped values in policies/data can change without breaking tests.
config := {"promotion": {
	"non_waivable": ["APPROVAL_REJECTED"],
	"stage_prerequisites": {"production": ["staging", "canary"]},
	"tiers": {
		"high": {
			"card_sections": ["monitoring_plan"],
			"fairness": {"metric": "tpr", "max_gap": 0.05},
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

test_promotion_denied_when_auc_below_floor if {
	doc := json.patch(approved, [{"op": "replace", "path": "/metrics/values/auc", "value": 0.88}])
	decide(doc).outcome == "deny"
	some r in decide(doc).reasons
	r == {
		"rule": "Metric floors are met",
		"code": "METRIC_BELOW_FLOOR",
		"severity": "high",
		"message": "auc 0.88 is below the high-risk production floor 0.9",
		"metric": "auc",
		"actual": 0.88,
		"threshold": 0.9,
		"controls": ["NIST AI RMF MEASURE 2.3", "SR 11-7 III.B"],
	}
}

test_promotion_denied_when_latency_above_ceiling if {
	doc := json.patch(approved, [
		{"op": "replace", "path": "/metrics/values/latency_p99_ms", "value": 55},
		{"op": "replace", "path": "/baseline/metrics/values/latency_p99_ms", "value": 60},
	])
	codes(doc) == {"METRIC_ABOVE_CEILING"}
}

test_promotion_denied_when_required_metric_missing if {
	doc := json.remove(approved, ["metrics/values/latency_p99_ms"])
	codes(doc) == {"METRIC_MISSING"}
	some r in decide(doc).reasons
	r.field == "metrics.values.latency_p99_ms"
}

test_promotion_denied_when_auc_regresses_against_champion if {
	doc := json.patch(approved, [{"op": "replace", "path": "/metrics/values/auc", "value": 0.92}])
	decide(doc).reasons == [{
		"rule": "No regression against the champion (absolute)",
		"code": "METRIC_REGRESSION_ABSOLUTE",
		"severity": "high",
		"message": "auc 0.92 against the champion v5's 0.93: the change -0.01 misses min_absolute_change 0, so it needs at least 0.93",
		"metric": "auc",
		"actual": 0.92,
		"threshold": 0.93,
		"baseline": 0.93,
		"controls": ["SR 11-7 III.B", "NIST AI RMF MEASURE 2.13"],
	}]
}

test_promotion_denied_when_latency_regresses_beyond_relative_tolerance if {
	doc := json.patch(approved, [{"op": "replace", "path": "/metrics/values/latency_p99_ms", "value": 34}])
	decide(doc).reasons == [{
		"rule": "No regression against the champion (relative)",
		"code": "METRIC_REGRESSION_RELATIVE",
		"severity": "high",
		"message": concat("", [
			"latency_p99_ms 34 against the champion v5's 30: the relative change -13.3333% misses ",
			"min_relative_change -10%, so it needs at most 33 ",
			"(a negative minimum is mlgate's tolerated drop; MLflow takes only positive ones)",
		]),
		"metric": "latency_p99_ms",
		"actual": 34,
		"threshold": 33,
		"baseline": 30,
		"relative_change": (30 - 34) / 30,
		"controls": ["SR 11-7 III.B", "NIST AI RMF MEASURE 2.13"],
	}]
}

test_promotion_allows_latency_within_relative_tolerance if {
	doc := json.patch(approved, [{"op": "replace", "path": "/metrics/values/latency_p99_ms", "value": 32.9}])
	decide(doc).outcome == "allow"
}

test_promotion_denied_when_baseline_missing if {
	codes(json.remove(approved, ["baseline"])) == {"BASELINE_MISSING"}
}

test_promotion_denied_when_baseline_metric_missing if {
	codes(json.remove(approved, ["baseline/metrics/values/auc"])) == {"BASELINE_METRIC_MISSING"}
}

# MLflow's fallback against a champion value of 0: the candidate must be better by 1e-10.
test_relative_check_against_a_zero_champion_uses_mlflows_fallback[note] := passed if {
	some note, case in {
		"worse than 0 ms": {"candidate": 1, "codes": {"METRIC_REGRESSION_RELATIVE"}},
		"equal to 0 ms": {"candidate": 0, "codes": {"METRIC_REGRESSION_RELATIVE"}},
		"better than 0 ms": {"candidate": -1, "codes": set()},
	}
	doc := json.patch(approved, [
		{"op": "replace", "path": "/baseline/metrics/values/latency_p99_ms", "value": 0},
		{"op": "replace", "path": "/metrics/values/latency_p99_ms", "value": case.candidate},
	])
	passed := codes(doc) == case.codes
}

test_relative_check_against_a_zero_champion_names_the_fallback if {
	doc := json.patch(approved, [{"op": "replace", "path": "/baseline/metrics/values/latency_p99_ms", "value": 0}])
	[r] := decide(doc).reasons
	r == {
		"rule": "No regression against the champion (relative)",
		"code": "METRIC_REGRESSION_RELATIVE",
		"severity": "high",
		"message": concat("", [
			"latency_p99_ms 31 against the champion v5's 0: no relative change against a champion of 0: ",
			"MLflow's fallback asks for better by 1e-10, so it needs at most -1e-10 ",
			"(a negative minimum is mlgate's tolerated drop; MLflow takes only positive ones)",
		]),
		"metric": "latency_p99_ms",
		"actual": 31,
		"threshold": -1e-10,
		"baseline": 0,
		"controls": ["SR 11-7 III.B", "NIST AI RMF MEASURE 2.13"],
	}
}

# A greater-is-better metric below zero (neg_log_loss): the change is measured against the
# champion's magnitude, as MLflow does, so worse stays worse.
test_relative_check_on_a_negative_champion_keeps_direction[note] := passed if {
	negative := json.patch(config, [{
		"op": "add",
		"path": "/promotion/tiers/high/stages/production/regression/neg_log_loss",
		"value": {"greater_is_better": true, "min_relative_change": 0},
	}])
	some note, case in {
		"worse candidate -0.40": {"candidate": -0.40, "codes": {"METRIC_REGRESSION_RELATIVE"}},
		"better candidate -0.30": {"candidate": -0.30, "codes": set()},
		"equal candidate -0.35": {"candidate": -0.35, "codes": set()},
	}
	doc := json.patch(approved, [
		{"op": "add", "path": "/metrics/values/neg_log_loss", "value": case.candidate},
		{"op": "add", "path": "/baseline/metrics/values/neg_log_loss", "value": -0.35},
	])
	result := promotion.decision with input as doc with data.mlgate.config as negative
	passed := {r.code | some r in result.reasons} == case.codes
}

test_promotion_denied_when_card_section_missing if {
	doc := json.patch(approved, [{"op": "replace", "path": "/model_card/monitoring_plan", "value": "  "}])
	codes(doc) == {"CARD_SECTION_MISSING"}
}

test_card_section_without_a_visible_character_is_missing[note] := passed if {
	some note, text in {
		"zero-width space": "\u200b",
		"zero-width joiner and spaces": " \u200d\u00a0\t",
		"word joiner": "\u2060",
		"empty": "",
	}
	doc := json.patch(approved, [{"op": "replace", "path": "/model_card/monitoring_plan", "value": text}])
	passed := decide(doc).reasons == [{
		"rule": "Model card is complete",
		"code": "CARD_SECTION_MISSING",
		"severity": "high",
		"message": "model_card.monitoring_plan is required for high-risk models and is missing or empty",
		"field": "model_card.monitoring_plan",
		"controls": ["EU AI Act Art. 11", "NIST AI RMF MAP 1.1"],
	}]
}

test_card_section_with_one_visible_character_counts if {
	doc := json.patch(approved, [{"op": "replace", "path": "/model_card/monitoring_plan", "value": "\u200b-"}])
	decide(doc).outcome == "allow"
}

test_promotion_denied_when_fairness_gap_exceeded if {
	doc := json.patch(approved, [{"op": "replace", "path": "/metrics/by_group/region/eu/tpr", "value": 0.55}])
	codes(doc) == {"FAIRNESS_GAP_EXCEEDED"}
	some r in decide(doc).reasons
	r.message == "tpr gap across region groups is 0.09, above the high-risk limit 0.05"
}

test_promotion_denied_when_protected_attribute_has_no_group_metrics if {
	doc := json.patch(approved, [{"op": "replace", "path": "/model_card/protected_attributes", "value": ["region", "age_band"]}])
	codes(doc) == {"FAIRNESS_GROUPS_TOO_FEW"}
}

test_promotion_denied_when_a_group_leaves_out_the_fairness_metric if {
	doc := json.patch(approved, [
		{"op": "add", "path": "/metrics/by_group/region/apac", "value": {"fpr": 0.02}},
		{"op": "replace", "path": "/metrics/by_group/region/eu/tpr", "value": 0.63},
	])
	decide(doc).reasons == [{
		"rule": "Per-group metrics for protected attributes",
		"code": "FAIRNESS_EVIDENCE_MISSING",
		"severity": "high",
		"message": "group apac of protected attribute region reports no tpr (metrics.by_group.region.apac.tpr)",
		"field": "metrics.by_group.region.apac.tpr",
		"metric": "tpr",
		"controls": ["EU AI Act Art. 10(2)(f)", "NIST AI RMF MEASURE 2.11"],
	}]
}

test_fairness_needs_two_groups_with_the_metric[note] := passed if {
	some note, case in {
		"no groups": {"groups": {}, "codes": {"FAIRNESS_GROUPS_TOO_FEW"}},
		"one group": {"groups": {"uk": {"tpr": 0.6}}, "codes": {"FAIRNESS_GROUPS_TOO_FEW"}},
		"one of two reports it": {
			"groups": {"uk": {"tpr": 0.6}, "eu": {"fpr": 0.1}},
			"codes": {"FAIRNESS_GROUPS_TOO_FEW", "FAIRNESS_EVIDENCE_MISSING"},
		},
		"a string is not a number": {
			"groups": {"uk": {"tpr": 0.6}, "eu": {"tpr": "0.55"}},
			"codes": {"FAIRNESS_GROUPS_TOO_FEW", "FAIRNESS_EVIDENCE_MISSING"},
		},
		"two groups": {"groups": {"uk": {"tpr": 0.6}, "eu": {"tpr": 0.61}}, "codes": set()},
	}
	doc := json.patch(approved, [{"op": "replace", "path": "/metrics/by_group/region", "value": case.groups}])
	passed := codes(doc) == case.codes
}

test_promotion_denied_when_lineage_incomplete if {
	doc := json.patch(approved, [{"op": "replace", "path": "/lineage", "value": {"datasets": [{"name": "train", "context": "training"}]}}])
	codes(doc) == {"LINEAGE_COMMIT_MISSING", "LINEAGE_ARTIFACT_DIGEST_MISSING", "LINEAGE_DATASET_DIGEST_MISSING"}
}

test_promotion_denied_when_no_training_dataset if {
	doc := json.patch(approved, [{"op": "replace", "path": "/lineage/datasets/0/context", "value": "evaluation"}])
	codes(doc) == {"LINEAGE_TRAINING_DATA_MISSING"}
}

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
	result.warnings == []
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

test_floor_boundaries[note] := passed if {
	some note, case in {
		"at floor": {"auc": 0.90, "outcome": "allow"},
		"just under": {"auc": 0.8999, "outcome": "deny"},
	}
	doc := json.patch(approved, [
		{"op": "replace", "path": "/metrics/values/auc", "value": case.auc},
		{"op": "replace", "path": "/baseline/metrics/values/auc", "value": 0.85},
	])
	passed := decide(doc).outcome == case.outcome
}

test_lower_is_better_absolute_regression_names_the_allowed_ceiling if {
	absolute := json.patch(config, [{
		"op": "replace",
		"path": "/promotion/tiers/high/stages/production/regression/latency_p99_ms",
		"value": {"greater_is_better": false, "min_absolute_change": -2},
	}])
	doc := json.patch(approved, [{"op": "replace", "path": "/metrics/values/latency_p99_ms", "value": 33}])
	result := promotion.decision with input as doc with data.mlgate.config as absolute
	[r] := result.reasons
	r.code == "METRIC_REGRESSION_ABSOLUTE"
	r.threshold == 32
	r.actual == 33
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

test_approval_for_another_artifact_does_not_count if {
	doc := json.patch(approved, [{"op": "replace", "path": "/approvals/0/artifact_digest", "value": "sha256:ef"}])
	codes(doc) == {"APPROVAL_PENDING"}
	decide(doc).outcome == "hold"
}

test_waiver_does_not_count_when[note] if {
	some note, patch in {
		"given for another artifact": {"artifact_digest": "sha256:ef"},
		"given by the requester": {"approved_by": "ci@example.com"},
		"given in a role that may not waive": {"role": "data-steward"},
		"without a role": {"role": null},
	}
	decide(object.union(regressed, {"waivers": [object.union(waiver, patch)]})).outcome == "deny"
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

test_a_request_naming_another_artifact_than_the_lineage_is_denied if {
	doc := json.patch(approved, [{"op": "replace", "path": "/model/artifact_digest", "value": "sha256:ef"}])
	codes(doc) == {"ARTIFACT_DIGEST_CONFLICT", "APPROVAL_PENDING"} # the approval names sha256:ab
	decide(doc).reasons[0] == {
		"rule": "Artifact digest is the lineage's",
		"code": "ARTIFACT_DIGEST_CONFLICT",
		"severity": "critical",
		"message": "the request names artifact sha256:ef, but the lineage records sha256:ab",
		"controls": ["EU AI Act Art. 12", "SR 11-7 IV"],
		"field": "model.artifact_digest",
	}
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
		"message": "the model card says risk tier low, but fraud-detector was judged as high-risk before (decision d-1 on v6); a tier is never lowered through a request",
		"controls": ["SR 11-7 IV", "NIST AI RMF GOVERN 1.3"],
		"field": "model_card.risk_tier",
	}]

	# judged under the recorded tier: the high-risk floor applies
	"METRIC_BELOW_FLOOR" in codes(json.patch(doc, [{"op": "replace", "path": "/metrics/values/auc", "value": 0.80}]))
}

test_a_higher_card_tier_than_recorded_applies if {
	doc := object.union(approved, {"recorded_risk_tier": {"tier": "low", "decision_id": "d-1", "version": "6"}})
	decide(doc).outcome == "allow"
	decide(json.remove(doc, ["approvals"])).outcome == "hold" # the high-risk approval applies
}

test_an_allow_under_a_lower_tier_is_no_history_for_a_higher_one if {
	doc := json.patch(approved, [{"op": "add", "path": "/history/0/risk_tier", "value": "low"}])
	codes(doc) == {"STAGE_ORDER"}
	decide(json.patch(approved, [{"op": "add", "path": "/history/0/risk_tier", "value": "high"}])).outcome == "allow"
}

test_a_sign_off_by_someone_who_asked_for_this_version_does_not_count if {
	doc := object.union(approved, {"requesters": ["risk@example.com"]})
	codes(doc) == {"APPROVAL_PENDING"}
	waived := object.union(regressed, {"waivers": [waiver], "requesters": ["cro@example.com"]})
	decide(waived).outcome == "deny"
}

test_registry_provenance_required_where_the_thresholds_say_so[note] if {
	some note, case in {
		"caller's evidence denies": [{"metrics": "request", "lineage": "registry: MLflow"}, {"metrics"}],
		"registry evidence passes": [{"metrics": "registry: MLflow", "lineage": "registry: MLflow"}, set()],
		"no provenance denies": [{}, {"metrics", "lineage"}],
	}
	[provenance, denied] := case
	strict := json.patch(config, [{
		"op": "add",
		"path": "/promotion/tiers/high/stages/production/require_registry",
		"value": ["metrics", "lineage"],
	}])
	result := promotion.decision with input as object.union(approved, {"provenance": provenance})
		with data.mlgate.config as strict
	{r.field | some r in result.reasons; r.code == "REGISTRY_PROVENANCE_REQUIRED"} == denied
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
