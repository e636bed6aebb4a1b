"""Code run in other processes by the concurrency and crash tests (importable under spawn)."""

from __future__ import annotations

import resource
import signal
import sys
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from service.audit.keys import KeyFiles
from service.decision.recording import pending_decision
from service.errors import AuditWriteFailed, MlgateError
from tests.audit.factory import StoreFactory, make_decision, record_many


def append_together(
    kind: str, location: str, key_dir: str, count: int, start: int, barrier: Barrier, out: Any
) -> None:
    """Open the ledger, wait for the other writers, then append `count` decisions."""
    with StoreFactory(kind, location).ledger(KeyFiles.in_dir(Path(key_dir)), 100) as ledger:
        barrier.wait(timeout=60)
        out.put([d.decision_id for d in record_many(ledger, count, start)])


def open_together(paths: list[str], barrier: Barrier, out: Any, kind: str = "ledger") -> None:
    """Open each fresh SQLite ledger at the same moment as the other workers; report failures."""
    from service.audit.stores.sqlite import SqliteStore

    failures = []
    for path in paths:
        barrier.wait(timeout=60)
        try:
            SqliteStore(Path(path)).close()
        except MlgateError as exc:
            failures.append(exc.message)
    out.put(failures)


def write_until_killed(kind: str, location: str, key_dir: str, start: int) -> None:
    """Record decisions forever, printing each id only once record() has returned.

    Says "ready" once imported and waits for a line on stdin, so the test can start the
    next writer while this one runs.
    """
    print("ready", flush=True)
    sys.stdin.readline()
    with StoreFactory(kind, location).ledger(KeyFiles.in_dir(Path(key_dir)), 7) as ledger:
        n = start
        while True:
            decision, doc = make_decision(n=n)
            ledger.record(pending_decision(decision, doc))
            print(decision.decision_id, flush=True)
            n += 1


def write_until_the_disk_is_full(location: str, key_dir: str, limit: int) -> None:
    """Record into a SQLite ledger until a file-size limit stops it, as a full disk would."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG from write() instead of dying
    with StoreFactory("sqlite", location).ledger(KeyFiles.in_dir(Path(key_dir))) as ledger:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        for n in range(100_000):
            decision, doc = make_decision(n=n)
            try:
                ledger.record(pending_decision(decision, doc))
            except AuditWriteFailed as exc:
                print(f"failed {exc.message}", flush=True)
                return
            print(decision.decision_id, flush=True)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "kill-me":
        write_until_killed(args[0], args[1], args[2], int(args[3]))
    elif command == "fill-disk":
        write_until_the_disk_is_full(args[0], args[1], int(args[2]))
