"""Risk tier changes: a person's signed judgement of a model's tier, in either direction.

The tier picks the promotion thresholds. A decision on a valid model card records the tier it
was judged under, and no later card may name a lower one (RISK_TIER_LOWERED): the party being
gated cannot choose lighter checks. A tier changes otherwise only by a tier change, a signed
ledger record (kind `tier_change`) given in a role the promotion data allows:

    tier_changes:
      allowed_roles: [model-risk-officer]

From then on the model's recorded tier is the changed one (service/evidence/risk_tier.py), until
a decision on a valid card names a higher one or another tier change is recorded. Who asked for
a decision on the model may not change its tier: the gated party does not judge itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from typing import Any

from service.audit.ledger import Ledger
from service.audit.recorded import Recorded
from service.audit.records import LedgerRecord
from service.clock import now_rfc3339
from service.errors import InvalidField
from service.modelname import check_model_name
from service.record_ids import new_record_id
from service.signoffs.book import SelfSignoff

KIND = "tier_change"
TIERS = ("low", "medium", "high")
# How many tier changes of one model are read back for its history; far above real use.
READ_LIMIT = 10_000
_CHAIN_FIELDS = frozenset({"seq", "prev", "recorded_at"})


class TierChangeRefused(InvalidField):
    """A tier change that may not be given: `field` names the part of the request at fault."""


def tier_change_roles(config: Mapping[str, Any]) -> set[str]:
    """The roles that may change a model's risk tier: promotion.tier_changes.allowed_roles of
    the policy data (data.mlgate.config), none when it is not configured."""
    promotion = config.get("promotion")
    changes = promotion.get("tier_changes") if isinstance(promotion, Mapping) else None
    roles = changes.get("allowed_roles") if isinstance(changes, Mapping) else None
    return {str(role) for role in roles} if isinstance(roles, list) else set()


def check_tier_change(
    config: Mapping[str, Any], *, tier: str, role: str, held_roles: Set[str]
) -> None:
    """Raise TierChangeRefused unless a tier change to `tier` may be given as `role`.

    `held_roles` are the roles the approver may sign as (approves_as). Refused, naming the
    field: a tier other than low, medium or high (`tier`); a role that tier_changes.allowed_roles
    of the promotion data does not list, or that the approver does not hold (`role`).
    """
    if tier not in TIERS:
        raise TierChangeRefused("tier", f"expected one of {', '.join(TIERS)}; found {tier!r}")
    allowed = tier_change_roles(config)
    if role not in allowed:
        raise TierChangeRefused(
            "role",
            f"a risk tier may be changed as {', '.join(sorted(allowed)) or 'no role'} "
            f"(tier_changes.allowed_roles in the promotion data); found {role!r}",
        )
    if role not in held_roles:
        raise TierChangeRefused(
            "role",
            f"the approver may sign as {', '.join(sorted(held_roles)) or 'no role'} "
            f"(approves_as), not {role!r}",
        )


class TierBook:
    """Writes tier changes into `ledger` and reads them back for one model."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def change(
        self,
        *,
        model: str,
        tier: str,
        role: str,
        changed_by: str,
        reason: str,
        previous: Callable[[], Mapping[str, Any] | None],
    ) -> Recorded:
        """Record a change of `model`'s risk tier to `tier`; the stored tier change:
        {id, model, tier, from_tier, previous, changed_by, role, reason, changed_at, record}.

        `previous` reads the model's tier of record now (service/evidence/risk_tier.py), or
        None; it is read under the model's lock, so two changes at once each name the tier
        they replace. When the tier of record already rests on a tier change the same as this
        one (tier, role, person, reason), nothing is recorded and the answer is that change
        (`created` False): a retried request records once. The caller checks the tier and role
        first (check_tier_change). Raises InvalidField for a model name not in the one form or
        an empty reason, SelfSignoff when `changed_by` asked for a decision on the model,
        AuditWriteFailed when it cannot be stored.
        """
        check_model_name("model", model)
        if not reason.strip():
            raise InvalidField("reason", "say why the tier changes, in words")
        if self.ledger.find(kind="decision", model=model, caller=changed_by, limit=1):
            raise SelfSignoff(
                f"{changed_by} requested a decision on {model}, so may not change its risk "
                "tier; another approver must"
            )
        with self.ledger.exclusive(f"tiers:{model}"):
            replaced = previous()
            kept = self._same_change_in_force(replaced, tier, role, changed_by, reason)
            if kept is not None:
                return Recorded(kept, created=False)
            change: dict[str, Any] = {
                "id": new_record_id(),
                "model": model,
                "tier": tier,
                "from_tier": replaced.get("tier") if replaced else None,
                "previous": dict(replaced) if replaced else None,
                "changed_by": changed_by,
                "role": role,
                "reason": reason,
                "changed_at": now_rfc3339(),
            }
            receipt = self.ledger.record_event(
                KIND, change["id"], change, model=(model, "", None), outcome=tier, by=changed_by
            )
        return Recorded(change | {"record": receipt.seq}, created=True)

    def _same_change_in_force(
        self, replaced: Mapping[str, Any] | None, tier: str, role: str, by: str, reason: str
    ) -> dict[str, Any] | None:
        """The tier change the tier of record rests on, if it is this very change; else None."""
        change_id = replaced.get("tier_change_id") if replaced else None
        if change_id is None:
            return None
        kept = tier_change(self.ledger.get(str(change_id)))
        same = (kept["tier"], kept["role"], kept["changed_by"], kept["reason"])
        return kept if same == (tier, role, by, reason) else None

    def changes(self, model: str) -> list[dict[str, Any]]:
        """Every tier change of `model`, newest first, as signed, with its record seq."""
        return [
            tier_change(record)
            for record in self.ledger.find(kind=KIND, model=model, limit=READ_LIMIT)
        ]


def latest_tier_change(ledger: Ledger, model: str) -> LedgerRecord | None:
    """The newest tier change record of `model`, or None (its signature is checked on read)."""
    found = ledger.find(kind=KIND, model=model, limit=1)
    return found[0] if found else None


def tier_change(record: LedgerRecord) -> dict[str, Any]:
    """A tier change record's content as signed, with its record seq."""
    return {k: v for k, v in record.predicate().items() if k not in _CHAIN_FIELDS} | {
        "record": record.seq
    }
