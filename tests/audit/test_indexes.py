"""The reads every decision makes seek their rows by an index, so a decision's cost does not
grow with the ledger (a soak found history read by scanning every record of the model)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest

from service.audit.stores.base import RecordFilter, find_clauses
from service.audit.stores.postgres import PostgresStore
from service.audit.stores.reads import COLUMNS
from service.audit.stores.sqlite import SqliteStore

# Each read a decision makes, and the indexes it may seek by. History names the version and the
# artifact, so either index seeks only the records of one of them.
READS = pytest.mark.parametrize(
    ("query", "indexes"),
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
            ("records_by_outcome",),
        ),
        (  # requesters: SignoffBook.has_requested
            RecordFilter(kind="decision", model="m", version="7", caller="ann", limit=1),
            ("records_by_caller",),
        ),
        (  # sign-offs: SignoffBook._read
            RecordFilter(kind="approval", model="m", version="7", limit=10_000),
            ("records_by_kind",),
        ),
        (  # the tier an artifact was judged under, by any name: service/evidence/risk_tier.py
            RecordFilter(kind="decision", artifact_digest="sha256:ab", limit=20),
            ("records_by_artifact",),
        ),
        (  # the tier of record of a model, any version: service/evidence/risk_tier.py
            RecordFilter(kind="decision", model="m", limit=20),
            ("records_by_model_kind",),
        ),
        (  # its latest tier change: service/signoffs/tiers.py
            RecordFilter(kind="tier_change", model="m", limit=1),
            ("records_by_model_kind",),
        ),
        (  # the champion of record: service/evidence/registry.py, last_alias_move
            RecordFilter(kind="alias_move", model="m", alias="champion", outcome="moved"),
            ("records_by_alias",),
        ),
        (  # the version's latest rollback: service/evidence/history.py, latest_rollback
            RecordFilter(
                kind="alias_move", model="m", rolled_back_version="7", outcome="moved", limit=10
            ),
            ("records_by_rollback",),
        ),
    ],
    ids=[
        "history",
        "requesters",
        "sign-offs",
        "artifact-tier",
        "model-tier",
        "tier-change",
        "alias-move",
        "rollback",
    ],
)


@READS
def test_each_decisions_reads_seek_by_index(
    tmp_path: Path, query: RecordFilter, indexes: tuple[str, ...]
) -> None:
    SqliteStore(tmp_path / "ledger.sqlite3").close()
    clauses, params = find_clauses(query)
    sql = f"SELECT {COLUMNS} FROM records WHERE {' AND '.join(clauses)} ORDER BY seq DESC LIMIT ?"

    with sqlite3.connect(tmp_path / "ledger.sqlite3") as conn:
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", (*params, query.limit))]

    assert plan in ([f"SEARCH records USING INDEX {i} ({_seek(i)})"] for i in indexes), plan


def _seek(index: str) -> str:
    return {
        "records_by_outcome": "kind=? AND model_name=? AND model_version=? AND stage=? "
        "AND outcome=?",
        "records_by_model_kind": "kind=? AND model_name=?",
        "records_by_alias": "kind=? AND model_name=? AND alias=? AND outcome=?",
        "records_by_rollback": "kind=? AND model_name=? AND rolled_back_version=?",
        "records_by_caller": "model_name=? AND model_version=? AND caller_id=?",
        "records_by_kind": "kind=? AND model_name=? AND model_version=?",
        "records_by_artifact": "kind=? AND artifact_digest=?",
    }[index]


@READS
def test_each_decisions_reads_seek_by_index_in_postgresql(
    postgres_url: str, query: RecordFilter, indexes: tuple[str, ...]
) -> None:
    PostgresStore(postgres_url).close()
    clauses, params = find_clauses(query)
    sql = f"SELECT {COLUMNS} FROM records WHERE {' AND '.join(clauses)} ORDER BY seq DESC LIMIT ?"

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        # A table this small is read fastest whole: with a few dozen analysed rows the planner
        # takes a Seq Scan and a Sort whatever indexes exist, and on this empty, never analysed
        # one its choice rests on guessed sizes (autovacuum may analyse it at any time). The
        # question is whether an index serves the read, not what a tiny table costs; with
        # sequential scans priced out (not forbidden: with no usable index a Seq Scan still
        # shows), the planner takes the cheapest index that answers it. So the read must seek
        # by a named index (its leading columns the Index Cond), in the order the index's seq
        # gives, with no Sort under the LIMIT; without that index another index or a scan shows.
        conn.execute("SET enable_seqscan = off")
        explained = conn.execute(
            f"EXPLAIN (FORMAT JSON) {sql.replace('?', '%s')}", (*params, query.limit)
        ).fetchone()
    assert explained is not None
    plan: dict[str, Any] = explained[0][0]["Plan"]

    assert plan["Node Type"] == "Limit", plan
    (scan,) = plan["Plans"]
    found = {key: scan.get(key) for key in ("Node Type", "Index Name", "Scan Direction")}
    index = scan.get("Index Name")
    # Never analysed, the planner cannot tell an index on (kind, model) from a longer one on
    # (kind, model, version): either seeks by its leading columns (asserted below).
    assert index in (*indexes, *_SHORTER.get(indexes[0], ())), scan
    assert found == {
        "Node Type": "Index Scan",
        "Index Name": index,
        "Scan Direction": "Backward",
    }, scan
    assert scan["Index Cond"] == _postgres_seek(index, query), scan


_SHORTER = {
    "records_by_kind": ("records_by_model_kind",),
    "records_by_caller": ("records_by_model_kind",),
}


def _postgres_seek(index: str, query: RecordFilter) -> str:
    columns = {
        "records_by_outcome": ("kind", "model_name", "model_version", "stage", "outcome"),
        "records_by_model_kind": ("kind", "model_name"),
        "records_by_alias": ("kind", "model_name", "alias", "outcome"),
        "records_by_rollback": ("kind", "model_name", "rolled_back_version"),
        "records_by_caller": ("model_name", "model_version", "caller_id"),
        "records_by_kind": ("kind", "model_name", "model_version"),
        "records_by_artifact": ("kind", "artifact_digest"),
    }[index]
    values = {
        "kind": query.kind,
        "model_name": query.model,
        "model_version": query.version,
        "stage": query.stage,
        "caller_id": query.caller,
        "artifact_digest": query.artifact_digest,
        "outcome": query.outcome,
        "alias": query.alias,
        "rolled_back_version": query.rolled_back_version,
    }
    return "(" + " AND ".join(f"({c} = '{values[c]}'::text)" for c in columns) + ")"
