# The candidates: what makes a version the gate installed behind the alias a safe target, which
# one is the target, and, when none is, why each is not.
package mlgate.rollback

import data.mlgate.lib.reasons

# This file is loaded (rollback.rego checks that every file of the package is).
files contains "candidates"

# METADATA
# description: |
#   The version the alias goes back to (its candidate entry): the one asked for (--to) when
#   it qualifies; when none is asked for, the first that qualifies in the order given, the
#   newest installation. A version asked for that does not qualify leaves no target: the gate
#   never picks another in its place.
target := _requested_candidate if {
	_is_requested
	_requested_candidate in _qualifying
}

target := _qualifying[0] if {
	not _is_requested
	count(_qualifying) > 0
}

# The safe targets, in the order given (newest installation first): not the version being
# rolled back, still in the registry, its artifacts hashing to the digest it was allowed
# with, and not rolled back since it was installed.
_qualifying := [c |
	some c in input.candidates
	c.version != input.model.version
	c.in_registry == true
	is_string(c.allowed_digest)
	c.registry_digest == c.allowed_digest
	c.rolled_back_at == null
]

# Why a candidate does not qualify, every cause that applies, in one sentence. The last
# branch is for a record lacking a field _qualifying reads, which no cause names.
_why_not(candidate, current) := sprintf("v%s is the version being rolled back", [candidate.version]) if {
	candidate.version == current
} else := concat("; ", causes) if {
	causes := [cause | some kind in _cause_kinds; cause := _cause(kind, candidate)]
	count(causes) > 0
} else := sprintf("v%s's record lacks what would show it qualifies", [candidate.version])

_cause_kinds := ["rolled back", "deleted", "no allowed digest", "unreadable", "changed"]

_cause("rolled back", c) := sprintf("v%s was itself rolled back at %s%s", [c.version, c.rolled_back_at, _by_decision(c)]) if {
	c.rolled_back_at != null
}

_cause("deleted", c) := sprintf("v%s was deleted from the registry", [c.version]) if {
	c.in_registry == false
}

_cause("no allowed digest", c) := sprintf("v%s was allowed without an artifact digest, so there is nothing to check its artifacts against", [c.version]) if {
	c.in_registry == true
	not is_string(c.allowed_digest)
}

_cause("unreadable", c) := sprintf("v%s's digest cannot be read from the registry", [c.version]) if {
	c.in_registry == true
	is_string(c.allowed_digest)
	not is_string(c.registry_digest)
}

_cause("changed", c) := sprintf("v%s's artifacts hash to %s now, but it was allowed with %s", [c.version, c.registry_digest, c.allowed_digest]) if {
	c.in_registry == true
	is_string(c.allowed_digest)
	is_string(c.registry_digest)
	c.registry_digest != c.allowed_digest
}

_by_decision(c) := sprintf(" (decision %s)", [c.rollback_decision_id]) if is_string(c.rollback_decision_id)

else := ""

# METADATA
# title: A safe rollback target exists
# description: |
#   With no version asked for, some version the gate installed behind the alias qualifies as
#   the rollback target. When none does, nothing moves: the gate denies, and each candidate
#   says why it does not qualify (ROLLBACK_CANDIDATE_REFUSED).
# custom:
#   code: ROLLBACK_NO_SAFE_TARGET
#   severity: critical
#   controls: ["NIST AI RMF MANAGE 2.4", "EU AI Act Art. 15"]
deny contains reason if {
	not _is_requested
	not target
	msg := sprintf("no version the gate installed behind %s qualifies as a rollback target for %s v%s%s", [
		_alias, input.model.name, input.model.version, _none_installed(object.get(input, "candidates", [])),
	])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "candidates"})
}

_none_installed(candidates) := sprintf(": the gate never installed another version behind %s", [_alias]) if {
	count(candidates) == 0
} else := ""

# METADATA
# title: Each candidate qualifies as a rollback target
# description: |
#   When no version qualifies, says for each one the gate installed behind the alias why it
#   is no safe target: it is the version being rolled back, it was rolled back itself since,
#   the registry no longer holds it, or its artifacts do not hash (or cannot be shown to
#   hash) to the digest it was allowed with.
# custom:
#   code: ROLLBACK_CANDIDATE_REFUSED
#   severity: high
#   controls: ["NIST AI RMF MANAGE 2.4", "NIST AI RMF MEASURE 2.7"]
deny contains reason if {
	not _is_requested
	not target
	some candidate in input.candidates
	msg := _why_not(candidate, input.model.version)
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "candidates"})
}
