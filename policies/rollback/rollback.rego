# METADATA
# title: Rollback gate
# description: |
#   A deployed version went bad: to which version does its alias go back? To the last
#   known-good one: of the versions the gate itself installed behind the alias, the newest
#   installation that was not rolled back since, that the registry still holds, and whose
#   artifacts still hash to the digest it was allowed with; or to the version a person asks
#   for, only if it qualifies the same way. With none, the gate denies and says why for each
#   candidate. It never waits for an approval, and nothing here is waived. Settings come from
#   data.mlgate.config.rollback. The package spans one file per concern: this one holds the
#   entrypoint, the rollback itself and the helpers the others share.
package mlgate.rollback

import data.mlgate.lib.decision as decisions
import data.mlgate.lib.reasons

# `deny` and `target` are named by their full paths because they live in the other files: so
# this file compiles on its own, as an OPA server compiles each module pushed through its
# Policy API, and the others, which need its helpers, follow.
# METADATA
# title: Rollback decision
# description: |
#   The gate's answer; the service queries exactly this rule. A rollback names the version the
#   alias goes back to and the artifact digest it was allowed with, which the alias move
#   checks the registry against again before it moves.
# entrypoint: true
decision := object.union(
	decisions.make({"rollback": rollback, "deny": data.mlgate.rollback.deny}, _context),
	_target_named,
)

# Rollback takes no waivers: none are passed, and its codes are non_waivable besides, so
# nothing lifts a denial here whatever else reads the data.
_context := {
	"waivers": [],
	"model": input.model,
	"requesters": {input.caller.id},
	"now_ns": time.parse_rfc3339_ns(input.requested_at),
	"non_waivable": object.get(_rollback, "non_waivable", []),
	"waiver_roles": {},
	"default_waiver_roles": set(),
}

# Only a rollback names a target; a denial names none.
_target_named := {
	"target_version": found.version,
	"target_artifact_digest": found.allowed_digest,
} if {
	count(rollback) > 0
	found := data.mlgate.rollback.target
} else := {}

_rollback := object.get(data.mlgate.config, "rollback", {})

# The alias the candidates were installed behind, as the messages name it.
_alias := input.target.alias if {
	is_string(input.target.alias)
} else := sprintf("the %s alias", [input.target.stage]) if {
	is_string(input.target.stage)
} else := "the stage's alias"

# What asked for the rollback. Read with a default so that, were it missing, the rollback
# reason still says so rather than go silent and leave no outcome but allow.
_trigger := input.trigger if {
	input.trigger
} else := {}

# Who asked, as the messages name them: the monitoring decision, or the caller.
_asked_by(trigger, caller) := sprintf("triggered by monitoring decision %s", [trigger.decision_id]) if {
	trigger.kind == "monitoring"
	is_string(trigger.decision_id)
} else := sprintf("asked by %s", [caller.id])

_said(trigger) := trigger.reason if is_string(trigger.reason)

else := "no reason given"

# A version asked for by name (--to), and its entry among the candidates when it has one.
_is_requested if is_string(_trigger.requested_version)

_requested_candidate := found[0] if {
	found := [c | some c in input.candidates; c.version == _trigger.requested_version]
	count(found) > 0
}

# METADATA
# title: Rolled back to the last known-good version
# description: |
#   The deployed version goes back to the target: a version the gate installed behind this
#   alias, not rolled back since, still in the registry with the artifacts it was allowed
#   with. Any denial stops it (the decision ranks a rollback above a denial, so this rule
#   gives way itself), and it never waits for an approval.
# custom:
#   code: ROLLBACK_TO_LAST_KNOWN_GOOD
#   severity: high
#   controls: ["NIST AI RMF MANAGE 2.4", "EU AI Act Art. 15"]
rollback contains reason if {
	count(data.mlgate.rollback.deny) == 0
	found := data.mlgate.rollback.target
	msg := sprintf("rolling back v%s to v%s (installed %s by decision %s), %s: %s", [
		input.model.version, found.version, found.installed_at, found.decision_id,
		_asked_by(_trigger, input.caller), _said(_trigger),
	])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "candidates"})
}

# The files this package is written in besides this one; each adds its name to `files`. Each
# file compiles on its own (an OPA server compiles each pushed module so), so a policy set that
# lost one would still load, and judge without its rules: the gate denies instead.
_expected_files := {"candidates", "requested", "trigger"}

_missing_files := _expected_files - {name | some name in data.mlgate.rollback.files}

# METADATA
# title: The gate's policy is whole
# description: |
#   Every file of the package is loaded. A policy set missing one (a deleted or unpushed
#   file) would judge without that file's rules, and for this gate that could allow what
#   they would stop: the gate denies, naming the files.
# custom:
#   code: ROLLBACK_POLICY_FILES_MISSING
#   severity: critical
#   controls: ["NIST AI RMF GOVERN 1.4", "SR 11-7 IV"]
deny contains reason if {
	count(_missing_files) > 0
	missing := concat(", ", [sprintf("%s.rego", [name]) | some name in sort(_missing_files)])
	msg := sprintf("the rollback policy lacks %s (package mlgate.rollback): it cannot judge without them", [missing])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {})
}
