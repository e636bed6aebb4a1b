"""The history MLflow lacks: the alias moves recorded in the ledger."""

from __future__ import annotations

from typing import Any

from service.audit.ledger import Ledger

HISTORY_LIMIT = 10_000


def alias_history(ledger: Ledger, model: str, alias: str | None = None) -> list[dict[str, Any]]:
    """Every alias_move record of `model` (only `alias`'s, if given), newest first, as signed,
    with its record seq: {alias, from_version, to_version, moved, error, decision_id,
    requested_by, moved_at, record, ...}."""
    moves = []
    for record in ledger.find(kind="alias_move", model=model, limit=HISTORY_LIMIT):
        move = record.predicate()
        if alias is None or move.get("alias") == alias:
            moves.append(
                {k: v for k, v in move.items() if k not in ("seq", "prev", "recorded_at")}
                | {"record": record.seq}
            )
    return moves
