package mlgate.monitoring_test

# `total` features named f0, f1, ..., of which the first `drifted` are judged drifted.
features(total, drifted) := [{"name": sprintf("f%d", [i]), "score": 0.1, "method": "psi", "threshold": 0.2, "drifted": i < drifted} |
	some i in numbers.range(0, total - 1)
]

with_features(list) := object.union(bare, {"drift": {"features": list}})

# The share of drifted features passes at max_share_drifted: 1 of 4 at 0.25, 1 of 5 under it,
# 2 of 7 over it.
test_the_drifted_share_passes_at_its_maximum[note] := passed if {
	some note, case in {
		"at max_share_drifted": [4, 1, allowed],
		"just under": [5, 1, allowed],
		"just over": [7, 2, failed_once("MONITORING_DRIFT_SHARE", 2 / 7, 0.25)],
		"none drifted": [4, 0, allowed],
	}
	[total, drifted, expected] := case
	passed := judged_once({"drift": {"max_share_drifted": 0.25}}, with_features(features(total, drifted))) == expected
}

# An interval without drift features has no share to judge.
test_an_interval_without_drift_has_no_share_to_judge if {
	judged_once({"drift": {"max_share_drifted": 0}}, bare) == allowed
}

test_a_critical_feature_must_not_drift[note] := passed if {
	some note, case in {
		"not drifted": [{"name": "device", "score": 0.12, "method": "psi", "threshold": 0.2, "drifted": false}, allowed],
		"drifted": [{"name": "device", "score": 0.31, "method": "psi", "threshold": 0.2, "drifted": true}, failed_once("MONITORING_CRITICAL_FEATURE_DRIFTED", 0.31, 0.2)],
		"drifted, without a score": [{"name": "device", "drifted": true}, failed_once("MONITORING_CRITICAL_FEATURE_DRIFTED", null, null)],
		"another feature drifted": [{"name": "amount", "drifted": true}, ["hold", {["MONITORING_CONSECUTIVE_ERRORS", 1, 1]}]],
	}
	[feature, expected] := case
	passed := judged_once({"drift": {"critical_features": ["device"]}}, with_features([feature])) == expected
}

test_drift_reasons_name_the_feature_and_the_share if {
	drifted := array.concat(features(2, 2), [{"name": "device", "score": 0.31, "method": "psi", "threshold": 0.2, "drifted": true}])
	result := decided_under(pinned({"drift": {"critical_features": ["device"], "max_share_drifted": 0.5}}), run([with_features(drifted)]))
	{r | some r in result.reasons; r.code != "MONITORING_FAILURE_LIMIT"} == {
		{
			"rule": "No critical feature drifts",
			"code": "MONITORING_CRITICAL_FEATURE_DRIFTED",
			"severity": "high",
			"message": "critical feature device drifted in 14:25-14:30 (score 0.31 against threshold 0.2, psi); 1 of 1 intervals failed, budget 0",
			"field": "snapshots[0].drift.features",
			"actual": 0.31,
			"threshold": 0.2,
			"controls": ["NIST AI RMF MEASURE 2.4", "EU AI Act Art. 72"],
		},
		{
			"rule": "Few features drift",
			"code": "MONITORING_DRIFT_SHARE",
			"severity": "high",
			"message": "3 of 3 features drifted in 14:25-14:30, a share of 1 above the canary max_share_drifted 0.5; 1 of 1 intervals failed, budget 0",
			"field": "snapshots[0].drift.features",
			"actual": 1,
			"threshold": 0.5,
			"controls": ["NIST AI RMF MEASURE 2.4", "EU AI Act Art. 72"],
		},
	}
}
