package mlgate.promotion_test

test_promotion_denied_when_fairness_gap_exceeded if {
	doc := json.patch(approved, [{"op": "replace", "path": "/metrics/by_group/region/eu/tpr", "value": 0.55}])
	codes(doc) == {"FAIRNESS_GAP_EXCEEDED"}
	some r in decide(doc).reasons
	r.message == "tpr gap across region groups is 0.09, above the high-risk production limit 0.05"
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
	thresholds := pinned({"fairness": {"tpr": {"max_gap": 0.25}}}, {})
	passed := verdict(decided_under(thresholds, doc)) == expected
}

# Two metrics at the tier, a third at production: each judged on its own.
_two_metrics := pinned({"fairness": {"tpr": {"max_gap": 0.05}, "fpr": {"max_gap": 0.01}}}, {"fairness": {"ece": {"max_gap": 0.02}}})

_region(groups) := json.patch(approved, [{"op": "replace", "path": "/metrics/by_group/region", "value": groups}])

test_every_fairness_metric_of_the_tier_and_stage_is_judged[note] := passed if {
	some note, case in {
		"all within": [
			{"uk": {"tpr": 0.6, "fpr": 0.02, "ece": 0.01}, "eu": {"tpr": 0.62, "fpr": 0.025, "ece": 0.02}},
			["allow", set()],
		],
		"the second tier metric over": [
			{"uk": {"tpr": 0.6, "fpr": 0.02, "ece": 0.01}, "eu": {"tpr": 0.62, "fpr": 0.04, "ece": 0.02}},
			["deny", {["FAIRNESS_GAP_EXCEEDED", 0.02, 0.01]}],
		],
		"the stage's metric over": [
			{"uk": {"tpr": 0.6, "fpr": 0.02, "ece": 0.01}, "eu": {"tpr": 0.62, "fpr": 0.025, "ece": 0.05}},
			["deny", {["FAIRNESS_GAP_EXCEEDED", 0.04, 0.02]}],
		],
	}
	[groups, expected] := case
	passed := verdict(decided_under(_two_metrics, _region(groups))) == expected
}

test_a_group_lacking_the_second_metric_is_denied_naming_group_and_metric if {
	doc := _region({
		"uk": {"tpr": 0.6, "fpr": 0.02, "ece": 0.01},
		"eu": {"tpr": 0.61, "ece": 0.01},
		"apac": {"tpr": 0.6, "fpr": 0.02, "ece": 0.01},
	})
	decided_under(_two_metrics, doc).reasons == [{
		"rule": "Per-group metrics for protected attributes",
		"code": "FAIRNESS_EVIDENCE_MISSING",
		"severity": "high",
		"message": "group eu of protected attribute region reports no fpr (metrics.by_group.region.eu.fpr)",
		"field": "metrics.by_group.region.eu.fpr",
		"metric": "fpr",
		"controls": ["EU AI Act Art. 10(2)(f)", "NIST AI RMF MEASURE 2.11"],
	}]
}

test_too_few_groups_reporting_one_metric_is_denied_for_that_metric if {
	doc := _region({"uk": {"tpr": 0.6, "fpr": 0.02, "ece": 0.01}, "eu": {"tpr": 0.61, "fpr": 0.02}})
	{[r.code, r.metric] | some r in decided_under(_two_metrics, doc).reasons} == {
		["FAIRNESS_EVIDENCE_MISSING", "ece"],
		["FAIRNESS_GROUPS_TOO_FEW", "ece"],
	}
}

test_a_stages_fairness_metric_applies_at_that_stage_only if {
	doc := json.patch(_region({"uk": {"tpr": 0.6, "fpr": 0.02}, "eu": {"tpr": 0.61, "fpr": 0.02}}), [{"op": "replace", "path": "/target/stage", "value": "staging"}])
	staging_only := {"promotion": {"tiers": {"high": {
		"fairness": {"tpr": {"max_gap": 0.05}},
		"stages": {"staging": {"fairness": {"fpr": {"max_gap": 0.01}}}, "production": {}},
	}}}}
	decided_under(staging_only, doc).outcome == "allow"
	production := json.patch(doc, [{"op": "replace", "path": "/target/stage", "value": "production"}])
	{r.code | some r in decided_under(staging_only, production).reasons} & {"FAIRNESS_EVIDENCE_MISSING", "FAIRNESS_GAP_EXCEEDED", "FAIRNESS_GROUPS_TOO_FEW"} == set()
}

test_a_stage_may_change_a_tier_metrics_max_gap if {
	doc := _region({"uk": {"tpr": 0.6}, "eu": {"tpr": 0.63}})
	looser := pinned({"fairness": {"tpr": {"max_gap": 0.01}}}, {"fairness": {"tpr": {"max_gap": 0.05}}})
	verdict(decided_under(looser, doc)) == ["allow", set()]
}

test_no_fairness_metric_configured_judges_no_groups if {
	doc := _region({})
	verdict(decided_under(pinned({}, {}), doc)) == ["allow", set()]
}
