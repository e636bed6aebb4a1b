# A version asked for by name (a manual rollback --to V): the target if it qualifies, and
# otherwise a denial saying why, never another version chosen in its place.
package mlgate.rollback

import data.mlgate.lib.reasons

# This file is loaded (rollback.rego checks that every file of the package is).
files contains "requested"

# METADATA
# title: The version asked for qualifies
# description: |
#   A version asked for as the rollback target is one the gate installed behind the alias and
#   qualifies as any target must. If it does not, the gate denies, naming the version and why;
#   it never falls back to another version.
# custom:
#   code: ROLLBACK_REQUESTED_TARGET_REFUSED
#   severity: high
#   controls: ["EU AI Act Art. 14", "NIST AI RMF MANAGE 2.4"]
deny contains reason if {
	_is_requested
	not target
	wanted := _trigger.requested_version
	msg := sprintf("v%s, asked for as the rollback target, does not qualify: %s; no other version is chosen in its place", [
		wanted, _why_requested_not(wanted, input.model.version),
	])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "trigger.requested_version"})
}

_why_requested_not(wanted, current) := sprintf("v%s is the version being rolled back", [wanted]) if {
	wanted == current
} else := _why_not(_requested_candidate, current) if {
	_requested_candidate
} else := sprintf("the gate never installed v%s behind %s", [wanted, _alias])
