# METADATA
# title: Monitoring gate
# description: |
#   Is the deployed version healthy: advance (allow), wait (hold) or abort and revert
#   (rollback)? Judges the deployment's metric snapshots interval by interval and counts them
#   as Argo Rollouts' AnalysisRun does (warm-up, failure and inconclusive budgets, consecutive
#   errors, consecutive successes; argo-rollouts docs, "Analysis"), adds the canary-versus-
#   baseline statistics, and bounds a hold in time (max_hold). No, stale, errored or
#   insufficient data never allows. Thresholds come from data.mlgate.config.monitoring.
#   The package spans one file per concern: this one holds the entrypoint, the settings it
#   picks and the helpers the others share.
package mlgate.monitoring

import data.mlgate.lib.decision as decisions
import data.mlgate.lib.reasons

# `rollback` and `held_too_long` are named by their full paths because their rules live in
# other files: so this file compiles on its own, as an OPA server compiles each module pushed
# through its Policy API. Were no rule to add to one of them, the decision would be undefined,
# and the service denies an undefined decision.
# METADATA
# title: Monitoring decision
# description: |
#   The gate's answer; the service queries exactly this rule. A hold that has lasted longer
#   than max_hold adds MONITORING_HELD_TOO_LONG under the stage's on_max_hold.
# entrypoint: true
decision := decisions.make(
	{
		"rollback": (data.mlgate.monitoring.rollback | _after_max_hold("rollback")),
		"deny": deny,
		"hold": (hold | _after_max_hold("hold")),
		"warn": data.mlgate.monitoring.warn,
	},
	_context,
)

# The decision before max_hold is applied: held_too_long asks whether it holds. It cannot
# read `decision`, nor add to rollback or hold, which it reads: that would be recursion; so
# it is a set of its own, which the decision adds under on_max_hold.
_before_max_hold := decisions.make({"rollback": data.mlgate.monitoring.rollback, "hold": hold}, _context)

_after_max_hold(outcome) := data.mlgate.monitoring.held_too_long if {
	_on_setting("on_max_hold") == outcome
} else := set()

# Monitoring gives rollback and hold only, which no waiver lifts (data.mlgate.lib.decision).
_context := {"waivers": [], "non_waivable": []}

_monitoring := object.get(data.mlgate.config, "monitoring", {})

stage := input.target.stage

# The stage's settings: stages.default, then stages.<stage>, then models.<name>.default and
# models.<name>.<stage>, each merged key by key over the one before (object.union).
settings := object.union(
	object.union(object.get(_monitoring, ["stages", "default"], {}), object.get(_monitoring, ["stages", stage], {})),
	object.union(object.get(_model, "default", {}), object.get(_model, stage, {})),
)

_model := object.get(_monitoring, ["models", input.model.name], {})

# The outcome a setting names for a condition (on_no_data, on_stale, on_errors, on_max_hold):
# rollback only when it says so; anything else holds, so a misspelt value never allows.
_on_setting(key) := "rollback" if {
	object.get(settings, key, "hold") == "rollback"
} else := "hold"

# The request time; ages and hold durations are measured to it.
_now_ns := time.parse_rfc3339_ns(input.requested_at)

# A Go duration ("15m", "2h", "1h30m"), as time.parse_duration_ns reads it; undefined for
# anything else, so a check that needs it is written to fail on its absence.
_duration_ns(text) := time.parse_duration_ns(text) if {
	is_string(text)
	regex.match(`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`, text)
}

# A duration as people read it, to the second: 2h10m, 15m, 45s; under a second, in ms.
_duration_text(ns) := sprintf("%dms", [floor(ns / 1000000)]) if {
	ns < 1000000000
} else := concat("", [part |
	seconds := floor(ns / 1000000000)
	some [amount, unit] in [[floor(seconds / 3600), "h"], [floor((seconds % 3600) / 60), "m"], [seconds % 60, "s"]]
	amount > 0
	part := sprintf("%d%s", [amount, unit])
])

# An interval as the reasons quote it (UTC): HH:MM-HH:MM when both times fall on whole
# minutes, HH:MM:SS-HH:MM:SS when both fall on whole seconds, else to the millisecond, so
# that a start and an end that differ never read the same. A time that is no timestamp is
# quoted as written, so that a reason quoting it never goes silent.
_interval_text(snapshot) := sprintf("%s-%s", [_clock(start, unit), _clock(end, unit)]) if {
	start := object.get(snapshot, ["interval", "start"], null)
	end := object.get(snapshot, ["interval", "end"], null)
	unit := _clock_unit([start, end])
}

# The finest unit any of the timestamps needs: "ms", "s" or "m".
_clock_unit(timestamps) := "ms" if {
	some timestamp in timestamps
	_time_ns(timestamp) % 1000000000 != 0
} else := "s" if {
	some timestamp in timestamps
	_time_ns(timestamp) % 60000000000 != 0
} else := "m"

_clock(timestamp, unit) := sprintf("%02d:%02d", [hour, minute]) if {
	unit == "m"
	[hour, minute, _] := time.clock(_time_ns(timestamp))
} else := sprintf("%02d:%02d:%02d", [hour, minute, second]) if {
	unit == "s"
	[hour, minute, second] := time.clock(_time_ns(timestamp))
} else := sprintf("%02d:%02d:%02d.%03d", [hour, minute, second, millis]) if {
	ns := _time_ns(timestamp)
	[hour, minute, second] := time.clock(ns)
	millis := floor((ns % 1000000000) / 1000000)
} else := sprintf("%v", [timestamp])

# An RFC 3339 timestamp in nanoseconds; undefined for anything else, whichever engine evaluates
# it (an OPA server leaves a failing built-in undefined, the embedded engine raises).
_time_ns(timestamp) := time.parse_rfc3339_ns(timestamp) if {
	is_string(timestamp)
	regex.match(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$`, timestamp)
}

# A metric's value in an interval: serving figures first, then model quality.
_value(snapshot, name) := snapshot.operational[name] if {
	is_number(snapshot.operational[name])
} else := snapshot.quality.metrics[name] if {
	is_number(snapshot.quality.metrics[name])
}

_has_value(snapshot, name) if is_number(_value(snapshot, name))

# Where in a snapshot a reported metric is, for a reason's field.
_source(snapshot, name) := "operational" if {
	is_number(snapshot.operational[name])
} else := "quality.metrics"

# What a failed check's reason carries of a metric's break (thresholds.rego, baseline.rego).
_metric_details(broken) := {
	"metric": broken.metric,
	"actual": broken.actual,
	"threshold": broken.threshold,
	"field": sprintf("snapshots[%d].%s.%s", [broken.index, broken.source, broken.metric]),
}

# METADATA
# title: Monitoring is configured
# description: |
#   There are monitoring settings (stages.default) to judge the deployment by, and the request
#   names a stage (staging, canary or production) to pick them for.
# custom:
#   code: MONITORING_NOT_CONFIGURED
#   severity: critical
#   controls: ["NIST AI RMF GOVERN 1.2", "SR 11-7 IV"]
hold contains reason if {
	not _is_configured
	msg := sprintf(
		"no monitoring settings are configured (stages.default) to judge %s v%s at %v by",
		[input.model.name, input.model.version, object.get(input, ["target", "stage"], "no stage")],
	)
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "target.stage"})
}

_is_configured if {
	is_object(_monitoring.stages.default)
	stage in {"staging", "canary", "production"}
}

# The files this package is written in besides this one; each adds its name to `files`. Each
# file compiles on its own (an OPA server compiles each pushed module so), so a policy set that
# lost one would still load, and judge without its rules: the gate denies instead.
_expected_files := {"baseline", "budgets", "data_quality", "drift", "freshness", "intervals", "max_hold", "statistics", "thresholds"}

_missing_files := _expected_files - {name | some name in data.mlgate.monitoring.files}

# METADATA
# title: The gate's policy is whole
# description: |
#   Every file of the package is loaded. A policy set missing one (a deleted or unpushed
#   file) would judge without that file's rules, and for this gate that could allow what
#   they would stop: the gate denies, naming the files.
# custom:
#   code: MONITORING_POLICY_FILES_MISSING
#   severity: critical
#   controls: ["NIST AI RMF GOVERN 1.4", "SR 11-7 IV"]
deny contains reason if {
	count(_missing_files) > 0
	missing := concat(", ", [sprintf("%s.rego", [name]) | some name in sort(_missing_files)])
	msg := sprintf("the monitoring policy lacks %s (package mlgate.monitoring): it cannot judge without them", [missing])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {})
}
