"""The shared ledger store: PostgreSQL, for many replicas on many machines appending one chain."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any, TypeVar

import psycopg

from service.audit.envelope import GENESIS_PREV
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
from service.audit.stores.reads import SharedReads
from service.errors import AuditWriteFailed, LedgerUnreadable, NotFound
from service.redactedurl import redacted_url

T = TypeVar("T")

# The chain head is one row locked FOR UPDATE by every append: that lock is what keeps the
# chain single and gap-free across replicas, and it lives in the ledger's own schema.
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS records (
    seq BIGINT PRIMARY KEY,
    decision_id TEXT NOT NULL UNIQUE,
    recorded_at TEXT NOT NULL,
    gate TEXT NOT NULL,
    outcome TEXT NOT NULL,
    model_name TEXT NOT NULL,
    model_version TEXT NOT NULL,
    keyid TEXT NOT NULL,
    input_digest TEXT NOT NULL,
    envelope_hash TEXT NOT NULL,
    envelope BYTEA NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_model ON records (model_name, seq);
CREATE INDEX IF NOT EXISTS records_by_time ON records (recorded_at);
CREATE TABLE IF NOT EXISTS inputs (digest TEXT PRIMARY KEY, document BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS record_inputs (seq BIGINT PRIMARY KEY, document BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (
    id BIGSERIAL PRIMARY KEY,
    size BIGINT NOT NULL,
    frontier BYTEA NOT NULL,
    envelope BYTEA NOT NULL
);
CREATE INDEX IF NOT EXISTS checkpoints_by_size ON checkpoints (size);
CREATE TABLE IF NOT EXISTS chain_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    envelope_hash TEXT NOT NULL
);
INSERT INTO chain_head (id, seq, envelope_hash) VALUES (1, 0, '{GENESIS_PREV}')
    ON CONFLICT (id) DO NOTHING;
"""
# Columns added since the first ledgers: added to an older ledger's table when it opens.
SCHEMA += "".join(
    added_column(name).replace("ADD COLUMN", "ADD COLUMN IF NOT EXISTS") + ";\n"
    for name in ADDED_COLUMNS
) + "".join(f"{index};\n" for index in ADDED_INDEXES)
INSERT_RECORD = insert_record_sql("%s")
INSERT_CONTENT = (
    "INSERT INTO inputs (digest, document) VALUES (%s, %s) ON CONFLICT (digest) DO NOTHING"
)
INSERT_DOCUMENT = "INSERT INTO record_inputs (seq, document) VALUES (%s, %s)"
CONNECT_TIMEOUT_S = 5


class PostgresStore(SharedReads):
    """One connection per store, re-opened after it breaks; a lock shares it between threads."""

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.url = url
        self.description = f"PostgreSQL ledger {redacted_url(url)}"
        self._create = create
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None
        with self._lock:
            self._connection()

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is not None and not self._conn.closed and not self._conn.broken:
            return self._conn
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.Error as exc:
            raise self._failure("connect to", exc) from None
        try:
            # A server configured with synchronous_commit=off would acknowledge commits that
            # a crash can lose; a recorded decision must not be one of them.
            conn.execute("SET synchronous_commit TO on")
            if self._create:
                with conn.transaction():
                    # Replicas starting together must not race on CREATE TABLE IF NOT EXISTS.
                    conn.execute(
                        "SELECT pg_advisory_xact_lock("
                        "hashtext(coalesce(current_schema(), '') || '.mlgate_ledger'))"
                    )
                    had = self._columns(conn)
                    conn.execute(SCHEMA)
                    if had and not set(BACKFILLED) <= had:  # an older ledger: fill them in
                        rows = conn.execute(
                            "SELECT seq, envelope FROM records WHERE kind != %s", (DECISION,)
                        ).fetchall()
                        with conn.cursor() as cursor:
                            cursor.executemany(backfill_sql("%s"), backfilled_values(rows))
            else:
                found = conn.execute("SELECT to_regclass('records')").fetchone()
                if found is None or found[0] is None:
                    raise NotFound(
                        f"no audit ledger in {self.description}: it has no records table "
                        "(check MLGATE_LEDGER_URL and the search_path)"
                    )
        except psycopg.Error as exc:
            conn.close()
            raise self._failure("set up", exc) from None
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    @staticmethod
    def _columns(conn: psycopg.Connection[Any]) -> set[str]:
        """The columns of the records table in the current schema (none before it exists)."""
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = 'records'"
        ).fetchall()
        return {str(row[0]) for row in rows}

    def _failure(self, action: str, exc: psycopg.Error) -> AuditWriteFailed | LedgerUnreadable:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if not self._create:
            return LedgerUnreadable(f"could not {action} the {self.description}: {text}")
        if isinstance(exc, psycopg.OperationalError):
            hint = "check that PostgreSQL is running and reachable and MLGATE_LEDGER_URL is right"
        elif isinstance(exc, psycopg.errors.InsufficientPrivilege):
            hint = "grant this role INSERT/UPDATE on the ledger tables (and CREATE on the schema)"
        elif isinstance(exc, psycopg.errors.UniqueViolation):
            hint = "a record with this decision id or seq already exists; nothing was changed"
        else:
            hint = "see the PostgreSQL log"
        return AuditWriteFailed(
            f"could not {action} the {self.description} ({text}); the decision was not "
            f"recorded and must not be acted on: {hint}"
        )

    @contextmanager
    def write(self) -> Iterator[_PostgresWriter]:
        with self._lock:
            try:
                with ExitStack() as transaction:

                    def begin(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
                        transaction.enter_context(conn.transaction())
                        return conn

                    yield _PostgresWriter(self._on_live_connection(begin))
            except psycopg.Error as exc:
                raise self._failure("write the audit record to", exc) from None

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """A session advisory lock keyed by `name`, on a connection of its own (so the shared
        one stays free for appends and reads), released when the block ends."""
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
            conn.execute(f"SET lock_timeout = '{int(LOCK_TIMEOUT_S * 1000)}ms'")
            conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (name,))
        except psycopg.Error as exc:
            raise AuditWriteFailed(
                f"could not take the lock {name!r} in the {self.description}: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        try:
            yield
        finally:
            conn.close()  # ends the session, and with it the lock

    def _read(self, sql: str, params: tuple[object, ...] = ()) -> list[Any]:
        # The shared queries use sqlite's `?`; psycopg wants `%s`.
        query = sql.replace("?", "%s")
        with self._lock:
            try:
                return self._on_live_connection(lambda c: c.execute(query, params).fetchall())
            except psycopg.Error as exc:
                raise LedgerUnreadable(f"cannot read the {self.description}: {exc}") from None

    def _on_live_connection(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """`work(connection)`, run once more on a new connection if PostgreSQL had dropped the
        old one (a restart, a failover, an idle timeout): `work` must be safe to repeat (a
        read, or the BEGIN of a transaction, before anything is written)."""
        conn = self._connection()
        try:
            return work(conn)
        except psycopg.OperationalError:
            if not (conn.closed or conn.broken):
                raise
        return work(self._connection())

    def _table_exists(self, name: str) -> bool:
        return bool(self._read("SELECT to_regclass(?) IS NOT NULL", (name,))[0][0])

    def reader(self) -> Callable[[], PostgresStore]:
        return functools.partial(PostgresStore, self.url, create=False)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()


class _PostgresWriter:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def tail(self) -> Tail:
        row = self._conn.execute(
            "SELECT seq, envelope_hash FROM chain_head WHERE id = 1 FOR UPDATE"
        ).fetchone()
        if row is None:
            raise psycopg.errors.NoDataFound("the chain_head row is missing")
        return Tail(int(row[0]), str(row[1]))

    def records_between(self, first: int, last: int) -> int:
        sql = "SELECT count(*) FROM records WHERE seq BETWEEN %s AND %s"
        row = self._conn.execute(sql, (first, last)).fetchone()
        return int(row[0]) if row else 0

    def envelope_hash_at(self, seq: int) -> str | None:
        row = self._conn.execute(
            "SELECT envelope_hash FROM records WHERE seq = %s", (seq,)
        ).fetchone()
        return None if row is None else str(row[0])

    def insert_many(
        self,
        rows: Sequence[RecordRow],
        documents: Sequence[tuple[int, bytes]],
        contents: Sequence[tuple[str, bytes]] = (),
    ) -> None:
        # executemany sends the statements pipelined; the chain head moves once, to the last.
        with self._conn.cursor() as cursor:
            cursor.executemany(INSERT_CONTENT, contents)
            cursor.executemany(INSERT_DOCUMENT, documents)
            cursor.executemany(INSERT_RECORD, [column_values(row) for row in rows])
        if rows:
            self._conn.execute(
                "UPDATE chain_head SET seq = %s, envelope_hash = %s WHERE id = 1",
                (rows[-1].seq, rows[-1].envelope_hash),
            )

    def probe(self, row: RecordRow) -> None:
        # The server's disk is not ours to probe, and holding the chain lock writes nothing:
        # the rows an append writes, in a savepoint rolled back, meet what refuses a record
        # (a revoked privilege, a trigger that raises) as the record itself would.
        with self._conn.transaction(force_rollback=True):
            self.insert_many((row,), ((row.seq, b""),), ((row.input_digest, b""),))

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
        cursor = self._conn.execute(
            "SELECT envelope FROM records WHERE seq > %s ORDER BY seq", (seq,)
        )
        for (envelope,) in cursor:
            yield stored_bytes(envelope)

    def insert_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        self._conn.execute(
            "INSERT INTO checkpoints (size, frontier, envelope) VALUES (%s, %s, %s)",
            (checkpoint.size, checkpoint.frontier, checkpoint.envelope),
        )
