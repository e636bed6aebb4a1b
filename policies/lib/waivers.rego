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
