"""Evidence from the ledger: the risk tier this model was last judged under.

The tier picks the thresholds, and without a registry the model card that names it is the
caller's. Every decision records the tier the policy judged it under (the decision's
`risk_tier`), which the policy never lets fall below the one recorded before it, so the newest
decision with a tier holds the model's floor: a request cannot lower it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.audit.ledger import Ledger
from service.evidence.base import LEDGER_DECISIONS
from service.evidence.context import EvidenceContext
from service.evidence.gathered import Gathered, Part

# Decisions made without a readable tier record none; the newest few are read past them.
LOOKBACK = 20


def recorded_risk_tier(ledger: Ledger, model: str) -> dict[str, Any] | None:
    """{"tier", "decision_id", "version"} of the newest decision on any version of `model`
    that recorded a tier, or None. Reads only: one indexed query."""
    for record in ledger.find(kind="decision", model=model, limit=LOOKBACK):
        decision = record.predicate()
        tier = decision.get("model", {}).get("risk_tier")
        if tier:
            return {
                "tier": tier,
                "decision_id": decision["decision_id"],
                "version": decision["model"]["version"],
            }
    return None


@dataclass(frozen=True)
class RecordedTierSource:
    """The tier the model was last judged under, as `recorded_risk_tier` in the input."""

    def read(self, gathered: Gathered, context: EvidenceContext) -> Part:
        named = gathered.named_version()
        tier = recorded_risk_tier(context.ledger, named[0]) if named else None
        if tier is None:
            return Part()
        return Part(
            documents={"recorded_risk_tier": tier},
            provenance={"recorded_risk_tier": LEDGER_DECISIONS},
        )
