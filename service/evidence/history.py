"""Evidence from the ledger: earlier decisions on this model version and artifact."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from service.audit.ledger import Ledger
from service.evidence.base import LEDGER_DECISIONS
from service.evidence.context import EvidenceContext
from service.evidence.gathered import Gathered, Part
from service.evidence.signoffs import appended


@dataclass(frozen=True)
class HistorySource:
    """The `gate`'s earlier allows of this version and artifact at each of `stages`."""

    gate: str
    stages: Sequence[str]

    def read(self, gathered: Gathered, context: EvidenceContext) -> Part:
        named = gathered.named_version()
        if named is None:
            return Part()
        digest = gathered.identity().get("artifact_digest")
        found = recorded_history(
            context.ledger,
            *named,
            digest if isinstance(digest, str) else None,
            gate=self.gate,
            stages=self.stages,
        )
        documents, provenance = appended(gathered, "history", found, LEDGER_DECISIONS)
        return Part(documents=documents, provenance=provenance)


def recorded_history(
    ledger: Ledger,
    model: str,
    version: str,
    artifact_digest: str | None,
    *,
    gate: str,
    stages: Sequence[str],
) -> list[dict[str, Any]]:
    """The newest `gate` allow of this version at each stage, oldest first, as
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
    for stage in stages:
        for record in ledger.find(
            kind="decision",
            model=model,
            version=version,
            gate=gate,
            outcome="allow",
            artifact_digest=artifact_digest,
            stage=stage,
            limit=1,
        ):
            decision = record.predicate()
            prior = {
                "decision_id": decision["decision_id"],
                "gate": gate,
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
