"""The champion of record from the ledger's alias moves: the newest move that took effect, and
for a rollback the promotion that first installed the version it went back to, however many
moves lie between them (the reads go page by page: one record first, then more)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from service.audit.keys import KeyFiles, KeySource, init_keys
from service.audit.kinds import MOVE_BACK, MOVE_INSTALL
from service.audit.ledger import Ledger
from service.audit.stores.sqlite import SqliteStore
from service.evidence.registry import last_alias_move

MODEL = "fraud-detector"


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    files = KeyFiles.in_dir(tmp_path / "keys")
    init_keys(files)
    return Ledger(SqliteStore(tmp_path / "ledger.sqlite3"), KeySource(files))


def move(ledger: Ledger, version: str, *, alias: str = "champion", **extra: Any) -> str:
    """Record a move of `alias` to `version` that took effect; its decision id."""
    decision_id = str(uuid.uuid4())
    content = {
        "id": str(uuid.uuid4()),
        "model": MODEL,
        "version": version,
        "alias": alias,
        "to_version": version,
        "moved": True,
        "outcome": "moved",
        "decision_id": decision_id,
        "move": MOVE_INSTALL,
        "requested_by": "ci-pipeline",
        **extra,
    }
    ledger.record_event(
        "alias_move",
        content["id"],
        content,
        model=(MODEL, version, None),
        outcome="moved",
        by="ci-pipeline",
    )
    return decision_id


def test_the_newest_install_is_the_champion(ledger: Ledger) -> None:
    move(ledger, "1")
    second = move(ledger, "2")
    found = last_alias_move(ledger, MODEL, "champion")
    assert found is not None
    assert (found["to_version"], found["decision_id"]) == ("2", second)


@pytest.mark.parametrize("between", [0, 1, 3, 20])
def test_a_rollback_names_the_promotion_that_installed_the_version(
    ledger: Ledger, between: int
) -> None:
    installed = move(ledger, "2")
    for n in range(between):
        move(ledger, str(10 + n))  # later champions, each rolled back past below
        move(ledger, str(10 + n), alias="staging")  # another alias's moves: never read
    rollback = move(ledger, "2", move=MOVE_BACK, rolled_back_version="10")
    found = last_alias_move(ledger, MODEL, "champion")
    assert found is not None
    assert found["move"] == MOVE_BACK
    assert (found["decision_id"], found["rollback_decision_id"]) == (installed, rollback)
