"""A decision whose record cannot be written never gets an answer, and leaves nothing behind."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from service.audit.keys import KeyFiles, Keyring, KeySource
from service.audit.ledger import Ledger
from service.audit.stores.postgres import PostgresStore
from service.audit.stores.sqlite import SqliteStore
from service.decision.judge import Judge
from service.decision.recording import pending_decision
from service.errors import AuditKeyMissing, AuditWriteFailed
from service.gates.registry import default_gates
from service.settings import PROJECT_ROOT
from tests.audit.factory import StoreFactory, make_decision, record_many
from tests.conftest import POSTGRES_URL


def test_a_ledger_that_cannot_be_created_fails_with_what_to_do(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the ledger's directory should be")
    with pytest.raises(AuditWriteFailed, match=r"could not open the SQLite ledger .* directory"):
        SqliteStore(blocker / "ledger.sqlite3")


def test_a_ledger_locked_by_another_writer_fails_then_recovers(
    tmp_path: Path, key_files: KeyFiles, keyring: Keyring
) -> None:
    path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(SqliteStore(path, busy_timeout_ms=200), KeySource(key_files))
    record_many(ledger, 2)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    decision, doc = make_decision(n=99)
    with pytest.raises(AuditWriteFailed, match="longer than 200 ms"):
        ledger.record(pending_decision(decision, doc))
    holder.execute("ROLLBACK")
    holder.close()
    assert (
        ledger.record(pending_decision(decision, doc)).seq == 3
    )  # no gap where the failed append was
    assert ledger.verify(keyring).ok


def test_a_full_disk_fails_the_append_and_leaves_no_partial_record(
    tmp_path: Path, key_files: KeyFiles, keyring: Keyring
) -> None:
    location = str(tmp_path / "ledger.sqlite3")
    command = ["fill-disk", location, str(key_files.private_key.parent), str(512 * 1024)]
    writer = subprocess.run(
        [sys.executable, "-m", "tests.audit.workers", *command],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    *answered, last = writer.stdout.split("\n")[:-1]
    assert last.startswith("failed could not write the audit record"), writer.stdout[-500:]
    assert answered
    with StoreFactory("sqlite", location).ledger(key_files) as ledger:
        assert ledger.verify(keyring).ok
        assert ledger.last_seq() == len(answered)
        assert {r.decision_id for r in ledger.find(limit=10_000)} == set(answered)


def test_an_unreachable_postgresql_fails_with_what_to_do() -> None:
    with pytest.raises(AuditWriteFailed, match="check that PostgreSQL is running and reachable"):
        PostgresStore("postgresql://postgres@127.0.0.1:1/test")


def drop_connections(postgres_url: str) -> int:
    """Have PostgreSQL close the connections opened with `postgres_url` (as a restart would)."""
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        dropped = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (postgres_url.rpartition("application_name=")[2],),
        ).fetchall()
    return len(dropped)


def test_a_connection_postgresql_dropped_is_opened_again_before_the_next_append(
    postgres_url: str, key_files: KeyFiles, keyring: Keyring
) -> None:
    ledger = Ledger(PostgresStore(postgres_url), KeySource(key_files))
    record_many(ledger, 2)
    assert drop_connections(postgres_url) == 1

    decision, doc = make_decision(n=99)
    assert (
        ledger.record(pending_decision(decision, doc)).seq == 3
    )  # on a new connection, nothing written twice
    assert drop_connections(postgres_url) == 1
    assert ledger.last_seq() == 3  # reads too
    assert ledger.verify(keyring).ok


@pytest.mark.parametrize("change", ["removed", "replaced"])
def test_a_ledger_file_removed_or_replaced_under_the_store_fails_closed(
    tmp_path: Path, key_files: KeyFiles, change: str
) -> None:
    path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(SqliteStore(path), KeySource(key_files))
    record_many(ledger, 1)
    for part in tmp_path.glob("ledger.sqlite3*"):
        part.unlink()
    if change == "replaced":
        Ledger(SqliteStore(path), KeySource(key_files)).store.close()  # a new file there

    decision, doc = make_decision(n=7)
    with pytest.raises(AuditWriteFailed, match=f"was {change} while this process had it open"):
        ledger.record(pending_decision(decision, doc))
    with pytest.raises(AuditWriteFailed, match=f"was {change}"):
        ledger.check_writable()  # what /readyz asks


def test_a_missing_signing_key_fails_and_writes_nothing(
    stores: StoreFactory, key_files: KeyFiles
) -> None:
    key_files.private_key.unlink()
    with stores.ledger(key_files) as ledger:
        decision, doc = make_decision()
        with pytest.raises(AuditKeyMissing, match=r"no signing key at .* `mlgate keys init`"):
            ledger.record(pending_decision(decision, doc))
        assert ledger.last_seq() == 0


def test_a_corrupt_signing_key_fails_with_what_to_do(
    stores: StoreFactory, key_files: KeyFiles
) -> None:
    key_files.private_key.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n")
    with stores.ledger(key_files) as ledger:
        decision, doc = make_decision()
        with pytest.raises(AuditKeyMissing, match="not an unencrypted PEM private key"):
            ledger.record(pending_decision(decision, doc))
        assert ledger.last_seq() == 0


def test_a_readiness_check_reports_a_missing_key_before_any_decision(
    stores: StoreFactory, key_files: KeyFiles
) -> None:
    with stores.ledger(key_files) as ledger:
        ledger.check_writable()
        key_files.private_key.unlink()
        with pytest.raises(AuditKeyMissing, match="no signing key at"):
            ledger.check_writable()
        assert ledger.last_seq() == 0


def test_a_corrupt_keyring_fails_the_append(stores: StoreFactory, key_files: KeyFiles) -> None:
    key_files.keyring.write_text("{")
    with stores.ledger(key_files) as ledger:
        decision, doc = make_decision()
        with pytest.raises(AuditKeyMissing, match="is not valid JSON"):
            ledger.record(pending_decision(decision, doc))


def test_the_path_gives_no_answer_when_the_record_fails(
    engine: Any, approved_input: dict[str, Any], tmp_path: Path, key_files: KeyFiles
) -> None:
    from service.execution.inline import record_inline
    from service.schemas import default_schemas

    key_files.private_key.unlink()
    ledger = Ledger(SqliteStore(tmp_path / "ledger.sqlite3"), KeySource(key_files))
    judge = Judge(engine, default_schemas(), default_gates())
    with pytest.raises(AuditWriteFailed):
        record_inline(ledger, judge.judge(approved_input))
    assert ledger.last_seq() == 0
