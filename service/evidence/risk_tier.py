"""Evidence from the ledger: the risk tier this model was last judged under.

The tier picks the thresholds, and without a registry the model card that names it is the
caller's. Every decision records the tier it was judged under, which is never lower than the
one recorded before it (service/gate.py, judged_risk_tier), so the newest decision with a tier
holds the model's floor: a request cannot lower it.
"""

from __future__ import annotations

from typing import Any

from service.audit.ledger import Ledger

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
