"""Retrying SQLite statements that fail with "database is locked" despite the busy timeout.

Switching a new file to WAL does not wait on SQLite's busy handler: when several processes
open a fresh database at once, the losers get "locked" at once and must try again. Short,
jittered tries also let every waiting writer in, where SQLite's own handler (sleeping 1 to
100 ms) lets a writer that commits and begins again keep the lock.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
RETRY_FIRST_S = 0.00005
RETRY_MAX_S = 0.0005


def while_locked(attempt: Callable[[], T], timeout_s: float) -> T:
    """`attempt()`, retried while the database is locked, for up to `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    pause = RETRY_FIRST_S
    while True:
        try:
            return attempt()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause * random.uniform(0.5, 1.5))
        pause = min(pause * 2, RETRY_MAX_S)
