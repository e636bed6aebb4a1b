"""A ledger written before alias moves were indexed by alias and rolled-back version gets the
columns when it is opened, filled in from each record's signed content, and verifies."""

from __future__ import annotations

import uuid
from typing import Any

from service.audit.keys import KeyFiles, Keyring
from service.audit.ledger import Ledger
from tests.audit.factory import StoreFactory, record_many


def _move(alias: str, to: str, back_from: str | None = None) -> dict[str, Any]:
    move_id = str(uuid.uuid4())
    move: dict[str, Any] = {
        "id": move_id,
        "model": "fraud-detector",
        "version": to,
        "artifact_digest": None,
        "alias": alias,
        "from_version": back_from,
        "to_version": to,
        "moved": True,
        "outcome": "moved",
        "error": None,
        "decision_id": "d",
        "decision_seq": 1,
        "requested_by": "ci-pipeline",
        "moved_at": "2026-11-21T12:00:00Z",
    }
    if back_from is not None:
        move |= {"move": "roll-back", "rolled_back_version": back_from}
    return move


def _record(ledger: Ledger, move: dict[str, Any]) -> None:
    ledger.record_event(
        "alias_move",
        move["id"],
        move,
        model=("fraud-detector", move["to_version"], None),
        outcome="moved",
        by="ci-pipeline",
    )


def test_an_older_ledger_gets_the_alias_columns_filled_from_its_signed_records(
    stores: StoreFactory, key_files: KeyFiles, keyring: Keyring
) -> None:
    with stores.ledger(key_files) as ledger:
        record_many(ledger, 2)
        _record(ledger, _move("champion", "7"))
        _record(ledger, _move("champion", "6", back_from="7"))
    # As the ledger was before the columns: without them and their indexes.
    for index in ("records_by_alias", "records_by_rollback"):
        stores.execute(f"DROP INDEX {index}")
    for column in ("alias", "rolled_back_version"):
        stores.execute(f"ALTER TABLE records DROP COLUMN {column}")

    with stores.ledger(key_files) as reopened:
        moves = reopened.find(kind="alias_move", alias="champion")
        rollbacks = reopened.find(kind="alias_move", rolled_back_version="7")
        report = reopened.verify(keyring)

    assert [m.seq for m in moves] == [4, 3]
    assert [r.seq for r in rollbacks] == [4]
    assert report.ok, report.problems
