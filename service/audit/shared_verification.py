"""One verification of the ledger at a time in a process, shared by every caller who asks while
it runs: for a service, where any reader may ask for a verification (GET /v1/audit/verify, the
review page) and each one reads and checks every record.

Without it, readers asking at once (or one reader asking over and over, in parallel) start as
many full verifications, each taking a core for as long as the ledger takes (about two minutes
of one core at a million records), and the decisions asked for meanwhile wait behind them. With
it, a caller arriving while a verification runs gets that verification's report: it covers the
records up to the `last_seq` it states, those appended after it started are checked by the next
one. A caller with another keyring (the keyring file was replaced) starts its own.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import Future

from service.audit.keys import Keyring
from service.audit.ledger import Ledger
from service.audit.verify import VerifyReport


class SharedVerification:
    """`verify(keyring)`: the report of the verification running now with that keyring, or of
    a new one if none is; its errors are raised to every caller who shared it."""

    def __init__(self, ledger: Ledger, workers: int | None = 1) -> None:
        """`workers` as Ledger.verify takes them. One by default: in a service the other
        cores answer decisions, and a verification spread over them took them from the
        decisions (bench/http.py --auditor on 2 cores: p99 of the decisions meanwhile 18x
        their p99 without, against 3x with the verification in one thread)."""
        self._ledger = ledger
        self._workers = workers
        self._lock = threading.Lock()
        self._running: dict[str, Future[VerifyReport]] = {}
        self.started = 0  # verifications started so far
        self.joined = 0  # callers who got the report of one already running

    def verify(self, keyring: Keyring) -> VerifyReport:
        key = json.dumps(keyring.to_json(), sort_keys=True)
        with self._lock:
            flight = self._running.get(key)
            owner = flight is None
            if flight is None:
                flight = self._running[key] = Future()
                self.started += 1
            else:
                self.joined += 1
        if owner:
            try:
                flight.set_result(self._ledger.verify(keyring, workers=self._workers))
            except BaseException as exc:
                flight.set_exception(exc)
            finally:
                with self._lock:
                    del self._running[key]
        return flight.result()
