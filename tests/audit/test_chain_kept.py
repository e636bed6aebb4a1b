"""An append refuses a chain that lost records (Ledger._check_chain_kept): a record deleted from
the database may be a rejection or a waiver's withdrawal, evidence the next decision would no
longer see, so that decision must not be recorded (and so not answered) on top of the gap."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from service.audit.keys import KeyFiles
from service.audit.ledger import RECENT_RECORDS_CHECKED, Ledger
from service.audit.stores.sqlite import SqliteStore
from service.errors import AuditWriteFailed
from tests.audit.factory import StoreFactory, record_many


def _count(stores: StoreFactory) -> int:
    return int(stores.execute("SELECT count(*) FROM records")[0][0])


def test_a_record_deleted_among_the_newest_stops_every_append(
    ledger: Ledger, stores: StoreFactory
) -> None:
    record_many(ledger, 6)
    stores.execute("DELETE FROM records WHERE seq = 4")

    with pytest.raises(AuditWriteFailed, match=r"holds 5 of its records 1 to 6: records were del"):
        record_many(ledger, 1, start=10)
    assert _count(stores) == 5  # nothing recorded on top of the gap


def test_the_record_this_ledger_appended_last_deleted_stops_the_next_append(
    ledger: Ledger, stores: StoreFactory
) -> None:
    """The tail deleted: SQLite's chain then looks whole (it ends one record earlier), so only
    the writer's memory of its own last append sees it."""
    record_many(ledger, 3)
    stores.execute("DELETE FROM records WHERE seq = 3")

    with pytest.raises(AuditWriteFailed, match="record 3, which this service appended, is gone"):
        record_many(ledger, 1, start=10)
    assert _count(stores) == 2


def test_another_writers_appends_are_no_gap(stores: StoreFactory, key_files: KeyFiles) -> None:
    """Two instances on one ledger: each one's last record is followed by the other's."""
    with stores.ledger(key_files) as first, stores.ledger(key_files) as second:
        record_many(first, 2)
        record_many(second, 2, start=2)
        record_many(first, 1, start=4)
        record_many(second, 1, start=5)
    assert _count(stores) == 6


def test_the_first_record_deleted_from_a_ledger_within_the_window_is_found(
    ledger: Ledger, stores: StoreFactory
) -> None:
    """Every append reads the newest RECENT_RECORDS_CHECKED seqs, whatever the ledger's size:
    a smaller ledger lies wholly within them (a gap further back is what `mlgate audit
    verify` reports)."""
    record_many(ledger, 3)
    assert RECENT_RECORDS_CHECKED > 3
    stores.execute("DELETE FROM records WHERE seq = 1")

    with pytest.raises(AuditWriteFailed, match="holds 2 of its records 1 to 3"):
        record_many(ledger, 1, start=10)


def test_sqlite_counts_the_newest_seqs_in_the_narrow_seq_index(tmp_path: Path) -> None:
    """Counted over the records' own pages (about two records a page), the newest 1,000 seqs
    cost about ten times as much as over records_by_seq."""
    SqliteStore(tmp_path / "ledger.sqlite3").close()
    with sqlite3.connect(tmp_path / "ledger.sqlite3") as conn:
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM records WHERE seq BETWEEN ? AND ?", (1, 2)
        ).fetchall()
    assert "COVERING INDEX records_by_seq" in str(plan), plan
