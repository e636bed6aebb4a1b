package mlgate.promotion_test

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

# A floor passes at its value: floor 0.5, and values 1/128 either side (exact in binary).
test_a_floor_passes_at_its_value[note] := passed if {
	some note, case in {
		"at the floor": [0.5, ["allow", set()]],
		"just under": [0.4921875, ["deny", {["METRIC_BELOW_FLOOR", 0.4921875, 0.5]}]],
		"just over": [0.5078125, ["allow", set()]],
	}
	[auc, expected] := case
	doc := json.patch(approved, [{"op": "replace", "path": "/metrics/values/auc", "value": auc}])
	passed := verdict(decided_under(pinned({}, {"floors": {"auc": 0.5}}), doc)) == expected
}

# A ceiling passes at its value: ceiling 0.25, and values 1/128 either side.
test_a_ceiling_passes_at_its_value[note] := passed if {
	some note, case in {
		"at the ceiling": [0.25, ["allow", set()]],
		"just under": [0.2421875, ["allow", set()]],
		"just over": [0.2578125, ["deny", {["METRIC_ABOVE_CEILING", 0.2578125, 0.25]}]],
	}
	[ece, expected] := case
	doc := json.patch(approved, [{"op": "add", "path": "/metrics/values/calibration_ece", "value": ece}])
	passed := verdict(decided_under(pinned({}, {"ceilings": {"calibration_ece": 0.25}}), doc)) == expected
}
