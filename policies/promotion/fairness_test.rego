package mlgate.promotion_test

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

# A gap at max_gap passes; only a larger one denies. max_gap 0.25, gaps 1/128 either side.
test_a_fairness_gap_passes_at_max_gap[note] := passed if {
	some note, case in {
		"at max_gap": [0.75, ["allow", set()]],
		"just under": [0.7421875, ["allow", set()]],
		"just over": [0.7578125, ["deny", {["FAIRNESS_GAP_EXCEEDED", 0.2578125, 0.25]}]],
	}
	[tpr, expected] := case
	doc := json.patch(approved, [{"op": "replace", "path": "/metrics/by_group/region", "value": {"uk": {"tpr": 0.5}, "eu": {"tpr": tpr}}}])
	thresholds := pinned({"fairness": {"metric": "tpr", "max_gap": 0.25}}, {})
	passed := verdict(decided_under(thresholds, doc)) == expected
}
