# The serving inputs' quality per interval: rows breaking the schema, null and out-of-range
# rates per feature, and the expectations of a Great Expectations suite. Zero expectations
# evaluated is no evidence: the interval is an error, never a pass.
package mlgate.monitoring

import data.mlgate.lib.reasons

# This file is loaded (monitoring.rego checks that every file of the package is).
files contains "data_quality"

_data_quality := object.get(settings, "data_quality", {})

# Expectations were run but fewer than min_expectations_evaluated (default 1) were evaluated.
_unevaluated(snapshot) := {msg |
	evaluated := snapshot.data_quality.expectations.evaluated
	minimum := object.get(_data_quality, "min_expectations_evaluated", 1)
	evaluated < minimum
	msg := sprintf("%v expectations evaluated, fewer than min_expectations_evaluated %v: no evidence of the data's quality", [evaluated, minimum])
}

_data_quality_breaks(snapshot) := ((_schema_breaks(snapshot) | _rate_breaks(snapshot, "null_rate", "max_null_rate")) | _rate_breaks(snapshot, "out_of_range_rate", "max_out_of_range_rate")) | _expectation_breaks(snapshot)

_schema_breaks(snapshot) := {{"check": "schema_violations", "actual": violations, "threshold": limit} |
	violations := snapshot.data_quality.schema_violations
	limit := _data_quality.max_schema_violations
	violations > limit
}

# Each feature whose rate is above the limit; `kind` is null_rate or out_of_range_rate.
_rate_breaks(snapshot, kind, limit_key) := {{"check": kind, "feature": feature, "actual": rate, "threshold": limit} |
	limit := _data_quality[limit_key]
	some feature, rate in object.get(snapshot, ["data_quality", kind], {})
	rate > limit
}

_expectation_breaks(snapshot) := {{"check": "expectations", "actual": failed, "threshold": limit, "evaluated": evaluated} |
	failed := snapshot.data_quality.expectations.failed
	evaluated := snapshot.data_quality.expectations.evaluated
	limit := _data_quality.max_expectations_failed
	failed > limit
}

# METADATA
# title: Inputs follow the schema
# description: |
#   In each judged interval, at most data_quality.max_schema_violations rows broke the input
#   schema. A failed interval counts against failure_limit.
# custom:
#   code: MONITORING_SCHEMA_VIOLATIONS
#   severity: high
#   controls: ["EU AI Act Art. 15", "NIST AI RMF MEASURE 2.4"]
rollback contains reason if {
	some broken in data.mlgate.monitoring._named_breaks
	broken.check == "schema_violations"
	msg := sprintf(
		"%v rows broke the input schema in %s, more than the %s max_schema_violations %v; %s",
		[broken.actual, broken.interval, stage, broken.threshold, broken.tally],
	)
	details := {"field": sprintf("snapshots[%d].data_quality.schema_violations", [broken.index]), "actual": broken.actual, "threshold": broken.threshold}
	reason := reasons.from_rule(rego.metadata.rule(), msg, details)
}

# METADATA
# title: Few missing values
# description: |
#   In each judged interval, every feature's null rate is at most data_quality.max_null_rate.
#   A failed interval counts against failure_limit.
# custom:
#   code: MONITORING_NULL_RATE
#   severity: high
#   controls: ["EU AI Act Art. 15", "NIST AI RMF MEASURE 2.4"]
rollback contains reason if {
	some broken in data.mlgate.monitoring._named_breaks
	broken.check == "null_rate"
	reason := reasons.from_rule(rego.metadata.rule(), _rate_message(broken, "null rate", "max_null_rate"), _rate_details(broken))
}

# METADATA
# title: Few values out of range
# description: |
#   In each judged interval, every feature's out-of-range rate is at most
#   data_quality.max_out_of_range_rate. A failed interval counts against failure_limit.
# custom:
#   code: MONITORING_OUT_OF_RANGE_RATE
#   severity: high
#   controls: ["EU AI Act Art. 15", "NIST AI RMF MEASURE 2.4"]
rollback contains reason if {
	some broken in data.mlgate.monitoring._named_breaks
	broken.check == "out_of_range_rate"
	reason := reasons.from_rule(rego.metadata.rule(), _rate_message(broken, "out-of-range rate", "max_out_of_range_rate"), _rate_details(broken))
}

_rate_message(broken, what, key) := sprintf(
	"feature %s's %s %v in %s is above the %s %s %v; %s",
	[broken.feature, what, broken.actual, broken.interval, stage, key, broken.threshold, broken.tally],
)

_rate_details(broken) := {
	"field": sprintf("snapshots[%d].data_quality.%s.%s", [broken.index, broken.check, broken.feature]),
	"actual": broken.actual,
	"threshold": broken.threshold,
}

# METADATA
# title: Data expectations hold
# description: |
#   In each judged interval, at most data_quality.max_expectations_failed of the evaluated
#   expectations failed (none evaluated is an error interval, not a pass). A failed interval
#   counts against failure_limit.
# custom:
#   code: MONITORING_EXPECTATIONS_FAILED
#   severity: high
#   controls: ["EU AI Act Art. 15", "NIST AI RMF MEASURE 2.4"]
rollback contains reason if {
	some broken in data.mlgate.monitoring._named_breaks
	broken.check == "expectations"
	msg := sprintf(
		"%v of %v expectations failed in %s, more than the %s max_expectations_failed %v; %s",
		[broken.actual, broken.evaluated, broken.interval, stage, broken.threshold, broken.tally],
	)
	details := {"field": sprintf("snapshots[%d].data_quality.expectations.failed", [broken.index]), "actual": broken.actual, "threshold": broken.threshold}
	reason := reasons.from_rule(rego.metadata.rule(), msg, details)
}
