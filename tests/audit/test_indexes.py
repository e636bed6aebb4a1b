"""The reads every decision makes seek their rows by an index, so a decision's cost does not
grow with the ledger (a soak found history read by scanning every record of the model)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from service.audit.stores.base import RecordFilter, find_clauses
from service.audit.stores.reads import COLUMNS
from service.audit.stores.sqlite import SqliteStore


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (  # history: service/evidence/history.py
            RecordFilter(
                kind="decision",
                model="m",
                version="7",
                gate="promotion",
                outcome="allow",
                artifact_digest="sha256:ab",
                stage="canary",
                limit=1,
            ),
            "records_by_stage",
        ),
        (  # requesters: SignoffBook.has_requested
            RecordFilter(kind="decision", model="m", version="7", caller="ann", limit=1),
            "records_by_caller",
        ),
        (  # sign-offs: SignoffBook._read
            RecordFilter(kind="approval", model="m", version="7", limit=10_000),
            "records_by_kind",
        ),
    ],
    ids=["history", "requesters", "sign-offs"],
)
def test_each_decisions_reads_seek_by_index(
    tmp_path: Path, query: RecordFilter, index: str
) -> None:
    SqliteStore(tmp_path / "ledger.sqlite3").close()
    clauses, params = find_clauses(query)
    sql = f"SELECT {COLUMNS} FROM records WHERE {' AND '.join(clauses)} ORDER BY seq DESC LIMIT ?"

    with sqlite3.connect(tmp_path / "ledger.sqlite3") as conn:
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", (*params, query.limit))]

    assert plan == [f"SEARCH records USING INDEX {index} ({_seek(index)})"], plan


def _seek(index: str) -> str:
    return {
        "records_by_stage": "model_name=? AND model_version=? AND stage=?",
        "records_by_caller": "model_name=? AND model_version=? AND caller_id=?",
        "records_by_kind": "kind=? AND model_name=? AND model_version=?",
    }[index]
