# METADATA
# title: Decision
# description: |
#   Turns a gate's reasons, grouped by the outcome each asks for, into its decision: the worst
#   outcome that has a reason wins (allow < hold < deny < rollback). Waivers lift denials
#   only, which then become warnings; rollback reasons and holds are never waived.
package mlgate.lib.decision

import data.mlgate.lib.waivers

# The outcomes a reason can ask for, worst first; allow is having none.
_worst_first := ["rollback", "deny", "hold"]

# METADATA
# description: |
#   by_outcome maps "rollback", "deny" and "hold" to the set of reasons asking for that
#   outcome, and "warn" to reasons that only inform (they are warnings, whatever the
#   outcome); a key left out has none. Any other key (a misspelt outcome) leaves the decision
#   undefined, which the service answers with a deny. Reasons come out worst first.
#   ctx carries waivers, non_waivable (codes no waiver may lift) and what
#   data.mlgate.lib.waivers.is_active needs: model, requesters, now_ns (the request time),
#   waiver_roles and default_waiver_roles.
make(by_outcome, ctx) := {
	"outcome": _outcome(remaining),
	"reasons": _worst_first_reasons(remaining),
	"warnings": _sorted(warnings),
} if {
	every key, _ in by_outcome { key in ({"warn"} | {o | some o in _worst_first}) }
	denials := object.get(by_outcome, "deny", set())
	waivable := {r.code | some r in denials; not r.code in ctx.non_waivable}
	lifting := waivers.first_active_by_code(waivable, ctx.waivers, ctx)
	waived := {r | some r in denials; lifting[r.code]}
	remaining := {
		"rollback": object.get(by_outcome, "rollback", set()),
		"deny": denials - waived,
		"hold": object.get(by_outcome, "hold", set()),
	}
	lifted := {object.union(r, {"waiver": _described(lifting[r.code])}) | some r in waived}
	warnings := lifted | object.get(by_outcome, "warn", set())
}

# The worst outcome that still has a reason once waivers have lifted what they may.
_outcome(remaining) := found[0] if {
	found := [outcome | some outcome in _worst_first; count(remaining[outcome]) > 0]
	count(found) > 0
} else := "allow"

# Rollback reasons, then denials, then holds; each kind in a stable order.
_worst_first_reasons(remaining) := array.concat(
	array.concat(_sorted(remaining.rollback), _sorted(remaining.deny)),
	_sorted(remaining.hold),
)

# What a decision says of the waiver that lifted a denial.
_described(found) := object.union(
	{
		"approved_by": found.approved_by,
		"role": found.role,
		"reason": found.reason,
		"expires_at": found.expires_at,
	},
	_record_id(found),
)

# A waiver from the sign-off records names its record, so the decision says what it relied on.
_record_id(waiver) := {"id": waiver.id} if is_string(waiver.id)

else := {}

_sorted(reasons) := [r | some r in reasons]
