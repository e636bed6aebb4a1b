"""Record ids are UUIDv7 (service/record_ids.py): a later record's id sorts after an earlier
one's, so the ledger's unique index on record ids grows at its end."""

from __future__ import annotations

import sqlite3
import uuid

import pytest

from service.audit.kinds import POLICY_REVISION
from service.record_ids import new_record_id
from service.settings import get_settings
from tests.inprocess_cli import Mlgate, ledger_path, mlgate

__all__ = ["mlgate"]

DIGEST = "sha256:9b2f6e1c4d8a7b3e5f0c2d9a6b1e4f7c8d3a5b0e2f9c6d1a4b7e0f3c8d5a2b6e"


def test_ids_made_one_after_another_sort_in_the_order_made() -> None:
    ids = [new_record_id() for _ in range(5000)]

    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert {uuid.UUID(i).version for i in ids} == {7}
    assert all(str(uuid.UUID(i)) == i for i in ids)  # the canonical lower-case form


def test_records_of_every_kind_take_ids_in_the_order_of_the_ledger(
    mlgate: Mlgate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decisions and sign-offs, as the CLI records them: by seq, their ids ascend."""
    monkeypatch.setenv("MLGATE_CALLER_ID", "ci-pipeline")
    get_settings.cache_clear()
    for fixture in ("approved", "regressed"):
        mlgate(
            "decide", "promotion", "--evidence", f"fixtures/evidence/{fixture}", "--to", "staging"
        )
    monkeypatch.setenv("MLGATE_CALLER_ID", "m.okafor@example.com")
    get_settings.cache_clear()
    approved = mlgate(
        "approve",
        *("--model", "fraud-detector", "--version", "7", "--as", "model-risk-officer"),
        *("--digest", DIGEST, "--comment", "MRV-2026-114 reviewed"),
    )
    assert approved.code == 0, approved.err
    mlgate("decide", "promotion", "--evidence", "fixtures/evidence/waived", "--to", "staging")

    with sqlite3.connect(ledger_path()) as conn:
        rows = conn.execute(
            "SELECT kind, decision_id FROM records WHERE kind != ? ORDER BY seq",
            (POLICY_REVISION,),  # a kept revision's id is its digest
        ).fetchall()

    assert {kind for kind, _ in rows} >= {"decision", "approval"}, rows
    ids = [record_id for _, record_id in rows]
    assert len(ids) == 4
    assert ids == sorted(ids)
    assert {uuid.UUID(i).version for i in ids} == {7}
