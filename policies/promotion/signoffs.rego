# Who may sign off, and the sign-offs a decision did not apply.
package mlgate.promotion

import data.mlgate.lib.reasons
import data.mlgate.lib.waivers

# This file is loaded (promotion.rego checks that every file of the package is).
files contains "signoffs"

# METADATA
# title: Who may sign off
# description: |
#   The roles whose sign-off on a version of input.model.name can count. The service asks
#   this rule before it records an approval or a waiver (POST /v1/approvals, /v1/waivers,
#   mlgate approve, mlgate waive) and refuses one that could never count; decisions count
#   sign-offs by the same helpers (_approver_roles_of, data.mlgate.lib.waivers.roles_for), so
#   the rule is written once. The input is a gate input's model, recorded_risk_tier (the tier
#   the model was last judged under; absent when none was, and then the roles of any tier
#   count) and the waivers to be given. The result: {"approval": [roles], "waiver": {rule
#   code of each waiver: [roles]}}.
signoff_roles := {
	"approval": sort(_signing_approval_roles),
	"waiver": {code: sort(waivers.roles_for(code, _signing_context)) |
		some given in object.get(input, "waivers", [])
		code := given.rule_code
	},
}

# METADATA
# title: Every role a sign-off can count as
# description: |
#   The roles some approval, waiver or tier change can count as under this policy set, whatever
#   the model and its tier: the approver_roles of every tier's stages (first deployments
#   included) and of every model's own settings, the roles of waivers.roles, and
#   tier_changes.allowed_roles. The service asks this rule when an approver token is issued
#   (mlgate tokens add --approves-as) and refuses a role outside it, in which no sign-off could
#   ever count. It reads no input. The result: the roles, sorted.
all_signoff_roles := sort(union({_approval_roles_anywhere, _waiver_roles_anywhere, _tier_change_roles}))

_approval_roles_anywhere contains role if {
	some settings in _every_settings
	some role in _approver_roles_in(settings)
}

# Each tier's settings, alone and with each model's own settings merged over them.
_every_settings contains object.get(_promotion, ["tiers", t], {}) if some t in object.keys(_tier_rank)

_every_settings contains object.union(object.get(_promotion, ["tiers", t], {}), own) if {
	some t in object.keys(_tier_rank)
	some own in object.get(_promotion, "models", {})
}

_waiver_roles_anywhere contains role if {
	some roles in object.get(_promotion, ["waivers", "roles"], {})
	some role in roles
}

_tier_change_roles contains role if {
	some role in object.get(_promotion, ["tier_changes", "allowed_roles"], [])
}

_signing_tiers := {input.recorded_risk_tier.tier} if is_string(input.recorded_risk_tier.tier)

else := object.keys(_tier_rank)

_signing_approval_roles := union({_approver_roles_of(t) | some t in _signing_tiers})

_signing_context := {
	"waiver_roles": object.get(_promotion, ["waivers", "roles"], {}),
	"default_waiver_roles": _signing_approval_roles,
}

# METADATA
# title: Every sign-off counts or says why not
# description: |
#   Each approval or waiver on this version that the decision did not apply is named with
#   why: given for another version or artifact, in a role the model's tier does not ask, by
#   one who asked for a decision on the version, expired, of a code no waiver may lift, or
#   withdrawn. A sign-off never lapses silently.
# custom:
#   code: SIGNOFF_NOT_APPLIED
#   severity: medium
#   controls: ["SR 11-7 IV", "EU AI Act Art. 14"]
warn contains reason if {
	some unapplied in _unapplied_signoffs
	msg := sprintf("%s was not applied: %s", [unapplied.what, concat("; ", sort(unapplied.why))])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": unapplied.field})
}

_unapplied_signoffs contains {"field": "approvals", "what": _approval_named(approval), "why": why} if {
	some approval in object.get(input, "approvals", [])
	why := why_approval_not_counted(approval, _signoff_context)
	count(why) > 0
}

_unapplied_signoffs contains {"field": "waivers", "what": _waiver_named(waiver), "why": why} if {
	some waiver in object.get(input, "waivers", [])
	why := waivers.why_inactive(waiver, _signoff_context)
	count(why) > 0
}

_unapplied_signoffs contains {"field": "withdrawn_waivers", "what": _waiver_named(waiver), "why": {why}} if {
	some waiver in object.get(input, "withdrawn_waivers", [])
	withdrawal := object.get(waiver, "withdrawal", {})
	why := sprintf(
		"it was withdrawn by %v at %v (%v)",
		[object.get(withdrawal, "withdrawn_by", "someone"), object.get(withdrawal, "withdrawn_at", "an unstated time"), object.get(withdrawal, "reason", "no reason given")],
	)
}

_approval_named(approval) := sprintf(
	"%s (%v) by %v as %v",
	[_record_named("approval", approval), object.get(approval, "status", "no status"), object.get(approval, "approver", "no one"), object.get(approval, "role", "no role")],
)

_waiver_named(waiver) := sprintf(
	"%s of %v by %v as %v",
	[_record_named("waiver", waiver), object.get(waiver, "rule_code", "no rule"), object.get(waiver, "approved_by", "no one"), object.get(waiver, "role", "no role")],
)

_record_named(kind, signoff) := sprintf("%s %s", [kind, signoff.id]) if is_string(signoff.id)

else := kind
