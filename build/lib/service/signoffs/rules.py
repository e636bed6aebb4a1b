"""What a waiver must satisfy before it is recorded: the same rules over HTTP and in the CLI.

The settings come from the promotion thresholds (data.mlgate.config.promotion.waivers), so a
platform team changes them beside the rules they relax:

    waivers:
      max_days: 90                  # the longest a waiver may run, from when it is given
      roles: {METRIC_BELOW_FLOOR: [model-risk-officer]}   # who may waive a code

A code without an entry in `roles` may be waived by any role the promotion gate asks an
approval of (`approver_roles` of any tier and stage); the policy then narrows that to the
model's own tier when it decides (policies/promotion/promotion.rego, _waiver_roles).
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from datetime import UTC, datetime, timedelta
from typing import Any

from service.errors import UsageError

DEFAULT_MAX_DAYS = 90
# What a sign-off names the artifact by: the form the lineage's artifact_digest takes.
ARTIFACT_DIGEST = r"^sha256:[0-9a-f]{64}$"


class WaiverRefused(UsageError):
    """A waiver that may not be given: `field` names the part of the request at fault."""

    code = "invalid_request"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


def waiver_settings(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """data.mlgate.config.promotion.waivers, or {} when none is configured."""
    promotion = config.get("promotion")
    waivers = promotion.get("waivers") if isinstance(promotion, Mapping) else None
    return waivers if isinstance(waivers, Mapping) else {}


def roles_for_code(config: Mapping[str, Any], code: str) -> set[str]:
    """The roles that may waive `code`: configured per code, else every approver role."""
    configured = waiver_settings(config).get("roles", {})
    if isinstance(configured, Mapping) and code in configured:
        return {str(role) for role in configured[code]}
    promotion = config.get("promotion", {})
    roles: set[str] = set()
    for tier in (promotion.get("tiers") or {}).values():
        for stage in (tier.get("stages") or {}).values():
            roles.update(str(role) for role in stage.get("approver_roles", []))
    return roles


def check_waiver(
    config: Mapping[str, Any],
    *,
    codes: Set[str],
    rule_code: str,
    role: str,
    held_roles: Set[str],
    expires_at: datetime,
    now: datetime | None = None,
) -> None:
    """Raise WaiverRefused unless the waiver may be given.

    `codes` are the rule codes of the policy set; `held_roles` the roles the approver may sign
    as; `expires_at` is timezone-aware. Refused: an unknown or non-waivable code, a role the
    approver does not hold or that may not waive the code, an expiry in the past or further
    than `max_days` (default 90) ahead.
    """
    now = now or datetime.now(UTC)
    promotion = config.get("promotion", {})
    if rule_code not in codes:
        raise WaiverRefused(
            "rule_code",
            f"no policy rule has the code {rule_code}; the codes are {', '.join(sorted(codes))}",
        )
    if rule_code in promotion.get("non_waivable", []):
        raise WaiverRefused(
            "rule_code", f"{rule_code} may not be waived (non_waivable in the promotion data)"
        )
    allowed = roles_for_code(config, rule_code)
    if role not in allowed:
        raise WaiverRefused(
            "role",
            f"{rule_code} may be waived as {', '.join(sorted(allowed)) or 'no role'}; "
            f"found {role!r}",
        )
    if role not in held_roles:
        raise WaiverRefused(
            "role",
            f"the approver may sign as {', '.join(sorted(held_roles)) or 'no role'} "
            f"(approves_as), not {role!r}",
        )
    if expires_at <= now:
        raise WaiverRefused("expires_at", f"{expires_at.isoformat()} is not in the future")
    max_days = waiver_settings(config).get("max_days", DEFAULT_MAX_DAYS)
    if expires_at > now + timedelta(days=max_days):
        raise WaiverRefused(
            "expires_at",
            f"{expires_at.isoformat()} is more than {max_days} days ahead; a waiver runs at "
            f"most {max_days} days (waivers.max_days in the promotion data)",
        )
