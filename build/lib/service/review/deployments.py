"""What went where: each alias move the gate made, joined with the decision it rests on, that
decision's policy revision and the sign-offs it relied on. An allow is not a deployment; a
move is, and every move names its decision."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from service.audit.kinds import MOVE_INSTALL
from service.audit.ledger import Ledger
from service.errors import NotFound

_CHAIN = ("seq", "prev", "recorded_at")


def deployments(
    ledger: Ledger,
    *,
    model: str | None = None,
    stage: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """The alias moves that moved (installs and roll-backs), newest first, at most `limit`:
    {moved_at, model, alias, stage, from_version, to_version, move, record, decision: {id,
    seq, gate, outcome, caller, policy_revision, reasons, warnings}, signoffs: [{id, seq,
    kind, by, role?, status?, expires_at?, rule?}]}. `stage` is the stage the move's decision
    targeted; `since`/`until` bound the move's recording time (RFC 3339).

    Raises LedgerTampered (through the ledger's reads) rather than join an edited record.
    """
    rows: list[dict[str, Any]] = []
    for move in _moves(ledger, model, since, until):
        decision = ledger.get(move["decision_id"])
        judged = decision.predicate()
        target = judged.get("target") or {}
        if stage is not None and target.get("stage") != stage:
            continue
        rows.append(
            {
                "moved_at": move["moved_at"],
                "model": move["model"],
                "alias": move["alias"],
                "stage": target.get("stage"),
                "from_version": move.get("from_version"),
                "to_version": move["to_version"],
                "move": move.get("move", MOVE_INSTALL),
                "record": move["seq"],
                "decision": {
                    "id": decision.decision_id,
                    "seq": decision.seq,
                    "gate": judged.get("gate"),
                    "outcome": judged.get("outcome"),
                    "caller": judged.get("caller"),
                    "policy_revision": judged.get("policy_revision"),
                    "reasons": judged.get("reasons", []),
                    "warnings": judged.get("warnings", []),
                },
                "signoffs": [_signoff(ledger, i) for i in judged.get("signoff_records", [])],
            }
        )
        if len(rows) == limit:
            break
    return rows


def _moves(
    ledger: Ledger, model: str | None, since: str | None, until: str | None
) -> Iterator[dict[str, Any]]:
    for record in ledger.iter_find(kind="alias_move", model=model, since=since, until=until):
        move = record.predicate()
        if move.get("moved"):
            yield move


def _signoff(ledger: Ledger, record_id: str) -> dict[str, Any]:
    """The signed content of sign-off record `record_id`, with its id, seq and kind."""
    try:
        record = ledger.get(record_id)
    except NotFound:
        # A decision names only records it read from this ledger: one missing was removed.
        return {"id": record_id, "missing": True}
    content = {k: v for k, v in record.predicate().items() if k not in _CHAIN}
    return {"id": record.decision_id, "seq": record.seq, "kind": record.kind, **content}
