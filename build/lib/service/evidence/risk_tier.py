"""Evidence from the ledger: the risk tier of record of this model, or of this artifact.

The tier picks the thresholds, and without a registry the model card that names it is the
caller's. A decision judged on a valid model card naming a tier records the tier the policy
judged it under (its `risk_tier`, with `records_tier` true), which the policy never lets fall
below the one recorded before it, so the newest such decision holds the model's floor: a
request cannot lower it. A decision whose card was missing or invalid was judged as high-risk
by default, which no one chose: it records no tier (its `records_tier` is false; decisions
recorded before the field existed count).

A person changes the tier, in either direction, by a tier change (service/signoffs/tiers.py), a
signed ledger record: what was recorded before it no longer counts, and the changed tier holds
until a decision on a valid card names a higher one or another change is recorded.

A name is only what the artifact is called: the same artifact under another name (a new
registered model, a copy) keeps the tier it was judged under. So the decisions on the
artifact's digest count too, under whatever name, and the higher tier of the two holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.audit.ledger import Ledger
from service.audit.records import LedgerRecord
from service.evidence.base import LEDGER_DECISIONS, TIER_CHANGES
from service.evidence.context import EvidenceContext
from service.evidence.gathered import Gathered, Part
from service.signoffs.tiers import latest_tier_change

# Decisions made without a readable tier record none; the newest few are read past them.
LOOKBACK = 20
_RANK = {"low": 0, "medium": 1, "high": 2}


def recorded_risk_tier(
    ledger: Ledger, model: str, artifact_digest: str | None = None
) -> dict[str, Any] | None:
    """The tier of record, or None when there is none:

    - {"tier", "decision_id", "version"}: the newest decision on any version of `model` that
      recorded a tier, or the highest-tier decision among the newest on `artifact_digest`
      under any name, whichever tier is higher (the model's own on a tie);
    - {"tier", "tier_change_id", "changed_by", "role", "changed_at"}: the newest tier change
      of `model`, when no decision after it on the model recorded a tier; decisions recorded
      before it (on the name or the artifact) then count for nothing.

    Reads only: indexed queries of one record each (its signature is checked on every read),
    and of LOOKBACK records only when the newest recorded no tier, or, on the artifact, a tier
    below the highest."""
    change = latest_tier_change(ledger, model)
    after = change.seq if change is not None else 0
    by_name = _newest_tier(ledger, model, after)
    if not by_name and change is not None:
        by_name = [_changed(change)]
    by_artifact = _highest_recent_tier(ledger, artifact_digest, after) if artifact_digest else []
    found = [*by_name, *by_artifact]
    # max() keeps the first of equals: the model's own, then the newest on the artifact.
    return max(found, key=lambda tier: _RANK[tier["tier"]]) if found else None


def _newest_tier(ledger: Ledger, model: str, after: int) -> list[dict[str, Any]]:
    """The tier of the newest decision on `model` after seq `after` that recorded one, as a
    list of at most one."""
    for limit in (1, LOOKBACK):
        found = _tiers(ledger.find(kind="decision", model=model, limit=limit), after)
        if found:
            return found[:1]
    return []


def _highest_recent_tier(ledger: Ledger, artifact_digest: str, after: int) -> list[dict[str, Any]]:
    """The highest tier among the newest decisions on the artifact under any name after seq
    `after` (the newest of equals), as a list of at most one. A ledger written before names
    had one form can hold a lower tier recorded later under a look-alike; the highest recent
    one holds."""
    newest = _tiers(ledger.find(kind="decision", artifact_digest=artifact_digest, limit=1), after)
    if newest and newest[0]["tier"] == "high":  # nothing is higher
        return newest
    found = _tiers(
        ledger.find(kind="decision", artifact_digest=artifact_digest, limit=LOOKBACK), after
    )
    return [max(found, key=lambda tier: _RANK[tier["tier"]])] if found else []


def _tiers(records: list[LedgerRecord], after: int) -> list[dict[str, Any]]:
    """The tier each record (newest first) recorded, down to seq `after`, skipping those that
    recorded none."""
    tiers = []
    for record in records:
        if record.seq <= after:
            break
        decision = record.predicate()
        model = decision.get("model", {})
        tier = model.get("risk_tier")
        if tier in _RANK and model.get("records_tier") is not False:
            tiers.append(
                {"tier": tier, "decision_id": decision["decision_id"], "version": model["version"]}
            )
    return tiers


def _changed(record: LedgerRecord) -> dict[str, Any]:
    change = record.predicate()
    return {
        "tier": change["tier"],
        "tier_change_id": change["id"],
        "changed_by": change["changed_by"],
        "role": change["role"],
        "changed_at": change["changed_at"],
    }


@dataclass(frozen=True)
class RecordedTierSource:
    """The model's or its artifact's tier of record, as `recorded_risk_tier`."""

    def read(self, gathered: Gathered, context: EvidenceContext) -> Part:
        named = gathered.named_version()
        digest = gathered.identity().get("artifact_digest")
        tier = (
            recorded_risk_tier(
                context.ledger, named[0], digest if isinstance(digest, str) else None
            )
            if named
            else None
        )
        if tier is None:
            return Part()
        return Part(
            documents={"recorded_risk_tier": tier},
            provenance={
                "recorded_risk_tier": TIER_CHANGES if "tier_change_id" in tier else LEDGER_DECISIONS
            },
        )
