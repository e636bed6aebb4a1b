# Argo Rollouts' counting of an AnalysisRun (argo-rollouts docs, "Analysis": failureLimit,
# inconclusiveLimit, consecutiveErrorLimit, consecutiveSuccessLimit), over the judged intervals.
package mlgate.monitoring

import data.mlgate.lib.reasons

# This file is loaded (monitoring.rego checks that every file of the package is).
files contains "budgets"

# METADATA
# title: Warm-up is over
# description: |
#   The first warmup_intervals snapshots of a deployment are not judged (traffic and caches
#   are still settling, as Argo's initialDelay); until one after them is in, the gate holds.
# custom:
#   code: MONITORING_WARMING_UP
#   severity: low
#   controls: ["NIST AI RMF MEASURE 2.4", "SR 11-7 IV"]
hold contains reason if {
	count(input.snapshots) > 0
	count(_judged) == 0
	msg := sprintf(
		"%d of %d warm-up intervals reported; %s v%s is judged on the intervals after them",
		[count(input.snapshots), _warmup, input.model.name, input.model.version],
	)
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "snapshots", "actual": count(input.snapshots), "threshold": _warmup})
}

_failed := _of_kind("failed")

_failure_limit := object.get(settings, "failure_limit", 0)

_is_over_failure_budget if count(_failed) > _failure_limit

# What each failed check's reason adds: the count against the budget.
_failure_tally := sprintf("%d of %d intervals failed, budget %v", [count(_failed), count(_judged), _failure_limit])

# Once over the failure budget, every break of every failed interval, with the interval's
# index and time and the count against the budget: what the failed checks' reasons quote.
# Those rules live beside their checks (thresholds.rego, baseline.rego, drift.rego,
# data_quality.rego) and read this by its full path, since the checks come first: an OPA server
# compiles each module pushed through its Policy API against those it already holds.
_named_breaks contains object.union(broken, {"index": i, "interval": _interval_of[i], "tally": _failure_tally}) if {
	_is_over_failure_budget
	some i in _failed
	some broken in _breaks(input.snapshots[i])
}

# METADATA
# title: Failures within the budget
# description: |
#   At most failure_limit of the judged intervals may fail (a threshold broken); one more
#   rolls back, as Argo's failureLimit (failed > failureLimit). Each broken check of each
#   failed interval is a reason of its own beside this one.
# custom:
#   code: MONITORING_FAILURE_LIMIT
#   severity: critical
#   controls: ["NIST AI RMF MANAGE 2.4", "SR 11-7 IV"]
rollback contains reason if {
	_is_over_failure_budget
	msg := sprintf(
		"%d of %d judged intervals failed (%s), more than the %s failure_limit %v",
		[count(_failed), count(_judged), _intervals_text(_failed), stage, _failure_limit],
	)
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "snapshots", "actual": count(_failed), "threshold": _failure_limit})
}

_inconclusive := _of_kind("inconclusive")

_inconclusive_limit := object.get(settings, "inconclusive_limit", 0)

_is_over_inconclusive_budget if count(_inconclusive) > _inconclusive_limit

# METADATA
# title: Inconclusive intervals within the budget
# description: |
#   At most inconclusive_limit of the judged intervals may have fewer than min_samples samples;
#   one more holds for a person to look, as Argo's inconclusiveLimit
#   (inconclusive > inconclusiveLimit).
# custom:
#   code: MONITORING_INCONCLUSIVE_LIMIT
#   severity: medium
#   controls: ["NIST AI RMF MEASURE 2.4", "SR 11-7 IV"]
hold contains reason if {
	_is_over_inconclusive_budget
	samples := [sprintf("%s: %v", [_interval_of[i], object.get(snapshot, "sample_count", "none")]) |
		some i in _inconclusive
		snapshot := input.snapshots[i]
	]
	msg := sprintf(
		"%d of %d judged intervals had fewer than %v samples (%s), more than the %s inconclusive_limit %v",
		[count(_inconclusive), count(_judged), _min_samples, concat(", ", samples), stage, _inconclusive_limit],
	)
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "snapshots", "actual": count(_inconclusive), "threshold": _inconclusive_limit})
}

_error_limit := object.get(settings, "consecutive_error_limit", 1)

_trailing_errors := _trailing("error")

# The run ends in at least consecutive_error_limit errors.
_has_error_run if _trailing_errors >= _error_limit

# METADATA
# title: Intervals can be measured
# description: |
#   The latest intervals are not all errors (the monitor failed, a required metric or the
#   evidence of a configured check is missing): a run of consecutive_error_limit of them ends
#   in on_errors, here hold. Argo's consecutiveErrorLimit acts on one error more
#   (consecutiveErrors > limit); mlgate acts at the limit. An error is never a success
#   (Argo #4479): a run of errors shorter than the limit still lacks its successes.
# custom:
#   code: MONITORING_CONSECUTIVE_ERRORS
#   severity: high
#   controls: ["NIST AI RMF MEASURE 2.4", "EU AI Act Art. 72"]
hold contains reason if {
	_has_error_run
	_on_setting("on_errors") == "hold"
	reason := reasons.from_rule(rego.metadata.rule(), _error_run_message, {"field": "snapshots", "actual": _trailing_errors, "threshold": _error_limit})
}

# METADATA
# title: Intervals can be measured (rolled back)
# description: |
#   As above, at the stages whose on_errors says rollback: a run of consecutive_error_limit
#   error intervals aborts and reverts, as Argo's Error phase aborts a rollout.
# custom:
#   code: MONITORING_CONSECUTIVE_ERRORS_ROLLBACK
#   severity: critical
#   controls: ["NIST AI RMF MANAGE 2.4", "EU AI Act Art. 72"]
rollback contains reason if {
	_has_error_run
	_on_setting("on_errors") == "rollback"
	reason := reasons.from_rule(rego.metadata.rule(), _error_run_message, {"field": "snapshots", "actual": _trailing_errors, "threshold": _error_limit})
}

_error_run_message := sprintf(
	"the last %d judged interval(s) ended in error (%s), at or over the %s consecutive_error_limit %v",
	[_trailing_errors, concat("; ", _error_run_causes), stage, _error_limit],
)

_error_run_causes := [sprintf("%s: %s", [_interval_of[i], concat(", ", _error_causes(input.snapshots[i]))]) |
	some i in _judged
	i > _last - _trailing_errors
]

# Argo's consecutiveSuccessLimit; at least one, so that nothing but a success allows.
_successes_needed := max([object.get(settings, "consecutive_successes", 1), 1])

_trailing_successes := _trailing("successful")

# METADATA
# title: Enough consecutive successful intervals
# description: |
#   The run ends in consecutive_successes successful intervals (at least one), as Argo's
#   consecutiveSuccessLimit: until then the gate holds. An error, inconclusive or failed
#   interval within its budget starts the count again; so no, errored or insufficient data
#   never allows.
# custom:
#   code: MONITORING_NEEDS_SUCCESSES
#   severity: medium
#   controls: ["NIST AI RMF MEASURE 2.4", "SR 11-7 IV"]
hold contains reason if {
	count(_judged) > 0
	_trailing_successes < _successes_needed
	not _is_over_failure_budget
	not _is_over_inconclusive_budget
	not _has_error_run
	msg := sprintf("%d of %d consecutive successful intervals%s", [_trailing_successes, _successes_needed, _run_breaker])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "snapshots", "actual": _trailing_successes, "threshold": _successes_needed})
}

# What ended the last run of successes, or that there have not been enough intervals yet.
_run_breaker := sprintf("; %s before them was %s", [_interval_of[last], _kind_text[_kinds[last]]]) if {
	last := _last - _trailing_successes
	last in _judged
} else := sprintf("; %d interval(s) judged so far", [count(_judged)])

_kind_text := {
	"error": "an error",
	"inconclusive": "inconclusive",
	"failed": "failed (within the failure budget)",
}

# METADATA
# title: The deployment was watched long enough
# description: |
#   The judged intervals cover at least min_soak together (the sum of their lengths) before
#   the gate allows: a canary watched for a fraction of a second says nothing of it, however
#   many intervals that fraction is cut into. Until then the gate holds. A min_soak that is no
#   duration is never met (the schema refuses it when the set loads).
# custom:
#   code: MONITORING_NEEDS_SOAK
#   severity: medium
#   controls: ["NIST AI RMF MEASURE 2.4", "SR 11-7 IV"]
hold contains reason if {
	count(_judged) > 0
	not _is_soaked
	msg := sprintf(
		"the judged intervals cover %s, less than the %s min_soak %v",
		[data.mlgate.monitoring._duration_text(_soaked_ns), stage, _min_soak],
	)
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "snapshots", "actual": _soaked_ns, "threshold": _min_soak})
}

_min_soak := object.get(settings, "min_soak", "0s")

# How long the judged intervals cover together, in nanoseconds.
_soaked_ns := sum([_length_ns(input.snapshots[i]) | some i in _judged])

_length_ns(snapshot) := _time_ns(snapshot.interval.end) - _time_ns(snapshot.interval.start)

_is_soaked if _soaked_ns >= _duration_ns(_min_soak)

# METADATA
# title: Failed intervals are within the budget
# description: |
#   Some judged intervals failed, no more than failure_limit: the gate does not roll back for
#   them, and says so, so an allow never hides a failure it tolerated.
# custom:
#   code: MONITORING_FAILURES_TOLERATED
#   severity: low
#   controls: ["NIST AI RMF MEASURE 2.4", "SR 11-7 IV"]
warn contains reason if {
	count(_failed) > 0
	not _is_over_failure_budget
	msg := sprintf("%s (%s): within the budget, so no rollback for them", [_failure_tally, _intervals_text(_failed)])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "snapshots", "actual": count(_failed), "threshold": _failure_limit})
}
