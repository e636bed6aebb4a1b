# The canary against its baseline, interval by interval: each interval's value against the
# baseline version's value over the same interval (the snapshot's baseline figures), with
# MLflow MetricThreshold's formulas and units, as promotion's regression against the champion.
package mlgate.monitoring

import data.mlgate.lib.metrics
import data.mlgate.lib.reasons

# This file is loaded (monitoring.rego checks that every file of the package is).
files contains "baseline"

_versus_baseline := object.get(settings, "versus_baseline", {})

# The baseline's value of a metric over the same interval: serving figures, then quality.
_baseline_value(snapshot, name) := snapshot.baseline.operational[name] if {
	is_number(snapshot.baseline.operational[name])
} else := snapshot.baseline.quality.metrics[name] if {
	is_number(snapshot.baseline.quality.metrics[name])
}

_has_baseline_value(snapshot, name) if is_number(_baseline_value(snapshot, name))

# A configured comparison the interval reports the canary's value for and not the baseline's
# cannot be made: the interval is an error, never a pass.
_baseline_missing(snapshot) := {msg |
	some name, _ in _versus_baseline
	_has_value(snapshot, name)
	not _has_baseline_value(snapshot, name)
	msg := sprintf("the baseline reports no %s to compare the canary's with", [name])
}

_baseline_breaks(snapshot) := _absolute_breaks(snapshot) | _relative_breaks(snapshot)

_absolute_breaks(snapshot) := {broken |
	some name, spec in _versus_baseline
	"min_absolute_change" in object.keys(spec)
	candidate := _value(snapshot, name)
	baseline := _baseline_value(snapshot, name)
	not metrics.meets_absolute_change(candidate, baseline, spec)
	broken := {
		"check": "absolute", "metric": name, "source": _source(snapshot, name), "actual": candidate, "baseline": baseline,
		"baseline_version": snapshot.baseline.version,
		"threshold": metrics.absolute_change_threshold(baseline, spec), "spec": spec,
	}
}

_relative_breaks(snapshot) := {broken |
	some name, spec in _versus_baseline
	"min_relative_change" in object.keys(spec)
	candidate := _value(snapshot, name)
	baseline := _baseline_value(snapshot, name)
	not metrics.meets_relative_change(candidate, baseline, spec)
	broken := {
		"check": "relative", "metric": name, "source": _source(snapshot, name), "actual": candidate, "baseline": baseline,
		"baseline_version": snapshot.baseline.version,
		"threshold": metrics.relative_change_threshold(baseline, spec), "spec": spec,
	}
}

# METADATA
# title: No regression against the baseline (absolute)
# description: |
#   In each judged interval, the canary changes each metric by at least min_absolute_change
#   against the baseline version over the same interval (MLflow MetricThreshold's formula).
#   A negative min_absolute_change is a tolerated drop, an mlgate extension: MLflow accepts
#   only positive values. A failed interval counts against failure_limit.
# custom:
#   code: MONITORING_BASELINE_REGRESSION_ABSOLUTE
#   severity: high
#   controls: ["SR 11-7 IV", "NIST AI RMF MEASURE 2.13"]
rollback contains reason if {
	some broken in data.mlgate.monitoring._named_breaks
	broken.check == "absolute"
	msg := sprintf(
		"%s %v in %s against the baseline v%s's %v: the change %v misses min_absolute_change %v, so it needs %s %v%s; %s",
		[
			broken.metric, metrics.for_people(broken.actual), broken.interval, broken.baseline_version,
			metrics.for_people(broken.baseline), metrics.for_people(broken.actual - broken.baseline),
			broken.spec.min_absolute_change, _at_least_or_most(broken.spec), metrics.for_people(broken.threshold),
			_tolerance_note(broken.spec.min_absolute_change), broken.tally,
		],
	)
	reason := reasons.from_rule(rego.metadata.rule(), msg, object.union(_metric_details(broken), {"baseline": broken.baseline}))
}

# METADATA
# title: No regression against the baseline (relative)
# description: |
#   In each judged interval, the canary changes each metric by at least min_relative_change
#   of the baseline's magnitude over the same interval (MLflow MetricThreshold's formula,
#   (c - b) / |b|; against a baseline value of 0, MLflow's fallback: better by 1e-10). A
#   negative min_relative_change is a tolerated drop, an mlgate extension: MLflow accepts only
#   0 to 1. A failed interval counts against failure_limit.
# custom:
#   code: MONITORING_BASELINE_REGRESSION_RELATIVE
#   severity: high
#   controls: ["SR 11-7 IV", "NIST AI RMF MEASURE 2.13"]
rollback contains reason if {
	some broken in data.mlgate.monitoring._named_breaks
	broken.check == "relative"
	msg := sprintf(
		"%s %v in %s against the baseline v%s's %v: %s, so it needs %s %v%s; %s",
		[
			broken.metric, metrics.for_people(broken.actual), broken.interval, broken.baseline_version,
			metrics.for_people(broken.baseline), _relative_text(broken), _at_least_or_most(broken.spec),
			metrics.for_people(broken.threshold), _tolerance_note(broken.spec.min_relative_change), broken.tally,
		],
	)
	details := object.union(_metric_details(broken), {"baseline": broken.baseline})
	reason := reasons.from_rule(rego.metadata.rule(), msg, object.union(details, _relative_field(broken)))
}

_at_least_or_most(spec) := "at least" if {
	object.get(spec, "greater_is_better", true) == true
} else := "at most"

_relative_text(broken) := "no relative change against a baseline of 0: MLflow's fallback asks for better by 1e-10" if {
	broken.baseline == 0
} else := sprintf(
	"the relative change %v%% misses min_relative_change %v%%",
	[
		metrics.for_people(100 * metrics.relative_change(broken.actual, broken.baseline, broken.spec)),
		metrics.for_people(100 * broken.spec.min_relative_change),
	],
)

_relative_field(broken) := {"relative_change": metrics.relative_change(broken.actual, broken.baseline, broken.spec)} if {
	broken.baseline != 0
} else := {}

_tolerance_note(change) := " (a negative minimum is mlgate's tolerated drop; MLflow takes only positive ones)" if {
	change < 0
} else := ""
