package mlgate.promotion_test

import data.mlgate.promotion

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

# Absolute regression passes at the threshold the champion and min_absolute_change give, in
# both directions, with a required gain and with a tolerated drop. Values 1/128 either side.
# A case: [metric, greater_is_better, min_absolute_change, champion, candidate, threshold, outcome].
test_absolute_regression_passes_at_its_threshold[note] := passed if {
	some note, case in {
		"higher is better, at baseline + 0.25": ["auc", true, 0.25, 0.5, 0.75, 0.75, "allow"],
		"higher is better, just under": ["auc", true, 0.25, 0.5, 0.7421875, 0.75, "deny"],
		"higher is better, just over": ["auc", true, 0.25, 0.5, 0.7578125, 0.75, "allow"],
		"tolerated drop, at baseline - 0.25": ["auc", true, -0.25, 0.75, 0.5, 0.5, "allow"],
		"tolerated drop, just under": ["auc", true, -0.25, 0.75, 0.4921875, 0.5, "deny"],
		"tolerated drop, just over": ["auc", true, -0.25, 0.75, 0.5078125, 0.5, "allow"],
		"lower is better, at baseline - 4": ["latency_p99_ms", false, 4, 32, 28, 28, "allow"],
		"lower is better, just under": ["latency_p99_ms", false, 4, 32, 27.9921875, 28, "allow"],
		"lower is better, just over": ["latency_p99_ms", false, 4, 32, 28.0078125, 28, "deny"],
		"tolerated rise, at baseline + 4": ["latency_p99_ms", false, -4, 32, 36, 36, "allow"],
		"tolerated rise, just under": ["latency_p99_ms", false, -4, 32, 35.9921875, 36, "allow"],
		"tolerated rise, just over": ["latency_p99_ms", false, -4, 32, 36.0078125, 36, "deny"],
	}
	[metric, greater_is_better, change, baseline, candidate, threshold, outcome] := case
	spec := {"greater_is_better": greater_is_better, "min_absolute_change": change}
	passed := _regression_verdict(metric, spec, baseline, candidate) == _expected(outcome, "METRIC_REGRESSION_ABSOLUTE", candidate, threshold)
}

# Relative regression passes at the threshold: (c - b) / |b| (or (b - c) / |b| when lower is
# better) equal to min_relative_change; against a champion of 0, MLflow's margin of 1e-10.
# A case: [metric, greater_is_better, min_relative_change, champion, candidate, threshold, outcome].
test_relative_regression_passes_at_its_threshold[note] := passed if {
	some note, case in {
		"higher is better, at +50%": ["auc", true, 0.5, 0.5, 0.75, 0.75, "allow"],
		"higher is better, just under": ["auc", true, 0.5, 0.5, 0.7421875, 0.75, "deny"],
		"higher is better, just over": ["auc", true, 0.5, 0.5, 0.7578125, 0.75, "allow"],
		"tolerated drop, at -50%": ["auc", true, -0.5, 0.5, 0.25, 0.25, "allow"],
		"tolerated drop, just under": ["auc", true, -0.5, 0.5, 0.2421875, 0.25, "deny"],
		"tolerated drop, just over": ["auc", true, -0.5, 0.5, 0.2578125, 0.25, "allow"],
		"lower is better, at -12.5%": ["latency_p99_ms", false, 0.125, 32, 28, 28, "allow"],
		"lower is better, just under": ["latency_p99_ms", false, 0.125, 32, 27.9921875, 28, "allow"],
		"lower is better, just over": ["latency_p99_ms", false, 0.125, 32, 28.0078125, 28, "deny"],
		"tolerated rise, at +12.5%": ["latency_p99_ms", false, -0.125, 32, 36, 36, "allow"],
		"tolerated rise, just under": ["latency_p99_ms", false, -0.125, 32, 35.9921875, 36, "allow"],
		"tolerated rise, just over": ["latency_p99_ms", false, -0.125, 32, 36.0078125, 36, "deny"],
		"champion 0, higher is better, at 1e-10": ["auc", true, 0, 0, 1e-10, 1e-10, "allow"],
		"champion 0, higher is better, just under": ["auc", true, 0, 0, 5e-11, 1e-10, "deny"],
		"champion 0, higher is better, just over": ["auc", true, 0, 0, 2e-10, 1e-10, "allow"],
		"champion 0, lower is better, at -1e-10": ["latency_p99_ms", false, 0, 0, -1e-10, -1e-10, "allow"],
		"champion 0, lower is better, just under": ["latency_p99_ms", false, 0, 0, -2e-10, -1e-10, "allow"],
		"champion 0, lower is better, just over": ["latency_p99_ms", false, 0, 0, -5e-11, -1e-10, "deny"],
	}
	[metric, greater_is_better, change, baseline, candidate, threshold, outcome] := case
	spec := {"greater_is_better": greater_is_better, "min_relative_change": change}
	passed := _regression_verdict(metric, spec, baseline, candidate) == _expected(outcome, "METRIC_REGRESSION_RELATIVE", candidate, threshold)
}

# The verdict on a candidate against a champion under one regression spec and nothing else.
_regression_verdict(metric, spec, baseline, candidate) := verdict(decided_under(pinned({}, {"regression": {metric: spec}}), doc)) if {
	doc := json.patch(approved, [
		{"op": "add", "path": sprintf("/metrics/values/%s", [metric]), "value": candidate},
		{"op": "add", "path": sprintf("/baseline/metrics/values/%s", [metric]), "value": baseline},
	])
}

_expected("allow", _, _, _) := ["allow", set()]

_expected("deny", code, actual, threshold) := ["deny", {[code, actual, threshold]}]
