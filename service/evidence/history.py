"""Evidence from the ledger: earlier decisions on this model version and artifact."""

from __future__ import annotations

from typing import Any

from service.audit.ledger import Ledger

# How many earlier decisions on one version are read; the newest ones count.
HISTORY_LIMIT = 1000


def recorded_history(
    ledger: Ledger, model: str, version: str, artifact_digest: str | None
) -> list[dict[str, Any]]:
    """Earlier promotion allows of this version, oldest first, as prior_decision objects
    (schemas/gate_input.schema.json): {decision_id, gate, stage, version, outcome, decided_at,
    artifact_digest}.

    Only decisions on the same artifact digest count: another artifact claiming the same
    version number has no history. Without a digest there is none. Reads only.
    """
    if not artifact_digest:
        return []
    history: list[dict[str, Any]] = []
    for record in ledger.find(
        kind="decision",
        model=model,
        version=version,
        gate="promotion",
        outcome="allow",
        limit=HISTORY_LIMIT,
    ):
        decision = record.predicate()
        if decision.get("model", {}).get("artifact_digest") != artifact_digest:
            continue
        stage = (decision.get("target") or {}).get("stage")
        prior = {
            "decision_id": decision["decision_id"],
            "gate": "promotion",
            "version": version,
            "outcome": "allow",
            "decided_at": decision["requested_at"],
            "artifact_digest": artifact_digest,
        }
        if stage is not None:
            prior["stage"] = stage
        history.append(prior)
    return history[::-1]
