# METADATA
# title: Promotion gate
# description: |
#   May this model version move to the target stage? Checks the model card, metric floors and
#   ceilings, regression against the champion, fairness across protected groups, lineage,
#   stage order and human approval. Thresholds come from data.mlgate.config.promotion.
#   The package spans one file per concern: this one holds the entrypoint, the risk tier,
#   the settings it picks and the helpers the others share.
package mlgate.promotion

import data.mlgate.lib.decision as decisions
import data.mlgate.lib.reasons

# `hold` and `warn` are named by their full path because their rules live in stages.rego,
# signoffs.rego and baseline.rego: so this file compiles on its own, as an OPA server compiles
# each module pushed through its Policy API, and the others, which need its helpers, follow.
# Were no rule to add to hold or warn, the decision would be undefined, and the service denies
# an undefined decision.
# METADATA
# title: Promotion decision
# description: |
#   The gate's answer; the service queries exactly this rule. Names the risk tier it judged
#   under, so the service records that tier rather than working it out again.
# entrypoint: true
decision := object.union(
	decisions.make(
		{"deny": deny, "hold": data.mlgate.promotion.hold, "warn": data.mlgate.promotion.warn},
		_signoff_context,
	),
	_judged_under,
)

# What a waiver of this request is checked against (data.mlgate.lib.decision.make).
_signoff_context := {
	"waivers": object.get(input, "waivers", []),
	"model": input.model,
	"requesters": _requesters,
	"now_ns": time.parse_rfc3339_ns(input.requested_at),
	"tier": tier,
	"non_waivable": object.get(_promotion, "non_waivable", []),
	"waiver_roles": object.get(_promotion, ["waivers", "roles"], {}),
	"default_waiver_roles": _approver_roles_of(tier),
}

# Only a known tier is claimed: evidence naming another is refused by its schema anyway.
_judged_under := {"risk_tier": tier} if tier in object.keys(_tier_rank)

else := {}

_promotion := object.get(data.mlgate.config, "promotion", {})

# The model card's risk tier decides the thresholds; a card without one is judged as high
# risk. A request cannot choose it (RISK_TIER_CONFLICT), nor lower the model's tier of record
# (RISK_TIER_LOWERED; the service reads it from the ledger: the tier a decision on a valid
# card was judged under, or a signed tier change): the higher of the two applies. The decision
# names it (risk_tier), so the service records the tier the policy judged under.
_card_tier := object.get(input, ["model_card", "risk_tier"], "high")

_recorded_tier := object.get(input, ["recorded_risk_tier", "tier"], _card_tier)

tier := _recorded_tier if _is_lowered

else := _card_tier

_tier_rank := {"low": 0, "medium": 1, "high": 2}

_is_lowered if _tier_rank[_recorded_tier] > _tier_rank[_card_tier]

# Who may not sign off this request: its caller, and whoever asked for a decision on this
# version before (the ledger's requesters), whatever the order of sign-off and request.
_requesters := {input.caller.id} | {who | some who in object.get(input, "requesters", [])}

stage := input.target.stage

# Tier settings with the model's own overrides merged over them.
settings := _settings_of(tier)

_settings_of(t) := object.union(
	object.get(_promotion, ["tiers", t], {}),
	object.get(_promotion, ["models", input.model.name], {}),
)

# Every role tier `t` asks an approval of, at any stage, its first deployment's included: the
# roles whose approval can count for the model, and by default those that may waive a rule. The
# decision and the check made when a sign-off is given (signoffs.rego, signoff_roles) both ask
# this one rule.
_approver_roles_of(t) := _approver_roles_in(_settings_of(t))

# Every role the tier settings `settings` ask an approval of, at any stage.
_approver_roles_in(settings) := {role |
	some stage_config in object.get(settings, "stages", {})
	some roles in [
		object.get(stage_config, "approver_roles", []),
		object.get(stage_config, ["first_deployment", "approver_roles"], []),
	]
	some role in roles
}

_roles_named(roles) := concat(", ", sort(roles)) if count(roles) > 0

else := "no role"

stage_settings := object.get(settings, ["stages", stage], {})

_values := object.get(input.metrics, "values", {})

_label := sprintf("%s-risk %s", [tier, stage])

# Text counts only with a visible character (a letter, digit, punctuation or symbol): a
# section holding only spaces or zero-width characters is empty.
_has_text(doc, key) if {
	is_string(doc[key])
	regex.match(`[\pL\pN\pP\pS]`, doc[key])
}

# METADATA
# title: Promotion is configured
# description: There are thresholds for the model's risk tier and the target stage.
# custom:
#   code: PROMOTION_NOT_CONFIGURED
#   severity: critical
#   controls: ["NIST AI RMF GOVERN 1.2", "SR 11-7 IV"]
deny contains reason if {
	not _is_configured
	msg := sprintf("no promotion thresholds are configured for %s models going to %s", [tier, stage])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "model.risk_tier"})
}

_is_configured if object.get(_promotion, ["tiers", tier, "stages", stage], null) != null

# METADATA
# title: Risk tier is the model card's
# description: |
#   The risk tier picks the thresholds and comes from the model card; a request naming another
#   tier is denied rather than judged under a tier of its choosing.
# custom:
#   code: RISK_TIER_CONFLICT
#   severity: critical
#   controls: ["SR 11-7 IV", "NIST AI RMF GOVERN 1.3"]
#   when_present: [model.risk_tier]
deny contains reason if {
	claimed := input.model.risk_tier
	claimed != _card_tier
	msg := sprintf("the request names risk tier %v, but the model card says %v; only the card sets the tier", [claimed, _card_tier])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "model.risk_tier"})
}

# METADATA
# title: Risk tier is never lowered
# description: |
#   The model has a tier of record: the one a decision on a valid model card was judged under,
#   or one a person set by a signed tier change. A card naming a lower one is denied, and the
#   recorded tier's thresholds apply, so the party being gated cannot pick lighter checks. A
#   tier is lowered only by a tier change, given in a role tier_changes.allowed_roles lists.
# custom:
#   code: RISK_TIER_LOWERED
#   severity: critical
#   controls: ["SR 11-7 IV", "NIST AI RMF GOVERN 1.3"]
deny contains reason if {
	_is_lowered
	msg := sprintf(
		"the model card says risk tier %v, but %v; a tier is lowered only by a signed tier change (mlgate tier set, POST /v1/tiers) %v, never through a request",
		[_card_tier, _tier_of_record(input.model.name, input.recorded_risk_tier), _tier_changers],
	)
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "model_card.risk_tier"})
}

# Where the recorded tier comes from, in words: a tier change or an earlier decision.
_tier_of_record(name, recorded) := msg if {
	recorded.tier_change_id
	msg := sprintf("%v's risk tier was set to %v by tier change %v (%v as %v)", [
		name, recorded.tier, recorded.tier_change_id,
		object.get(recorded, "changed_by", "unknown"), object.get(recorded, "role", "unknown"),
	])
} else := msg if {
	recorded.decision_id
	msg := sprintf("%v was judged as %v-risk before (decision %v on v%v)", [
		name, recorded.tier, recorded.decision_id, object.get(recorded, "version", "?"),
	])
} else := sprintf("%v was judged as %v-risk before", [name, recorded.tier])

_tier_changers := sprintf("by %v", [concat(", ", sort(roles))]) if {
	roles := object.get(_promotion, ["tier_changes", "allowed_roles"], [])
	count(roles) > 0
} else := "by a role in tier_changes.allowed_roles of the promotion data (it names none)"

# The files this package is written in besides this one; each adds its name to `files`. Each
# file compiles on its own (an OPA server compiles each pushed module so), so a policy set that
# lost one would still load, and judge without its rules: the gate denies instead.
_expected_files := {
	"baseline", "card", "fairness", "first_deployment", "lineage", "metrics", "regression",
	"signoffs", "stages",
}

_missing_files := _expected_files - {name | some name in data.mlgate.promotion.files}

# METADATA
# title: The gate's policy is whole
# description: |
#   Every file of the package is loaded. A policy set missing one (a deleted or unpushed
#   file) would judge without that file's rules, and for this gate that could allow what
#   they would stop: the gate denies, naming the files.
# custom:
#   code: PROMOTION_POLICY_FILES_MISSING
#   severity: critical
#   controls: ["NIST AI RMF GOVERN 1.4", "SR 11-7 IV"]
deny contains reason if {
	count(_missing_files) > 0
	missing := concat(", ", [sprintf("%s.rego", [name]) | some name in sort(_missing_files)])
	msg := sprintf("the promotion policy lacks %s (package mlgate.promotion): it cannot judge without them", [missing])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {})
}
