package mlgate.monitoring_test

with_data_quality(part) := object.union(bare, {"data_quality": part})

error_once := ["hold", {["MONITORING_CONSECUTIVE_ERRORS", 1, 1]}]

test_schema_violations_pass_at_their_maximum[note] := passed if {
	some note, case in {
		"at max_schema_violations": [10, allowed],
		"just under": [9, allowed],
		"just over": [11, failed_once("MONITORING_SCHEMA_VIOLATIONS", 11, 10)],
	}
	[violations, expected] := case
	passed := judged_once({"data_quality": {"max_schema_violations": 10}}, with_data_quality({"schema_violations": violations})) == expected
}

# Rates per feature: max 0.25, values 1/128 either side.
test_null_rates_pass_at_their_maximum[note] := passed if {
	some note, case in {
		"at max_null_rate": [0.25, allowed],
		"just under": [0.2421875, allowed],
		"just over": [0.2578125, failed_once("MONITORING_NULL_RATE", 0.2578125, 0.25)],
	}
	[rate, expected] := case
	body := with_data_quality({"null_rate": {"amount": 0.01, "merchant": rate}})
	passed := judged_once({"data_quality": {"max_null_rate": 0.25}}, body) == expected
}

test_out_of_range_rates_pass_at_their_maximum[note] := passed if {
	some note, case in {
		"at max_out_of_range_rate": [0.25, allowed],
		"just under": [0.2421875, allowed],
		"just over": [0.2578125, failed_once("MONITORING_OUT_OF_RANGE_RATE", 0.2578125, 0.25)],
	}
	[rate, expected] := case
	body := with_data_quality({"out_of_range_rate": {"amount": rate}})
	passed := judged_once({"data_quality": {"max_out_of_range_rate": 0.25}}, body) == expected
}

test_failed_expectations_pass_at_their_maximum[note] := passed if {
	some note, case in {
		"at max_expectations_failed": [2, allowed],
		"just under": [1, allowed],
		"just over": [3, failed_once("MONITORING_EXPECTATIONS_FAILED", 3, 2)],
	}
	[failed, expected] := case
	body := with_data_quality({"expectations": {"evaluated": 12, "failed": failed}})
	passed := judged_once({"data_quality": {"max_expectations_failed": 2}}, body) == expected
}

# Fewer expectations evaluated than min_expectations_evaluated is no evidence: an error.
test_expectations_must_be_evaluated[note] := passed if {
	some note, case in {
		"at min_expectations_evaluated": [{"min_expectations_evaluated": 3}, 3, allowed],
		"just under": [{"min_expectations_evaluated": 3}, 2, error_once],
		"just over": [{"min_expectations_evaluated": 3}, 4, allowed],
		"zero, by default": [{}, 0, error_once],
		"one, by default": [{}, 1, allowed],
	}
	[limits, evaluated, expected] := case
	body := with_data_quality({"expectations": {"evaluated": evaluated, "failed": 0}})
	passed := judged_once({"data_quality": limits}, body) == expected
}

# A part the interval does not report is not judged: a suite that did not run is no error.
test_data_quality_the_interval_does_not_report_is_not_judged if {
	limits := {"max_schema_violations": 0, "max_null_rate": 0, "max_out_of_range_rate": 0, "max_expectations_failed": 0}
	judged_once({"data_quality": limits}, bare) == allowed
}

test_data_quality_reasons_name_the_feature_and_the_limit if {
	body := with_data_quality({
		"schema_violations": 12,
		"null_rate": {"amount": 0.2},
		"out_of_range_rate": {"merchant": 0.03},
		"expectations": {"evaluated": 12, "failed": 1},
	})
	limits := {"max_schema_violations": 10, "max_null_rate": 0.05, "max_out_of_range_rate": 0.01, "max_expectations_failed": 0}
	result := decided_under(pinned({"data_quality": limits}), run([body]))
	{[r.code, r.message, r.field] | some r in result.reasons; r.code != "MONITORING_FAILURE_LIMIT"} == {
		[
			"MONITORING_SCHEMA_VIOLATIONS",
			"12 rows broke the input schema in 14:25-14:30, more than the canary max_schema_violations 10; 1 of 1 intervals failed, budget 0",
			"snapshots[0].data_quality.schema_violations",
		],
		[
			"MONITORING_NULL_RATE",
			"feature amount's null rate 0.2 in 14:25-14:30 is above the canary max_null_rate 0.05; 1 of 1 intervals failed, budget 0",
			"snapshots[0].data_quality.null_rate.amount",
		],
		[
			"MONITORING_OUT_OF_RANGE_RATE",
			"feature merchant's out-of-range rate 0.03 in 14:25-14:30 is above the canary max_out_of_range_rate 0.01; 1 of 1 intervals failed, budget 0",
			"snapshots[0].data_quality.out_of_range_rate.merchant",
		],
		[
			"MONITORING_EXPECTATIONS_FAILED",
			"1 of 12 expectations failed in 14:25-14:30, more than the canary max_expectations_failed 0; 1 of 1 intervals failed, budget 0",
			"snapshots[0].data_quality.expectations.failed",
		],
	}
}
