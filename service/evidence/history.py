"""Evidence from the ledger: earlier decisions on this model version and artifact."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from service.audit.kinds import MOVE_BACK
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
        rollback = latest_rollback(context.ledger, *named)
        found = recorded_history(
            context.ledger,
            *named,
            digest if isinstance(digest, str) else None,
            gate=self.gate,
            stages=self.stages,
            after=str(rollback["recorded_at"]) if rollback else None,
        )
        documents, provenance = appended(gathered, "history", found, LEDGER_DECISIONS)
        notes: tuple[Mapping[str, str], ...] = ()
        if rollback is not None:
            notes = (
                {
                    "code": ROLLED_BACK,
                    "field": "history",
                    "message": f"v{named[1]} of {named[0]} was rolled back from alias "
                    f"{rollback.get('alias')!r} at {rollback['recorded_at']} (decision "
                    f"{rollback.get('decision_id')}): its allows before then do not count; "
                    "it needs new ones",
                },
            )
        return Part(documents=documents, provenance=provenance, notes=notes)


ROLLED_BACK = "ROLLED_BACK"


def latest_rollback(ledger: Ledger, model: str, version: str) -> dict[str, Any] | None:
    """The newest alias move that rolled `version` back (as signed, with its record's
    recorded_at), or None: an indexed read of that version's rollbacks (records_by_rollback),
    not of the model's every move."""
    for record in ledger.iter_find(
        kind="alias_move", model=model, rolled_back_version=version, outcome="moved"
    ):
        move = record.predicate()
        if (
            move.get("move") == MOVE_BACK
            and move.get("moved")
            and str(move.get("rolled_back_version")) == version
        ):
            return move
    return None


def recorded_history(
    ledger: Ledger,
    model: str,
    version: str,
    artifact_digest: str | None,
    *,
    gate: str,
    stages: Sequence[str],
    after: str | None = None,
) -> list[dict[str, Any]]:
    """The newest `gate` allow of this version at each stage, oldest first, as
    prior_decision objects (schemas/gate_input.schema.json): {decision_id, gate, stage,
    version, outcome, decided_at, artifact_digest, risk_tier}.

    Only decisions on the same artifact digest count: another artifact claiming the same
    version number has no history. Without a digest there is none. Each entry names the risk
    tier it was judged under, so an allow under a lower tier does not count for a higher one.
    With `after` (the version's latest rollback), an allow recorded before then does not
    count: a rolled-back version needs new allows. Reads only: one indexed query per stage.
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
            if after is not None and record.recorded_at <= after:
                continue
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
