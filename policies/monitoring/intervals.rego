# The judged intervals and what each one is. As Argo Rollouts counts an AnalysisRun's
# measurements (argo-rollouts docs, "Analysis"), every interval after the warm-up is exactly one
# of: error (it could not be measured), inconclusive (too few samples to tell), failed (a
# threshold is broken) or successful. The budgets (budgets.rego) count them.
package mlgate.monitoring

# This file is loaded (monitoring.rego checks that every file of the package is).
files contains "intervals"

_warmup := object.get(settings, "warmup_intervals", 0)

# Indexes into input.snapshots (oldest first) of the intervals after the warm-up.
_judged := [i | some i, _ in input.snapshots; i >= _warmup]

# Index -> "error", "inconclusive", "failed" or "successful"; one object, judged once.
_kinds := {i: _kind(input.snapshots[i]) | some i in _judged}

_kind(snapshot) := "error" if {
	count(_error_causes(snapshot)) > 0
} else := "inconclusive" if {
	not _has_enough_samples(snapshot)
} else := "failed" if {
	count(_breaks(snapshot)) > 0
} else := "successful"

# Below this many samples an interval says nothing either way.
_min_samples := object.get(settings, "min_samples", 1)

_has_enough_samples(snapshot) if snapshot.sample_count >= _min_samples

# Indexes of the judged intervals of one kind, oldest first.
_of_kind(kind) := [i | some i in _judged; _kinds[i] == kind]

# The index of the newest snapshot.
_last := count(input.snapshots) - 1

# How many intervals of one kind end the run: the trailing run of successes or of errors.
_trailing(kind) := _last - max(others) if {
	others := [i | some i in _judged; _kinds[i] != kind]
	count(others) > 0
} else := count(_judged)

# What made an interval an error: the monitor said so, a required metric is not reported as
# a number, no expectation was evaluated, or a configured comparison or critical feature has
# nothing to judge. Each is a sentence the reasons quote.
_error_causes(snapshot) := (((_reported_error(snapshot) | _missing_required(snapshot)) | _unevaluated(snapshot)) | _baseline_missing(snapshot)) | _features_unjudged(snapshot)

_reported_error(snapshot) := {sprintf("the monitor reported an error: %v", [snapshot.error]) |
	"error" in object.keys(snapshot)
}

_missing_required(snapshot) := {sprintf("%s is not reported%s", [name, _label_note(snapshot, name)]) |
	some name in object.get(settings, "required_metrics", [])
	not _has_value(snapshot, name)
}

# Every failed check of a non-error interval, whatever its kind (thresholds.rego, baseline.rego,
# drift.rego, data_quality.rego): one entry per broken limit.
_breaks(snapshot) := ((((_floor_breaks(snapshot) | _ceiling_breaks(snapshot)) | _range_breaks(snapshot)) | _baseline_breaks(snapshot)) | _drift_breaks(snapshot)) | _data_quality_breaks(snapshot)

# A missing quality metric is usually one whose labels have not arrived: say how far they are.
_label_note(snapshot, name) := sprintf(
	" (a quality metric: labels arrive after %vs; %v predictions of the interval labelled)",
	[snapshot.quality.label_delay_seconds, object.get(snapshot, ["quality", "labelled_count"], 0)],
) if {
	name in _quality_metrics
	is_number(snapshot.quality.label_delay_seconds)
} else := sprintf(" (a quality metric: %v predictions of the interval labelled)", [object.get(snapshot, ["quality", "labelled_count"], 0)]) if {
	name in _quality_metrics
} else := ""

# Names known as model-quality metrics: statistics says so, or an interval reports them there.
_quality_metrics contains name if {
	some name, spec in object.get(_monitoring, ["statistics", "metrics"], {})
	spec.source == "quality"
}

_quality_metrics contains name if {
	some snapshot in input.snapshots
	some name, _ in object.get(snapshot, ["quality", "metrics"], {})
}

# Index -> the snapshot's interval as the reasons quote it, "14:05-14:10".
_interval_of := {i: _interval_text(snapshot) | some i, snapshot in input.snapshots}

# The intervals at these indexes, in order: "14:05-14:10, 14:15-14:20".
_intervals_text(indexes) := concat(", ", [_interval_of[i] | some i in indexes])
