# METADATA
# title: Waivers
# description: |
#   A waiver is a time-boxed, approved exception for one rule code on one model version.
#   It turns that rule's violation into a warning until it expires; an expired one does nothing,
#   and so does one given for another artifact, by a requester, in a role that may not
#   waive the code, or of a code no waiver may lift. why_inactive says which, so a decision can
#   name every waiver it did not apply.
package mlgate.lib.waivers

# METADATA
# description: |
#   ctx carries model (name, version, artifact_digest), requesters (the set of who asked for a
#   decision on this version, the caller included), now_ns, tier (for messages),
#   non_waivable (codes no waiver may lift), waiver_roles (rule code -> roles that may waive
#   it) and default_waiver_roles.
is_active(waiver, code, ctx) if {
	waiver.rule_code == code
	count(why_inactive(waiver, ctx)) == 0
}

# METADATA
# description: |
#   Why `waiver` lifts nothing for ctx's model, one sentence each; empty when it is active.
#   Each check holds positively or gives its sentence, so a waiver missing a field is inactive
#   and says why, never active.
why_inactive(waiver, ctx) := union({
	_other_version(waiver, ctx),
	_other_artifact(waiver, ctx),
	_by_requester(waiver, ctx),
	_role_may_not(waiver, ctx),
	_non_waivable(waiver, ctx),
	_expired(waiver, ctx),
})

_other_version(waiver, ctx) := set() if {
	waiver.model == ctx.model.name
	waiver.version == ctx.model.version
} else := {sprintf("it was given for %v v%v", [object.get(waiver, "model", "no model"), object.get(waiver, "version", "none")])}

_other_artifact(waiver, ctx) := set() if {
	waiver.artifact_digest == ctx.model.artifact_digest
} else := {sprintf(
	"it was given for artifact %v, and this version's is %v",
	[object.get(waiver, "artifact_digest", "none"), object.get(ctx.model, "artifact_digest", "not known")],
)}

_by_requester(waiver, ctx) := set() if {
	is_string(waiver.approved_by)
	not waiver.approved_by in ctx.requesters
} else := {sprintf("%v asked for a decision on this version, so may not sign it off", [object.get(waiver, "approved_by", "its approver")])}

_role_may_not(waiver, ctx) := set() if {
	waiver.role in roles_for(waiver.rule_code, ctx)
} else := {sprintf(
	"a %v-risk model's %v may be waived as %v, not as %v",
	[object.get(ctx, "tier", "?"), object.get(waiver, "rule_code", "rule"), _named(roles_for(object.get(waiver, "rule_code", ""), ctx)), object.get(waiver, "role", "no role")],
)}

_non_waivable(waiver, ctx) := set() if {
	not waiver.rule_code in ctx.non_waivable
} else := {sprintf("%v may not be waived (non_waivable)", [waiver.rule_code])}

_expired(waiver, ctx) := set() if {
	time.parse_rfc3339_ns(waiver.expires_at) > ctx.now_ns
} else := {sprintf("it expired at %v", [object.get(waiver, "expires_at", "no stated time")])}

_named(roles) := concat(", ", sort(roles)) if count(roles) > 0

else := "no role"

# METADATA
# description: The roles that may waive a code; the tier's approver roles unless configured.
roles_for(code, ctx) := ctx.waiver_roles[code] if {
	code in object.keys(ctx.waiver_roles)
} else := ctx.default_waiver_roles

# METADATA
# description: |
#   Rule code -> the first active waiver for it (in the order given), for each of `codes`
#   that has one. Cost is linear in the waivers: one pass picks the active ones, and each code
#   then looks among those; the codes are the policy's own rule codes, a fixed few whatever
#   the input.
first_active_by_code(codes, waivers, ctx) := {code: found[0] |
	active := [w | some w in waivers; w.rule_code in codes; is_active(w, w.rule_code, ctx)]
	some code in codes
	found := [w | some w in active; w.rule_code == code]
	count(found) > 0
}
