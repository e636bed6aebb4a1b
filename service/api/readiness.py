"""Whether a record can be written now: what /readyz reports for the ledger.

Taking the chain lock proves little on a full disk (a transaction that commits nothing writes
nothing), so readiness also asks: did the last decision's write succeed, is there room on the
disk that holds the ledger, and does a small write with fsync beside it succeed. A database
server's disk is not ours to probe: there the chain lock's transaction writes a record's rows
and undoes them (Ledger.check_writable), which meets a revoked privilege or a trigger as a
record would.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

from service.audit.ledger import Ledger
from service.errors import AuditWriteFailed
from service.settings import Settings

# A failed write keeps the instance unready this long; afterwards the probe write decides, so
# an instance taken out of rotation (and sent nothing) becomes ready again once it can write.
FAILURE_HOLD_SECONDS = 10.0
PROBE_BYTES = 64 * 1024
MIB = 1024 * 1024


class WriteHealth:
    """The outcome of the last ledger write, and the checks a readiness probe runs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._failed: tuple[float, str] | None = None  # (monotonic time, why)

    def failed(self, message: str) -> None:
        with self._lock:
            self._failed = (time.monotonic(), message)

    def succeeded(self) -> None:
        with self._lock:
            self._failed = None

    def check(self, ledger: Ledger) -> None:
        """Raise AuditWriteFailed saying why a record could not be written now."""
        ledger.check_writable()
        with self._lock:
            failed = self._failed
        if failed is not None and time.monotonic() - failed[0] < FAILURE_HOLD_SECONDS:
            raise AuditWriteFailed(f"the last decision could not be recorded: {failed[1]}")
        directory = self._ledger_directory()
        if directory is None:  # a database server: check_writable wrote and undid a record
            return
        floor = self.settings.ready_min_free_bytes
        free = shutil.disk_usage(directory).free
        if free < floor:
            raise AuditWriteFailed(
                f"only {free / MIB:.1f} MiB free on the disk holding the ledger ({directory}); "
                f"below MLGATE_READY_MIN_FREE_BYTES ({floor / MIB:.1f} MiB), records may soon "
                "fail to be written: free space"
            )
        self._probe(directory)
        with self._lock:
            self._failed = None

    def _ledger_directory(self) -> Path | None:
        path = self.settings.sqlite_ledger
        return None if path is None else path.parent

    @staticmethod
    def _probe(directory: Path) -> None:
        path = directory / f".mlgate-ready-probe-{os.getpid()}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, b"\0" * PROBE_BYTES)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise AuditWriteFailed(
                f"a probe write of {PROBE_BYTES // 1024} KiB beside the ledger ({directory}) "
                f"failed: {exc.strerror or exc}; free space or fix the disk"
            ) from None
        finally:
            path.unlink(missing_ok=True)
