"""The SQLite ledger's write-ahead log: copied back into the database file after
WAL_AUTOCHECKPOINT_PAGES pages, not SQLite's default 1,000 (service/audit/stores/sqlite.py says
why), and never left to grow past that."""

from __future__ import annotations

from pathlib import Path

from service.audit.keys import KeyFiles, KeySource
from service.audit.ledger import Ledger
from service.audit.stores.sqlite import WAL_AUTOCHECKPOINT_PAGES, SqliteStore
from tests.audit.factory import record_many


def test_the_wal_is_checkpointed_after_its_page_limit_and_stays_within_it(
    tmp_path: Path, key_files: KeyFiles
) -> None:
    path = tmp_path / "ledger.sqlite3"
    store = SqliteStore(path)
    with Ledger(store, KeySource(key_files)) as ledger:
        [(pages,)] = store._read("PRAGMA wal_autocheckpoint")
        [(page_size,)] = store._read("PRAGMA page_size")
        record_many(ledger, 1500)  # a dozen pages a record: past the limit at least once
        frames = (path.with_name(path.name + "-wal").stat().st_size - 32) // (page_size + 24)
        [(kept,)] = store._read("SELECT count(*) FROM records")

    assert pages == WAL_AUTOCHECKPOINT_PAGES == 10_000
    assert kept == 1500
    # The WAL file keeps the size it reached: the limit, and one commit's pages past it.
    assert WAL_AUTOCHECKPOINT_PAGES <= frames <= WAL_AUTOCHECKPOINT_PAGES + 100, frames
