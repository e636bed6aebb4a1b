# A hold is bounded in time: neither Argo Rollouts nor Flagger bounds an inconclusive
# analysis, so a deployment could wait for a person forever. Once the gate has held a
# deployment without a break for longer than max_hold, it says so under on_max_hold.
package mlgate.monitoring

import data.mlgate.lib.reasons

# This file is loaded (monitoring.rego checks that every file of the package is).
files contains "max_hold"

# How long the gate has held this deployment without a break, at the request (from the
# ledger's earlier decisions: monitoring_history.held_since, null when the last was no hold).
_held_ns := _now_ns - _time_ns(input.monitoring_history.held_since)

_max_hold := object.get(settings, "max_hold", "unset")

# Within the bound: held at most max_hold. A max_hold that is no duration is never met.
_is_within_max_hold if _held_ns <= _duration_ns(_max_hold)

# Not a rollback or hold set: it reads the decision they make (see monitoring.rego), and the
# decision adds it under on_max_hold (hold: one more reason; rollback: the outcome too).
# METADATA
# title: A hold is bounded in time
# description: |
#   When the gate would hold a deployment it has held without a break for longer than
#   max_hold, it says so, under on_max_hold: hold (a person must look now) or rollback.
# custom:
#   code: MONITORING_HELD_TOO_LONG
#   severity: high
#   controls: ["NIST AI RMF MANAGE 2.4", "EU AI Act Art. 14"]
held_too_long contains reason if {
	_before_max_hold.outcome == "hold"
	_held_ns
	not _is_within_max_hold
	msg := sprintf(
		"held for %s (since %s), longer than the %s max_hold %v",
		[_duration_text(_held_ns), input.monitoring_history.held_since, stage, _max_hold],
	)
	details := {"field": "monitoring_history.held_since", "actual": _held_ns, "threshold": _max_hold_value}
	reason := reasons.from_rule(rego.metadata.rule(), msg, details)
}

_max_hold_value := ns if {
	ns := _duration_ns(_max_hold)
} else := _max_hold
