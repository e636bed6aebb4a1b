"""Evidence from the ledger: earlier decisions on this model version and artifact."""

from __future__ import annotations

from typing import Any

from service.audit.ledger import Ledger

STAGES = ("staging", "canary", "production")


def recorded_history(
    ledger: Ledger, model: str, version: str, artifact_digest: str | None
) -> list[dict[str, Any]]:
    """The newest promotion allow of this version at each stage, oldest first, as
    prior_decision objects (schemas/gate_input.schema.json): {decision_id, gate, stage,
    version, outcome, decided_at, artifact_digest, risk_tier}.

    Only decisions on the same artifact digest count: another artifact claiming the same
    version number has no history. Without a digest there is none. Each entry names the risk
    tier it was judged under, so an allow under a lower tier does not count for a higher one.
    Reads only: one indexed query per stage.
    """
    if not artifact_digest:
        return []
    history: list[dict[str, Any]] = []
    for stage in STAGES:
        for record in ledger.find(
            kind="decision",
            model=model,
            version=version,
            gate="promotion",
            outcome="allow",
            artifact_digest=artifact_digest,
            stage=stage,
            limit=1,
        ):
            decision = record.predicate()
            prior = {
                "decision_id": decision["decision_id"],
                "gate": "promotion",
                "stage": stage,
                "version": version,
                "outcome": "allow",
                "decided_at": decision["requested_at"],
                "artifact_digest": artifact_digest,
            }
            tier = decision.get("model", {}).get("risk_tier")
            if tier:
                prior["risk_tier"] = tier
            history.append(prior)
    return sorted(history, key=lambda prior: str(prior["decided_at"]))
