# Floors, ceilings and ranges of each judged interval's metrics. A metric is looked up among
# the serving figures (operational), then the model-quality ones (quality.metrics); a metric
# an interval does not report is not checked here (required_metrics makes its absence an error).
package mlgate.monitoring

import data.mlgate.lib.reasons

# This file is loaded (monitoring.rego checks that every file of the package is).
files contains "thresholds"

_floor_breaks(snapshot) := {{"check": "floor", "metric": name, "source": _source(snapshot, name), "actual": value, "threshold": floor} |
	some name, floor in object.get(settings, "floors", {})
	value := _value(snapshot, name)
	value < floor
}

_ceiling_breaks(snapshot) := {{"check": "ceiling", "metric": name, "source": _source(snapshot, name), "actual": value, "threshold": ceiling} |
	some name, ceiling in object.get(settings, "ceilings", {})
	value := _value(snapshot, name)
	value > ceiling
}

# A value outside [low, high]; the bound it is beyond is the threshold.
_range_breaks(snapshot) := {broken |
	some name, [low, high] in object.get(settings, "ranges", {})
	value := _value(snapshot, name)
	bound := _beyond(value, low, high)
	broken := {"check": "range", "metric": name, "source": _source(snapshot, name), "actual": value, "threshold": bound, "range": [low, high]}
}

_beyond(value, low, high) := low if {
	value < low
} else := high if {
	value > high
}

# METADATA
# title: Metric floors are met
# description: |
#   In each judged interval, each metric with a floor is at or above it. A failed interval
#   counts against failure_limit; once over it, each broken floor is named.
# custom:
#   code: MONITORING_BELOW_FLOOR
#   severity: high
#   controls: ["NIST AI RMF MEASURE 2.4", "SR 11-7 IV"]
rollback contains reason if {
	some broken in data.mlgate.monitoring._named_breaks
	broken.check == "floor"
	msg := sprintf("%s %v in %s is below the %s floor %v; %s", [broken.metric, broken.actual, broken.interval, stage, broken.threshold, broken.tally])
	reason := reasons.from_rule(rego.metadata.rule(), msg, _metric_details(broken))
}

# METADATA
# title: Metric ceilings are met
# description: |
#   In each judged interval, each metric with a ceiling is at or below it. A failed interval
#   counts against failure_limit; once over it, each broken ceiling is named.
# custom:
#   code: MONITORING_ABOVE_CEILING
#   severity: high
#   controls: ["NIST AI RMF MEASURE 2.4", "SR 11-7 IV"]
rollback contains reason if {
	some broken in data.mlgate.monitoring._named_breaks
	broken.check == "ceiling"
	msg := sprintf("%s %v in %s is above the %s ceiling %v; %s", [broken.metric, broken.actual, broken.interval, stage, broken.threshold, broken.tally])
	reason := reasons.from_rule(rego.metadata.rule(), msg, _metric_details(broken))
}

# METADATA
# title: Metrics stay in range
# description: |
#   In each judged interval, each metric with a range [low, high] is within it, both ends
#   included. A failed interval counts against failure_limit; once over it, each value out
#   of range is named, with the end it is beyond as the threshold.
# custom:
#   code: MONITORING_OUT_OF_RANGE
#   severity: high
#   controls: ["NIST AI RMF MEASURE 2.4", "SR 11-7 IV"]
rollback contains reason if {
	some broken in data.mlgate.monitoring._named_breaks
	broken.check == "range"
	[low, high] := broken.range
	msg := sprintf("%s %v in %s is outside the %s range [%v, %v]; %s", [broken.metric, broken.actual, broken.interval, stage, low, high, broken.tally])
	reason := reasons.from_rule(rego.metadata.rule(), msg, _metric_details(broken))
}

# METADATA
# title: Every threshold names a metric the intervals report
# description: |
#   A floor, ceiling, range or baseline comparison on a metric that no judged interval
#   reports is never checked: most often a misspelt name (eror_rate), which would switch the
#   threshold off without a word. The gate says so on every decision, whatever its outcome.
#   (List a metric in required_metrics to make its absence an error instead.)
# custom:
#   code: MONITORING_THRESHOLD_UNUSED
#   severity: medium
#   controls: ["NIST AI RMF MEASURE 2.4", "SR 11-7 IV"]
warn contains reason if {
	count(data.mlgate.monitoring._judged) > 0
	some kind in ["floors", "ceilings", "ranges", "versus_baseline"]
	some name, _ in object.get(settings, kind, {})
	not _reported_anywhere(name)
	msg := sprintf("%s.%s names a metric no judged interval reports, so it was never checked (misspelt? list it in required_metrics to make its absence an error)", [kind, name])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": sprintf("%s.%s", [kind, name]), "metric": name})
}

# `_judged` by its full path: intervals.rego calls this file's functions, so this file must
# compile without intervals.rego, as an OPA server compiles each pushed module.
_reported_anywhere(name) if {
	some i in data.mlgate.monitoring._judged
	_has_value(input.snapshots[i], name)
}
