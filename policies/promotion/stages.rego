# Stage order and human approval.
package mlgate.promotion

import data.mlgate.lib.reasons

# This file is loaded (promotion.rego checks that every file of the package is).
files contains "stages"

# METADATA
# title: Stage order is respected
# description: The version was allowed at an earlier stage before it goes to this one.
# custom:
#   code: STAGE_ORDER
#   severity: high
#   controls: ["SR 11-7 IV", "NIST AI RMF MANAGE 1.1"]
deny contains reason if {
	required := object.get(_promotion, ["stage_prerequisites", stage], [])
	count(required) > 0
	not _passed_any(required)
	msg := sprintf("v%s has no earlier allow at %s, which %s requires", [input.model.version, concat(" or ", required), stage])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "history"})
}

_passed_any(stages) if {
	some prior in object.get(input, "history", [])
	prior.gate == "promotion"
	prior.outcome == "allow"
	prior.version == input.model.version
	prior.stage in stages
	_judged_at_least_as_strictly(prior)
	time.parse_rfc3339_ns(prior.decided_at) < time.parse_rfc3339_ns(input.requested_at)
}

# An allow under a lower tier (lighter checks) does not count for this one. An earlier decision
# that names no tier (an evidence file's, in local mode) is taken as given.
_judged_at_least_as_strictly(prior) if not prior.risk_tier

_judged_at_least_as_strictly(prior) if _tier_rank[prior.risk_tier] >= _tier_rank[tier]

# METADATA
# title: Approval was not rejected
# description: |
#   No required approver rejected this version: neither a role the stage asks an approval of,
#   nor, for a first deployment, one of its first_deployment.approver_roles.
# custom:
#   code: APPROVAL_REJECTED
#   severity: critical
#   controls: ["SR 11-7 IV", "EU AI Act Art. 14"]
deny contains reason if {
	some role in _approver_roles_asked
	some approval in _approvals_for(role)
	approval.status == "rejected"
	msg := sprintf("%s (%s) rejected v%s", [approval.approver, role, input.model.version])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "approvals"})
}

_approver_roles_asked := {role | some role in object.get(stage_settings, "approver_roles", [])} | data.mlgate.promotion._first_deployment_roles

# METADATA
# title: Human approval is given
# description: |
#   Each approver role the tier requires has approved this version; nobody who asked for a
#   decision on it can approve it. Until then the gate holds.
# custom:
#   code: APPROVAL_PENDING
#   severity: medium
#   controls: ["SR 11-7 IV", "EU AI Act Art. 14"]
hold contains reason if {
	some role in object.get(stage_settings, "approver_roles", [])
	not _is_approved_by(role)
	msg := sprintf("v%s to %s awaits approval by a %s (%s)", [input.model.version, stage, role, _approval_state(role)])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "approvals"})
}

# An approval counts for the version and artifact it was given for, in a role the tier asks an
# approval of, and never when its approver asked for a decision on this version (now or before).
_approvals_for(role) := [a |
	some a in object.get(input, "approvals", [])
	a.role == role
	count(why_approval_not_counted(a, _signoff_context)) == 0
]

# METADATA
# description: |
#   Why `approval` counts for nothing in the decision ctx describes (model, requesters, tier:
#   promotion.rego's _signoff_context), one sentence each; empty when it counts. Each check
#   holds positively or gives its sentence, so an approval missing a field says why it does
#   not count. signoffs.rego names these in the decision.
why_approval_not_counted(approval, ctx) := union({
	_approval_other_version(approval, ctx),
	_approval_other_artifact(approval, ctx),
	_approval_by_requester(approval, ctx),
	_approval_role_not_asked(approval, ctx),
})

_approval_other_version(approval, ctx) := set() if {
	approval.version == ctx.model.version
} else := {sprintf("it was given for v%v", [object.get(approval, "version", "none")])}

_approval_other_artifact(approval, ctx) := set() if {
	approval.artifact_digest == ctx.model.artifact_digest
} else := {sprintf(
	"it was given for artifact %v, and this version's is %v",
	[object.get(approval, "artifact_digest", "none"), object.get(ctx.model, "artifact_digest", "not known")],
)}

_approval_by_requester(approval, ctx) := set() if {
	is_string(approval.approver)
	not approval.approver in ctx.requesters
} else := {sprintf("%v asked for a decision on this version, so may not sign it off", [object.get(approval, "approver", "its approver")])}

_approval_role_not_asked(approval, ctx) := set() if {
	approval.role in _approver_roles_of(ctx.tier)
} else := {sprintf(
	"a %v-risk model asks an approval of %v, not of %v",
	[ctx.tier, _roles_named(_approver_roles_of(ctx.tier)), object.get(approval, "role", "no role")],
)}

_is_approved_by(role) if "approved" in {a.status | some a in _approvals_for(role)}

_approval_state(role) := "pending" if {
	"pending" in {a.status | some a in _approvals_for(role)}
} else := "none requested"
