# METADATA
# title: Decision
# description: |
#   Turns a gate's denials and holds into its decision: waived denials become warnings,
#   and the worst remaining outcome wins (allow < hold < deny).
package mlgate.lib.decision

import data.mlgate.lib.waivers

# METADATA
# description: |
#   ctx carries waivers, non_waivable (codes no waiver may lift) and what
#   data.mlgate.lib.waivers.is_active needs: model, requesters, now_ns (the request time),
#   waiver_roles and default_waiver_roles.
make(denials, holds, ctx) := {
	"outcome": _outcome(active, holds),
	"reasons": array.concat(_sorted(active), _sorted(holds)),
	"warnings": _sorted(warnings),
} if {
	waivable := {r.code | some r in denials; not r.code in ctx.non_waivable}
	lifting := waivers.first_active_by_code(waivable, ctx.waivers, ctx)
	waived := {r | some r in denials; lifting[r.code]}
	active := denials - waived
	warnings := {object.union(r, {"waiver": _described(lifting[r.code])}) | some r in waived}
}

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

_outcome(active, _) := "deny" if count(active) > 0

_outcome(active, holds) := "hold" if {
	count(active) == 0
	count(holds) > 0
}

_outcome(active, holds) := "allow" if {
	count(active) == 0
	count(holds) == 0
}

_sorted(reasons) := [r | some r in reasons]
