"""SQLite keeps a value's type, so a BLOB column rewritten as TEXT in the database comes back
as str. Each such value is checked by its UTF-8 bytes like any other: unaltered it verifies,
altered it is reported. (A PostgreSQL bytea column holds bytes only.)"""

from __future__ import annotations

from pathlib import Path

from service.audit.keys import KeyFiles, Keyring
from tests.audit.factory import StoreFactory, record_many


def test_a_stored_checkpoint_rewritten_as_text_still_matches(
    tmp_path: Path, key_files: KeyFiles, keyring: Keyring
) -> None:
    stores = StoreFactory("sqlite", str(tmp_path / "ledger.sqlite3"))
    ledger = stores.ledger(key_files)
    record_many(ledger, 5)
    ledger.checkpoint()
    stores.execute("UPDATE checkpoints SET envelope = CAST(envelope AS TEXT)")
    assert stores.execute("SELECT typeof(envelope) FROM checkpoints") == [("text",)]

    report = ledger.verify(keyring)

    assert report.ok, report.problems
    assert "1 checkpoint matched" in report.summary, report.summary


def test_a_stored_checkpoint_altered_as_text_is_reported(
    tmp_path: Path, key_files: KeyFiles, keyring: Keyring
) -> None:
    stores = StoreFactory("sqlite", str(tmp_path / "ledger.sqlite3"))
    ledger = stores.ledger(key_files)
    record_many(ledger, 5)
    ledger.checkpoint()
    stores.execute("UPDATE checkpoints SET envelope = replace(envelope, '\"sig\"', '\"sig \"')")
    assert stores.execute("SELECT typeof(envelope) FROM checkpoints") == [("text",)]

    report = ledger.verify(keyring)

    assert not report.ok
    assert [problem.kind for problem in report.problems] == ["bad checkpoint"], report.problems
