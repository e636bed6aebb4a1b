"""Review page sessions: one sign-in with an auditor's (or admin's) bearer token opens a
session, and the browser holds only an opaque random session id in a cookie, never the token.

The table lives in this process's memory (`mlgate serve` answers HTTP from one process), keyed
by the SHA-256 of the session id, so the ids themselves are kept nowhere on the server. A
session keeps the hash of the token it was opened with and is checked against the tokens file
on every request: revoking or rotating the token ends its sessions. A restart ends them all.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from service.api.auth import TokenTable
from service.decision.model import Caller

# Who may open the page: the roles that read the audit trail (ReaderCaller in auth.py).
READER_ROLES = ("auditor", "admin")
COOKIE = "mlgate_review"
# Sign-ins beyond this many live sessions drop the oldest: the table stays small in memory.
MAX_SESSIONS = 10_000


@dataclass(frozen=True)
class Session:
    caller: Caller
    token_sha256: str  # hex SHA-256 of the token signed in with (the tokens file's key)
    expires_at: float  # seconds since the epoch


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionTable:
    """Open sessions by the hash of their id; `clock` gives seconds since the epoch."""

    def __init__(
        self, tokens: TokenTable, lifetime_seconds: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._tokens = tokens
        self.lifetime_seconds = lifetime_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._open: dict[str, Session] = {}

    def open(self, caller: Caller, token_sha256: str) -> tuple[str, Session]:
        """A new session for `caller`, signed in with the token hashed `token_sha256`: its id
        (256 random bits, URL-safe base64, for the cookie) and the session."""
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        session = Session(caller, token_sha256, now + self.lifetime_seconds)
        with self._lock:
            self._open = {k: s for k, s in self._open.items() if s.expires_at > now}
            while len(self._open) >= MAX_SESSIONS:
                del self._open[min(self._open, key=lambda k: self._open[k].expires_at)]
            self._open[_key(session_id)] = session
        return session_id, session

    def current(self, session_id: str | None) -> Session | None:
        """The live session `session_id` names, or None: unknown, expired, or its token no
        longer in the tokens file with a reader's role (then it is ended too)."""
        if not session_id:
            return None
        key = _key(session_id)
        with self._lock:
            session = self._open.get(key)
        if session is None:
            return None
        entry = self._tokens.entry(session.token_sha256)
        if (
            session.expires_at <= self._clock()
            or entry is None
            or entry.role not in READER_ROLES
            or entry.id != session.caller.id
        ):
            self.close(session_id)
            return None
        return session

    def close(self, session_id: str | None) -> None:
        """End session `session_id` (sign-out); nothing if there is none."""
        if session_id:
            with self._lock:
                self._open.pop(_key(session_id), None)
