"""Evidence from the ledger: the risk tier this model, or this artifact, was last judged under.

The tier picks the thresholds, and without a registry the model card that names it is the
caller's. Every decision records the tier the policy judged it under (the decision's
`risk_tier`), which the policy never lets fall below the one recorded before it, so the newest
decision with a tier holds the model's floor: a request cannot lower it.

A name is only what the artifact is called: the same artifact under another name (a new
registered model, a copy) keeps the tier it was judged under. So the decisions on the
artifact's digest count too, under whatever name, and the higher tier of the two holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.audit.ledger import Ledger
from service.audit.records import LedgerRecord
from service.evidence.base import LEDGER_DECISIONS
from service.evidence.context import EvidenceContext
from service.evidence.gathered import Gathered, Part

# Decisions made without a readable tier record none; the newest few are read past them.
LOOKBACK = 20
_RANK = {"low": 0, "medium": 1, "high": 2}


def recorded_risk_tier(
    ledger: Ledger, model: str, artifact_digest: str | None = None
) -> dict[str, Any] | None:
    """{"tier", "decision_id", "version"} of the newest decision on any version of `model`
    that recorded a tier, or of the highest-tier decision among the newest on
    `artifact_digest` under any name, whichever tier is higher (the model's own on a tie); None
    when neither has one. Reads only: an indexed query of one record each (its signature is
    checked on every read), and of LOOKBACK records only when the newest recorded no tier, or,
    on the artifact, a tier below the highest."""
    by_name = _newest_tier(ledger, model)
    by_artifact = _highest_recent_tier(ledger, artifact_digest) if artifact_digest else []
    found = [*by_name, *by_artifact]
    # max() keeps the first of equals: the model's own, then the newest on the artifact.
    return max(found, key=lambda tier: _RANK[tier["tier"]]) if found else None


def _newest_tier(ledger: Ledger, model: str) -> list[dict[str, Any]]:
    """The tier of the newest decision on `model` that recorded one, as a list of at most one."""
    for limit in (1, LOOKBACK):
        found = _tiers(ledger.find(kind="decision", model=model, limit=limit))
        if found:
            return found[:1]
    return []


def _highest_recent_tier(ledger: Ledger, artifact_digest: str) -> list[dict[str, Any]]:
    """The highest tier among the newest decisions on the artifact under any name (the newest
    of equals), as a list of at most one. A ledger written before names had one form can hold
    a lower tier recorded later under a look-alike; the highest recent one holds."""
    newest = _tiers(ledger.find(kind="decision", artifact_digest=artifact_digest, limit=1))
    if newest and newest[0]["tier"] == "high":  # nothing is higher
        return newest
    found = _tiers(ledger.find(kind="decision", artifact_digest=artifact_digest, limit=LOOKBACK))
    return [max(found, key=lambda tier: _RANK[tier["tier"]])] if found else []


def _tiers(records: list[LedgerRecord]) -> list[dict[str, Any]]:
    """The tier each record was judged under, newest first, skipping those with none."""
    tiers = []
    for record in records:
        decision = record.predicate()
        tier = decision.get("model", {}).get("risk_tier")
        if tier in _RANK:
            tiers.append(
                {
                    "tier": tier,
                    "decision_id": decision["decision_id"],
                    "version": decision["model"]["version"],
                }
            )
    return tiers


@dataclass(frozen=True)
class RecordedTierSource:
    """The tier the model or its artifact was last judged under, as `recorded_risk_tier`."""

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
            provenance={"recorded_risk_tier": LEDGER_DECISIONS},
        )
