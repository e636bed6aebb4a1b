"""The embedded ledger store: one SQLite file in WAL mode, shared by processes on one machine."""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from service.audit.kinds import DECISION
from service.audit.stores.base import (
    ADDED_COLUMNS,
    ADDED_INDEXES,
    BACKFILLED,
    LOCK_TIMEOUT_S,
    RecordRow,
    StoredCheckpoint,
    Tail,
    added_column,
    backfill_sql,
    backfilled_values,
    column_values,
    insert_record_sql,
    stored_bytes,
)
from service.audit.stores.file_identity import file_identity
from service.audit.stores.reads import SharedReads
from service.audit.stores.sqlite_locks import while_locked
from service.errors import AuditWriteFailed, LedgerUnreadable, NotFound
from service.statefiles import private_directory, private_file

# record_inputs: each record's input document under its seq, which grows at the end of its
# index; a document kept under its digest would land at a random place in a million-record
# index on every append. `inputs` keeps policy files (a few per revision) under their digest,
# and the input documents of ledgers written before record_inputs.
# records_by_seq: seq is the rowid already, but this narrow copy lets an append count the
# newest 1,000 seqs (Ledger._check_chain_kept) in a few index pages, not the records' wide ones.
SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    decision_id TEXT NOT NULL UNIQUE,
    recorded_at TEXT NOT NULL,
    gate TEXT NOT NULL,
    outcome TEXT NOT NULL,
    model_name TEXT NOT NULL,
    model_version TEXT NOT NULL,
    keyid TEXT NOT NULL,
    input_digest TEXT NOT NULL,
    envelope_hash TEXT NOT NULL,
    envelope BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_model ON records (model_name, seq);
CREATE INDEX IF NOT EXISTS records_by_time ON records (recorded_at);
CREATE INDEX IF NOT EXISTS records_by_seq ON records (seq);
CREATE TABLE IF NOT EXISTS inputs (digest TEXT NOT NULL UNIQUE, document BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS record_inputs (seq INTEGER PRIMARY KEY, document BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (
    id INTEGER PRIMARY KEY,
    size INTEGER NOT NULL,
    frontier BLOB NOT NULL,
    envelope BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS checkpoints_by_size ON checkpoints (size);
"""
# Pages the WAL may hold before a commit copies them back into the database file (SQLite's
# default is 1,000). An append rewrites the last page of each of the records table's indexes;
# a checkpoint copies each page once however often it was rewritten, so a longer WAL copies
# fewer pages per record. At a million records, where those pages lie far apart in the file,
# 10,000 (about 40 MB of WAL at 4 KiB pages) took appends from 80-84% of an empty ledger's
# rate to 91-93% (alternating rounds, the same host, bench/ledger.py's records).
WAL_AUTOCHECKPOINT_PAGES = 10_000
INSERT_RECORD = insert_record_sql("?")
INSERT_CONTENT = (
    "INSERT INTO inputs (digest, document) VALUES (?, ?) ON CONFLICT (digest) DO NOTHING"
)
INSERT_DOCUMENT = "INSERT INTO record_inputs (seq, document) VALUES (?, ?)"
T = TypeVar("T")


class SqliteStore(SharedReads):
    """One connection per store; a lock makes it safe to share between threads."""

    def __init__(self, path: Path, *, create: bool = True, busy_timeout_ms: int = 10_000) -> None:
        self.path = path
        self.description = f"SQLite ledger {path}"
        self._busy_timeout_ms = busy_timeout_ms
        self._lock = threading.Lock()
        if not create and not path.exists():
            raise NotFound(
                f"no audit ledger at {path}: nothing has been recorded there yet. Check "
                "MLGATE_LEDGER_URL / MLGATE_HOME, or record a decision first."
            )
        try:
            if create:
                # SQLite gives the -wal and -shm files the mode of the database file.
                private_directory(path.parent)
                private_file(path)
            self._conn = self._connect(create)
            self._opened = file_identity(path)
        except (OSError, sqlite3.Error) as exc:
            if create:
                raise AuditWriteFailed(self._write_failure(exc, "open")) from None
            raise LedgerUnreadable(f"cannot open the {self.description}: {exc}") from None

    def _connect(self, create: bool) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            isolation_level=None,  # transactions are explicit: BEGIN IMMEDIATE ... COMMIT
            check_same_thread=False,
            timeout=self._busy_timeout_ms / 1000,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            # Switching a new file to WAL does not wait on the busy handler: when several
            # processes open a fresh ledger at once, the losers get "locked" and must retry.
            mode = self._while_locked(
                lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            )
            if str(mode).lower() != "wal":
                raise sqlite3.OperationalError(
                    f"journal mode is {mode}, not WAL; put the ledger on a local filesystem"
                )
            # FULL: every commit is fsync'd before it returns, so a recorded decision survives
            # power loss, not just a crash of this process.
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
            if create:
                self._begin(conn)
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                columns = {row[1] for row in conn.execute("PRAGMA table_info(records)")}
                for name in ADDED_COLUMNS:
                    if name not in columns:  # a ledger written before the column existed
                        conn.execute(added_column(name))
                if not set(BACKFILLED) <= columns:
                    rows = conn.execute(
                        "SELECT seq, envelope FROM records WHERE kind != ?", (DECISION,)
                    )
                    conn.executemany(backfill_sql("?"), backfilled_values(rows))
                for index in ADDED_INDEXES:
                    conn.execute(index)
                conn.execute("COMMIT")
            elif not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'records'").fetchone():
                raise sqlite3.DatabaseError("it has no records table; it is not an mlgate ledger")
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def write(self) -> Iterator[_SqliteWriter]:
        with self._lock:
            try:
                self._begin(self._conn)
            except sqlite3.Error as exc:
                raise AuditWriteFailed(self._write_failure(exc)) from None
            try:
                self._check_in_place()
                yield _SqliteWriter(self._conn)
                self._conn.execute("COMMIT")
            except BaseException as exc:
                self._rollback()
                if isinstance(exc, sqlite3.Error):
                    raise AuditWriteFailed(self._write_failure(exc)) from None
                raise

    def _check_in_place(self) -> None:
        """The file at the ledger's path is still the one this store opened. Were it deleted
        or replaced, SQLite would go on writing to the open file, where nobody would find the
        records again."""
        found = file_identity(self.path)
        if found != self._opened:
            what, then = (
                ("replaced", "restart the service to go on with the file now at that path")
                if found
                else ("removed", "restore the file if its chain is to go on, then restart")
            )
            raise AuditWriteFailed(
                f"the {self.description} was {what} while this process had it open, and a "
                "record written now would be lost; the decision was not recorded and must "
                f"not be acted on: {then}"
            )

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """A write transaction on a small lock database beside the ledger (`<ledger>-locks`),
        so the ledger's own appends are not held up. SQLite serves one machine, and its write
        lock is one for the whole file: every named lock is the same lock here."""
        path = self.path.with_name(self.path.name + "-locks")
        try:
            private_file(path)  # as private as the ledger beside it (and its -journal)
            conn = sqlite3.connect(path, isolation_level=None, timeout=LOCK_TIMEOUT_S)
            conn.execute("BEGIN IMMEDIATE")
        except (OSError, sqlite3.Error) as exc:
            raise AuditWriteFailed(
                f"could not take the lock {name!r} in {path} within {LOCK_TIMEOUT_S:g} s: {exc}"
            ) from None
        try:
            yield
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            conn.close()

    def _begin(self, conn: sqlite3.Connection) -> None:
        """BEGIN IMMEDIATE, tried every fraction of a millisecond until the busy timeout.

        SQLite's own busy handler sleeps 1 to 100 ms between tries, so a writer that commits
        and begins again at once keeps the lock and starves the others until they time out;
        short, jittered tries let every waiting writer in.
        """
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            self._while_locked(lambda: conn.execute("BEGIN IMMEDIATE"))
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")

    def _while_locked(self, attempt: Callable[[], T]) -> T:
        return while_locked(attempt, self._busy_timeout_ms / 1000)

    def _rollback(self) -> None:
        # SQLite may have rolled back already (e.g. after SQLITE_FULL); nothing was committed.
        with contextlib.suppress(sqlite3.Error):
            self._conn.execute("ROLLBACK")

    def _write_failure(self, exc: Exception, action: str = "write the audit record to") -> str:
        text = str(exc)
        if "locked" in text or "busy" in text:
            hint = (
                f"another writer held it for longer than {self._busy_timeout_ms} ms; retry, and "
                "look for a process keeping a transaction open on it"
            )
        elif "readonly" in text or "read-only" in text:
            hint = "make the file, its -wal/-shm files and its directory writable by this process"
        elif "full" in text:
            hint = "the disk holding it is full; free space, then retry"
        elif "disk I/O" in text:
            hint = "the disk refused the write (full, over quota or failing); check free space"
        elif "unable to open" in text or isinstance(exc, OSError):
            hint = "check that its directory exists and is writable, or set MLGATE_LEDGER_URL"
        elif isinstance(exc, sqlite3.IntegrityError):
            hint = "a record with this decision id or seq already exists; nothing was changed"
        else:
            hint = "check the file and the disk"
        return (
            f"could not {action} the {self.description} ({text}); the decision was not "
            f"recorded and must not be acted on: {hint}"
        )

    def _read(self, sql: str, params: tuple[object, ...] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise LedgerUnreadable(f"cannot read the {self.description}: {exc}") from None

    def _table_exists(self, name: str) -> bool:
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        return bool(self._read(sql, (name,)))

    def reader(self) -> Callable[[], SqliteStore]:
        return functools.partial(SqliteStore, self.path, create=False)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class _SqliteWriter:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def tail(self) -> Tail:
        row = self._conn.execute(
            "SELECT seq, envelope_hash FROM records ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return Tail(int(row[0]), str(row[1])) if row else Tail()

    def records_between(self, first: int, last: int) -> int:
        sql = "SELECT count(*) FROM records WHERE seq BETWEEN ? AND ?"
        return int(self._conn.execute(sql, (first, last)).fetchone()[0])

    def envelope_hash_at(self, seq: int) -> str | None:
        sql = "SELECT envelope_hash FROM records WHERE seq = ?"
        row = self._conn.execute(sql, (seq,)).fetchone()
        return None if row is None else str(row[0])

    def insert_many(
        self,
        rows: Sequence[RecordRow],
        documents: Sequence[tuple[int, bytes]],
        contents: Sequence[tuple[str, bytes]] = (),
    ) -> None:
        self._conn.executemany(INSERT_CONTENT, contents)
        self._conn.executemany(INSERT_DOCUMENT, documents)
        self._conn.executemany(INSERT_RECORD, map(column_values, rows))

    def probe(self, row: RecordRow) -> None:
        """The rows an append writes, in a savepoint rolled back: they meet what refuses a
        record in the database itself (a trigger, a read-only file) as the record would. Rows
        rolled back never reach the disk, which readiness probes with a write and fsync beside
        the file (service/api/readiness.py)."""
        self._conn.execute("SAVEPOINT readiness_probe")
        try:
            self.insert_many((row,), ((row.seq, b""),), ((row.input_digest, b""),))
        finally:
            # A full disk (SQLITE_FULL) rolls the whole transaction back by itself, and the
            # savepoint with it: then there is nothing left to undo.
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK TO readiness_probe")
                self._conn.execute("RELEASE readiness_probe")

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        row = self._conn.execute(
            "SELECT size, frontier, envelope FROM checkpoints ORDER BY size DESC, id DESC LIMIT 1"
        ).fetchone()
        return (
            StoredCheckpoint(int(row[0]), stored_bytes(row[1]), stored_bytes(row[2]))
            if row
            else None
        )

    def envelopes_after(self, seq: int) -> Iterator[bytes]:
        for (envelope,) in self._conn.execute(
            "SELECT envelope FROM records WHERE seq > ? ORDER BY seq", (seq,)
        ):
            yield stored_bytes(envelope)

    def insert_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        self._conn.execute(
            "INSERT INTO checkpoints (size, frontier, envelope) VALUES (?, ?, ?)",
            (checkpoint.size, checkpoint.frontier, checkpoint.envelope),
        )
