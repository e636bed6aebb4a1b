# Is there evidence, and is it recent? No snapshot, or none received within max_age of the
# request, ends in on_no_data or on_stale: never in allow.
package mlgate.monitoring

import data.mlgate.lib.reasons

# This file is loaded (monitoring.rego checks that every file of the package is).
files contains "freshness"

# METADATA
# title: Snapshots are reported
# description: |
#   The deployment has at least one metric snapshot. Without any, nothing says it is healthy:
#   the gate answers on_no_data, here hold.
# custom:
#   code: MONITORING_NO_DATA
#   severity: high
#   controls: ["NIST AI RMF MEASURE 2.4", "EU AI Act Art. 72"]
hold contains reason if {
	_has_no_snapshots
	_on_setting("on_no_data") == "hold"
	reason := reasons.from_rule(rego.metadata.rule(), _no_data_message, {"field": "snapshots"})
}

# METADATA
# title: Snapshots are reported (rolled back)
# description: As above, at the stages whose on_no_data says rollback.
# custom:
#   code: MONITORING_NO_DATA_ROLLBACK
#   severity: critical
#   controls: ["NIST AI RMF MANAGE 2.4", "EU AI Act Art. 72"]
rollback contains reason if {
	_has_no_snapshots
	_on_setting("on_no_data") == "rollback"
	reason := reasons.from_rule(rego.metadata.rule(), _no_data_message, {"field": "snapshots"})
}

# No snapshot at all, and also none given: the other rules, which read input.snapshots, then say
# nothing, so this one must.
_has_no_snapshots if count(object.get(input, "snapshots", [])) == 0

_no_data_message := sprintf(
	"no metric snapshot of an interval since %s v%s was installed at %s (%s) has been reported: nothing shows it is healthy (intervals that began before the installation measured the version before it)",
	[input.model.name, input.model.version, stage, input.deployment.installed_at],
) if {
	input.deployment.installed_by_gate == true
	is_string(input.deployment.installed_at)
} else := sprintf(
	"no metric snapshot has been reported for %s v%s at %s: nothing shows it is healthy",
	[input.model.name, input.model.version, stage],
)

# When the newest snapshot was received (the service's clock), and how long before the request.
_newest_received_ns := max([_time_ns(s.received_at) | some s in input.snapshots])

_age_ns := _now_ns - _newest_received_ns

_max_age := object.get(settings, "max_age", "unset")

# Fresh: received at most max_age before the request and, for a deployment the gate installed,
# its newest interval ended at most max_age before it too. A max_age that is no duration is
# never met.
_is_fresh if {
	_age_ns <= _duration_ns(_max_age)
	not _interval_too_old
}

# When the newest interval ended, and how long before the request.
_newest_end_ns := max([_time_ns(s.interval.end) | some s in input.snapshots])

_interval_age_ns := _now_ns - _newest_end_ns

# A report received now of an interval long past says nothing of now. Only a deployment the gate
# installed is held to it: its intervals began after the installation, so they are recent by
# nature. A deployment the gate did not install is judged by when its snapshots arrived, with
# the warning DEPLOYMENT_NOT_INSTALLED_BY_GATE (its snapshots may be a replay of old intervals).
_interval_too_old if {
	input.deployment.installed_by_gate == true
	_interval_age_ns > _duration_ns(_max_age)
}

# METADATA
# title: Snapshots are recent
# description: |
#   The newest snapshot was received at most max_age before the request (age = requested_at
#   minus its received_at): an older one says nothing of now, and the gate answers on_stale,
#   here hold.
# custom:
#   code: MONITORING_DATA_STALE
#   severity: high
#   controls: ["NIST AI RMF MEASURE 2.4", "EU AI Act Art. 72"]
hold contains reason if {
	count(input.snapshots) > 0
	not _is_fresh
	_on_setting("on_stale") == "hold"
	reason := reasons.from_rule(rego.metadata.rule(), _stale_message, _stale_details)
}

# METADATA
# title: Snapshots are recent (rolled back)
# description: As above, at the stages whose on_stale says rollback.
# custom:
#   code: MONITORING_DATA_STALE_ROLLBACK
#   severity: critical
#   controls: ["NIST AI RMF MANAGE 2.4", "EU AI Act Art. 72"]
rollback contains reason if {
	count(input.snapshots) > 0
	not _is_fresh
	_on_setting("on_stale") == "rollback"
	reason := reasons.from_rule(rego.metadata.rule(), _stale_message, _stale_details)
}

_stale_message := sprintf(
	"the newest interval ended %s before the request (at %s), older than the %s max_age %v, though it was received %s before",
	[_duration_text(_interval_age_ns), time.format(_newest_end_ns), stage, _max_age, _duration_text(_age_ns)],
) if {
	_interval_too_old
} else := sprintf(
	"the newest snapshot was received %s before the request (at %s), older than the %s max_age %v",
	[_duration_text(_age_ns), time.format(_newest_received_ns), stage, _max_age],
) if {
	_age_ns
} else := sprintf("no snapshot says when it was received: nothing is within the %s max_age %v", [stage, _max_age])

# Both in nanoseconds; a max_age that is no duration is quoted as written.
_stale_details := {"field": "snapshots", "actual": _age_ns, "threshold": _max_age_value} if {
	_age_ns
} else := {"field": "snapshots", "threshold": _max_age_value}

_max_age_value := ns if {
	ns := _duration_ns(_max_age)
} else := _max_age
