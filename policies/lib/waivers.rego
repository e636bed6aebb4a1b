# METADATA
# title: Waivers
# description: |
#   A waiver is a time-boxed, approved exception for one rule code on one model version.
#   It turns that rule's violation into a warning until it expires; an expired one does nothing,
#   and so does one given for another artifact, by a requester, or in a role that may not
#   waive the code.
package mlgate.lib.waivers

# METADATA
# description: |
#   ctx carries model (name, version, artifact_digest), requesters (the set of who asked for a
#   decision on this version, the caller included), now_ns,
#   waiver_roles (rule code -> roles that may waive it) and default_waiver_roles.
is_active(waiver, code, ctx) if {
	waiver.rule_code == code
	waiver.model == ctx.model.name
	waiver.version == ctx.model.version
	waiver.artifact_digest == ctx.model.artifact_digest
	not waiver.approved_by in ctx.requesters
	waiver.role in roles_for(code, ctx)
	time.parse_rfc3339_ns(waiver.expires_at) > ctx.now_ns
}

# METADATA
# description: The roles that may waive a code; the tier's approver roles unless configured.
roles_for(code, ctx) := ctx.waiver_roles[code] if {
	code in object.keys(ctx.waiver_roles)
} else := ctx.default_waiver_roles

# METADATA
# description: The first active waiver for the reason's code, undefined when none applies.
matching(reason, waivers, ctx) := matches[0] if {
	matches := [w | some w in waivers; is_active(w, reason.code, ctx)]
	count(matches) > 0
}
