"""Approvals, waivers and who requested which version, in SQLite or PostgreSQL.

The requests table exists so that nobody approves or waives a version they asked to promote.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from service.errors import MlgateError
from service.file_identity import file_identity
from service.inputdoc import now_rfc3339
from service.settings import Settings
from service.sqlite_locks import while_locked

_TABLES = {
    "approvals": "model TEXT NOT NULL, version TEXT NOT NULL, approver TEXT NOT NULL, "
    "role TEXT NOT NULL, status TEXT NOT NULL, comment TEXT, decided_at TEXT NOT NULL",
    "waivers": "model TEXT NOT NULL, version TEXT NOT NULL, rule_code TEXT NOT NULL, "
    "approved_by TEXT NOT NULL, reason TEXT NOT NULL, expires_at TEXT NOT NULL, "
    "created_at TEXT NOT NULL",
}
_REQUESTS = (
    "CREATE TABLE IF NOT EXISTS signoff_requests (model TEXT NOT NULL, version TEXT NOT NULL, "
    "caller TEXT NOT NULL, first_at TEXT NOT NULL, PRIMARY KEY (model, version, caller))"
)
T = TypeVar("T")
# The in-process memory of requests already noted, so a repeated request costs no write.
_NOTED_LIMIT = 100_000


class SignoffStoreFailed(MlgateError):
    """The signoff database cannot be opened, read or written."""

    code = "signoff_store_failed"


class SelfSignoff(MlgateError):
    """The approver asked for a decision on this very version, so may not sign it off."""

    code = "self_signoff"


class SignoffStore:
    """One connection shared by the service's threads; writes are serialised by a lock."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._postgres = url.startswith(("postgresql://", "postgres://"))
        self._lock = threading.Lock()
        self._noted: set[tuple[str, str, str]] = set()
        self.description = "PostgreSQL signoff tables" if self._postgres else url
        try:
            self._conn: Any = self._connect()
            with self._transaction() as cur:
                for statement in self._schema():
                    cur.execute(statement)
        except MlgateError:
            raise
        except Exception as exc:
            raise SignoffStoreFailed(
                f"the signoff store {self.description} cannot be opened: {exc}"
            ) from None

    def _connect(self) -> Any:
        if self._postgres:
            import psycopg

            return psycopg.connect(self.url, autocommit=True)
        path = Path(self.url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        # Several processes may open a fresh store at once (the service's workers).
        while_locked(lambda: conn.execute("PRAGMA journal_mode=WAL"), timeout_s=10)
        conn.execute("PRAGMA synchronous=FULL")
        self._path, self._opened = path, file_identity(path)
        return conn

    def _check_in_place(self) -> None:
        """SQLite goes on using a file that was removed or replaced at its path, where sign-offs
        written now would be lost and those written since would not be seen: refuse."""
        if self._postgres:
            return
        if file_identity(self._path) != self._opened:
            raise SignoffStoreFailed(
                f"the signoff store {self.description} was removed or replaced while this "
                "process had it open: restart the service (after restoring the file, if its "
                "sign-offs are to be kept)"
            )

    def _schema(self) -> list[str]:
        key = "id BIGSERIAL PRIMARY KEY" if self._postgres else "id INTEGER PRIMARY KEY"
        tables = [
            f"CREATE TABLE IF NOT EXISTS signoff_{n} ({key}, {c})" for n, c in _TABLES.items()
        ]
        index = "CREATE INDEX IF NOT EXISTS signoff_{0}_version ON signoff_{0} (model, version)"
        return [*tables, _REQUESTS, *(index.format(n) for n in _TABLES)]

    def _dropped(self) -> bool:
        """PostgreSQL closed the connection (a restart, a failover, an idle timeout)."""
        return self._postgres and bool(self._conn.closed or self._conn.broken)

    def _on_live_connection(self, work: Callable[[Any], T]) -> T:
        """`work(connection)`, run once more on a new connection if PostgreSQL had dropped the
        old one: `work` must be safe to repeat (a read, or the BEGIN of a transaction)."""
        if self._dropped():
            self._conn = self._connect()
        self._check_in_place()
        try:
            return work(self._conn)
        except Exception:
            if not self._dropped():
                raise
        self._conn = self._connect()
        return work(self._conn)

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        begin = "BEGIN" if self._postgres else "BEGIN IMMEDIATE"
        with self._lock:
            cur = self._on_live_connection(lambda conn: _executed(conn.cursor(), begin))
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self._postgres else statement

    def _query(self, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        sql = self._sql(statement)
        try:
            with self._lock:
                cur = self._on_live_connection(lambda conn: _executed(conn.cursor(), sql, params))
                return list(cur.fetchall())
        except MlgateError:
            raise
        except Exception as exc:
            raise SignoffStoreFailed(
                f"the signoff store {self.description} failed: {exc}"
            ) from None

    def _write(
        self,
        statements: Sequence[tuple[str, Sequence[Any]]],
        requester: tuple[str, str, str] | None = None,
    ) -> None:
        try:
            with self._transaction() as cur:
                if requester is not None:
                    cur.execute(
                        self._sql(
                            "SELECT 1 FROM signoff_requests "
                            "WHERE model = ? AND version = ? AND caller = ?"
                        ),
                        requester,
                    )
                    if cur.fetchone() is not None:
                        model, version, caller = requester
                        raise SelfSignoff(
                            f"{caller} requested a decision on {model} v{version}, so may not "
                            "sign it off; another approver must"
                        )
                for statement, params in statements:
                    cur.execute(self._sql(statement), params)
        except MlgateError:
            raise
        except Exception as exc:
            raise SignoffStoreFailed(
                f"the signoff store {self.description} failed: {exc}"
            ) from None

    def note_request(self, model: str, version: str, caller: str) -> None:
        """Remember that `caller` asked for a decision on this version (durably, once)."""
        key = (model, version, caller)
        if key in self._noted:
            return
        self._write(
            [
                (
                    "INSERT INTO signoff_requests (model, version, caller, first_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (model, version, caller, now_rfc3339()),
                )
            ]
        )
        if len(self._noted) >= _NOTED_LIMIT:
            self._noted.clear()
        self._noted.add(key)

    def add_approval(
        self, model: str, version: str, approver: str, role: str, status: str, comment: str | None
    ) -> dict[str, Any]:
        approval = {
            "approver": approver,
            "role": role,
            "status": status,
            "version": version,
            "decided_at": now_rfc3339(),
        }
        if comment:
            approval["comment"] = comment
        self._write(
            [
                (
                    "INSERT INTO signoff_approvals "
                    "(model, version, approver, role, status, comment, decided_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (model, version, approver, role, status, comment, approval["decided_at"]),
                )
            ],
            requester=(model, version, approver),
        )
        return approval

    def add_waiver(
        self,
        model: str,
        version: str,
        rule_code: str,
        approved_by: str,
        reason: str,
        expires_at: str,
    ) -> dict[str, Any]:
        waiver = {
            "rule_code": rule_code,
            "model": model,
            "version": version,
            "approved_by": approved_by,
            "reason": reason,
            "expires_at": expires_at,
        }
        self._write(
            [
                (
                    "INSERT INTO signoff_waivers "
                    "(model, version, rule_code, approved_by, reason, expires_at, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (model, version, rule_code, approved_by, reason, expires_at, now_rfc3339()),
                )
            ],
            requester=(model, version, approved_by),
        )
        return waiver

    def approvals_for(self, model: str, version: str) -> list[dict[str, Any]]:
        """Each approver's latest word per role on this version, oldest first."""
        rows = self._query(
            "SELECT approver, role, status, comment, decided_at FROM signoff_approvals "
            "WHERE model = ? AND version = ? ORDER BY id",
            (model, version),
        )
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for approver, role, status, comment, decided_at in rows:
            approval = {"approver": approver, "role": role, "status": status, "version": version}
            if comment:
                approval["comment"] = comment
            approval["decided_at"] = decided_at
            latest.pop((approver, role), None)
            latest[(approver, role)] = approval
        return list(latest.values())

    def waivers_for(self, model: str, version: str) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT rule_code, approved_by, reason, expires_at FROM signoff_waivers "
            "WHERE model = ? AND version = ? ORDER BY id",
            (model, version),
        )
        return [
            {
                "rule_code": code,
                "model": model,
                "version": version,
                "approved_by": by,
                "reason": reason,
                "expires_at": expires,
            }
            for code, by, reason, expires in rows
        ]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _executed(cursor: Any, statement: str, params: Sequence[Any] = ()) -> Any:
    cursor.execute(statement, params)
    return cursor


def signoff_url(settings: Settings) -> str:
    """Beside the ledger: PostgreSQL when the ledger is there, else <home>/signoffs.sqlite3."""
    ledger = settings.resolved_ledger_url
    if ledger.startswith(("postgresql://", "postgres://")):
        return ledger
    return f"sqlite:///{settings.home / 'signoffs.sqlite3'}"


def open_signoffs(settings: Settings) -> SignoffStore:
    return SignoffStore(signoff_url(settings))
