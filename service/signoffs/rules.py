"""What a sign-off must satisfy before it is recorded: the same rules over HTTP and in the CLI.

Who may sign is the promotion policy's answer, not a rule written here. The service asks
data.mlgate.promotion.signoff_roles (policies/promotion/signoffs.rego) which roles can count
for the tier the model was last judged under, and the decision counts sign-offs by the same
Rego helpers; so an approval or a waiver that no decision could count is refused when it is
given, naming the roles that could, and a platform team changes who may sign in one place:
`approver_roles` per tier and stage, and `waivers.roles` per code, in the promotion data.

The other settings come from the promotion thresholds (data.mlgate.config.promotion.waivers):

    waivers:
      max_days: 90                  # the longest a waiver may run, from when it is given
      roles: {METRIC_BELOW_FLOOR: [model-risk-officer]}   # who may waive a code

A code without an entry in `roles` may be waived by any role the model's tier asks an approval
of (`approver_roles` of any of its stages).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from service.errors import PolicyEngineUnavailable, UsageError

DEFAULT_MAX_DAYS = 90
# What a sign-off names the artifact by: the form the lineage's artifact_digest takes.
ARTIFACT_DIGEST = r"^sha256:[0-9a-f]{64}$"
# The rule that says who may sign off (policies/promotion/signoffs.rego).
SIGNOFF_ROLES_RULE = "mlgate.promotion.signoff_roles"
# Every role a sign-off can count as, for any model and tier (the same file).
ALL_SIGNOFF_ROLES_RULE = "mlgate.promotion.all_signoff_roles"
# The reasons a waiver can lift: the promotion gate's denials. Waivers lift denials only
# (policies/lib/decision.rego), and only the promotion gate reads sign-offs.
WAIVABLE_RULE = "data.mlgate.promotion.deny"


class PolicyRule(Protocol):
    """A rule of the catalogue (service/engine/catalogue.py): its code and the set it adds to."""

    @property
    def code(self) -> str: ...

    @property
    def rule(self) -> str: ...


class SignoffRefused(UsageError):
    """A sign-off that may not be given: `field` names the part of the request at fault."""

    code = "invalid_request"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class PolicyQuery(Protocol):
    """Evaluates one rule of the policy set in force (the engines of service/engine/ do)."""

    def query(self, path: str, input_doc: Mapping[str, Any]) -> Any: ...


@dataclass(frozen=True)
class SignoffRoles:
    """Who may sign off a version of `model`, as the policy answered for `tier`.

    `tier` is the ledger's recorded tier ({"tier", "decision_id", "version"}, as
    service/evidence/risk_tier.py finds it), None when no decision has judged the model yet
    (then the roles of any tier count); `approval` the roles whose approval can count;
    `waiver` rule code -> the roles that may waive it.
    """

    model: str
    tier: Mapping[str, Any] | None
    approval: frozenset[str]
    waiver: Mapping[str, frozenset[str]]

    def judged(self) -> str:
        """How the tier was found, for a message."""
        if self.tier is None:
            return f"no decision has judged {self.model} yet, so any tier's roles are named"
        return (
            f"{self.model} was judged {self.tier['tier']}-risk (decision "
            f"{self.tier.get('decision_id', '?')} on v{self.tier.get('version', '?')})"
        )


def signoff_roles(
    policy: PolicyQuery,
    *,
    model: str,
    version: str,
    tier: Mapping[str, Any] | None,
    rule_code: str | None = None,
) -> SignoffRoles:
    """Ask the policy who may sign off `model` `version` judged under `tier` (and who may
    waive `rule_code`, when given).

    The input is a gate input's model and recorded_risk_tier with the waiver to be given; the
    answer {"approval": [roles], "waiver": {code: [roles]}}. Raises PolicyEngineUnavailable
    when the engine fails or the policy answers anything else (nothing is recorded then).
    """
    input_doc: dict[str, Any] = {"model": {"name": model, "version": version}}
    if tier is not None:
        input_doc["recorded_risk_tier"] = dict(tier)
    if rule_code is not None:
        input_doc["waivers"] = [{"rule_code": rule_code}]
    answer = policy.query(SIGNOFF_ROLES_RULE, input_doc)
    approval = answer.get("approval") if isinstance(answer, Mapping) else None
    waiver = answer.get("waiver") if isinstance(answer, Mapping) else None
    if not isinstance(approval, list) or not _is_roles(approval):
        raise PolicyEngineUnavailable(_malformed(answer))
    if not isinstance(waiver, Mapping):
        raise PolicyEngineUnavailable(_malformed(answer))
    if not all(isinstance(code, str) and _is_roles(roles) for code, roles in waiver.items()):
        raise PolicyEngineUnavailable(_malformed(answer))
    if rule_code is not None and rule_code not in waiver:
        raise PolicyEngineUnavailable(_malformed(answer))
    return SignoffRoles(
        model=model,
        tier=tier,
        approval=frozenset(approval),
        waiver={code: frozenset(roles) for code, roles in waiver.items()},
    )


def all_signoff_roles(policy: PolicyQuery) -> frozenset[str]:
    """Every role some approval, waiver or tier change can count as under the policy set in
    force, whatever the model and its tier: data.mlgate.promotion.all_signoff_roles
    (policies/promotion/signoffs.rego), from `approver_roles` of every tier, stage and model,
    `waivers.roles` and `tier_changes.allowed_roles` in the promotion data. Raises
    PolicyEngineUnavailable when the engine fails or the policy answers anything but a list of
    role names (a policy set without the rule included)."""
    answer = policy.query(ALL_SIGNOFF_ROLES_RULE, {})
    if not _is_roles(answer):
        raise PolicyEngineUnavailable(
            f"data.{ALL_SIGNOFF_ROLES_RULE} answered {answer!r}, not a list of role names: "
            "the roles the policies ask a sign-off of cannot be known"
        )
    return frozenset(answer)


def check_roles_asked(asked: Set[str], roles: Iterable[str], *, field: str) -> None:
    """Raise SignoffRefused (`field`) naming each of `roles` outside `asked` (what
    all_signoff_roles answered): no sign-off in such a role could ever count, so a token
    signing in it would only be found out when a promotion is held. The message names the
    roles the policies ask for and, for a role close to one of them, the likely one
    (difflib.get_close_matches, https://docs.python.org/3/library/difflib.html)."""
    unknown = [role for role in dict.fromkeys(roles) if role not in asked]
    if not unknown:
        return
    named = ", ".join(f"{role!r}{_did_you_mean(role, asked)}" for role in unknown)
    raise SignoffRefused(
        field,
        f"no policy asks a sign-off as {named}, so one would never count; the policies ask "
        f"for {_named(asked, 'no role')} (approver_roles, waivers.roles and "
        "tier_changes.allowed_roles in the promotion data)",
    )


def _did_you_mean(role: str, asked: Set[str]) -> str:
    match = difflib.get_close_matches(role, sorted(asked), n=1)
    return f" (did you mean {match[0]}?)" if match else ""


def _is_roles(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(role, str) for role in value)


def _malformed(answer: Any) -> str:
    return (
        f"data.{SIGNOFF_ROLES_RULE} answered {answer!r}, not {{approval: [roles], waiver: "
        "{code: [roles]}}: who may sign off cannot be known, so nothing is recorded"
    )


_NOBODY_WAIVES = "no role (its tier asks no approval, and waivers.roles names none for it)"


def _named(roles: Set[str], none: str) -> str:
    return ", ".join(sorted(roles)) if roles else none


def check_approval_role(may_sign: SignoffRoles, role: str) -> None:
    """Raise SignoffRefused (field `role`) unless an approval as `role` can count for the
    model's tier (the policy's `approver_roles`, any stage)."""
    if role not in may_sign.approval:
        raise SignoffRefused(
            "role",
            f"an approval of {may_sign.model} counts only as "
            f"{_named(may_sign.approval, 'no role (its tier asks no approval)')}; "
            f"{may_sign.judged()}. One as {role!r} would never count",
        )


def check_waiver_role(may_sign: SignoffRoles, rule_code: str, role: str) -> None:
    """Raise SignoffRefused (field `role`) unless a waiver of `rule_code` as `role` can count
    for the model's tier (waivers.roles of the code, else the tier's approver roles)."""
    allowed = may_sign.waiver.get(rule_code, frozenset())
    if role not in allowed:
        raise SignoffRefused(
            "role",
            f"{rule_code} of {may_sign.model} may be waived as "
            f"{_named(allowed, _NOBODY_WAIVES)}; "
            f"{may_sign.judged()}. A waiver as {role!r} would never count",
        )


def waiver_settings(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """data.mlgate.config.promotion.waivers, or {} when none is configured."""
    promotion = config.get("promotion")
    waivers = promotion.get("waivers") if isinstance(promotion, Mapping) else None
    return waivers if isinstance(waivers, Mapping) else {}


def check_waiver(
    config: Mapping[str, Any],
    *,
    rules: Iterable[PolicyRule],
    rule_code: str,
    role: str,
    held_roles: Set[str],
    may_sign: SignoffRoles,
    expires_at: datetime,
    now: datetime | None = None,
) -> None:
    """Raise SignoffRefused unless the waiver may be given.

    `rules` are the rule catalogue of the policy set; `held_roles` the roles the approver may
    sign as; `may_sign` the policy's answer for the model (signoff_roles, asked with
    `rule_code`); `expires_at` is timezone-aware. Refused: an unknown code, one that is no
    promotion denial (a hold, a warning, another gate's rule: no waiver lifts it) or is
    non-waivable (each naming the codes a waiver can lift: the promotion gate's deny rules not
    in non_waivable), a role that could never count for the model's tier or that the approver does
    not hold, an expiry in the past or further than `max_days` (default 90) ahead.
    """
    now = now or datetime.now(UTC)
    promotion = config.get("promotion", {})
    non_waivable = promotion.get("non_waivable", [])
    adds_to = {rule.code: rule.rule for rule in rules}
    waivable = sorted(
        code for code, rule in adds_to.items() if rule == WAIVABLE_RULE and code not in non_waivable
    )
    can_lift = f"the codes a waiver can lift are {', '.join(waivable) or 'none'}"
    if rule_code not in adds_to:
        raise SignoffRefused("rule_code", f"no policy rule has the code {rule_code}; {can_lift}")
    if adds_to[rule_code] != WAIVABLE_RULE:
        raise SignoffRefused(
            "rule_code",
            f"{rule_code} adds to {adds_to[rule_code]}, and a waiver lifts only the promotion "
            f"gate's denials ({WAIVABLE_RULE}), so it would never count; {can_lift}",
        )
    if rule_code in non_waivable:
        raise SignoffRefused(
            "rule_code",
            f"{rule_code} may not be waived (non_waivable in the promotion data); {can_lift}",
        )
    check_waiver_role(may_sign, rule_code, role)
    if role not in held_roles:
        raise SignoffRefused(
            "role",
            f"the approver may sign as {', '.join(sorted(held_roles)) or 'no role'} "
            f"(approves_as), not {role!r}",
        )
    if expires_at <= now:
        raise SignoffRefused("expires_at", f"{expires_at.isoformat()} is not in the future")
    max_days = waiver_settings(config).get("max_days", DEFAULT_MAX_DAYS)
    if expires_at > now + timedelta(days=max_days):
        raise SignoffRefused(
            "expires_at",
            f"{expires_at.isoformat()} is more than {max_days} days ahead; a waiver runs at "
            f"most {max_days} days (waivers.max_days in the promotion data)",
        )
