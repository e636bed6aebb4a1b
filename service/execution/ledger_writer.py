"""The ledger writer: one process that records every decision of the service, in batches.

Decision workers only judge; each judged decision comes here straight from its worker (over a
Unix socket the writer listens on, so the parent does not relay it), and the writer answers the
parent, which asked for the decision, with the decision and its receipt once it is durable. The
records that arrive while one transaction commits go into the next one together (group commit),
so a busy service pays one fsync per batch rather than per decision, and no two processes ever
wait on each other for the ledger's write lock.
"""

from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from service.audit.ledger import Ledger, open_ledger
from service.audit.receipt import AuditReceipt
from service.decision.judge import Judged
from service.errors import AuditWriteFailed, MlgateError
from service.execution.childprocess import Child, ChildEnd, Request, portable
from service.settings import Settings

MAX_BATCH = 128


def ledger_writer(settings: Settings, address: str) -> Child:
    """Start the writer for the ledger `settings` names, listening for decision workers on the
    Unix socket `address` (a path in a directory only this user can enter); wait_ready() before
    use, or await its `started`."""
    return Child(
        serve_ledger,
        (settings, address),
        "mlgate-ledger",
        lambda why: AuditWriteFailed(
            f"the ledger writer process {why}; the decision was not recorded"
        ),
    )


@dataclass
class _Arrived:
    """A request and where it came from: the parent (None) or a decision worker's socket."""

    request: Request
    worker: Connection | None = None


def serve_ledger(conn: Connection, settings: Settings, address: str) -> None:
    """The writer's life: open the ledger, listen, say ready, then record batches until the
    parent's pipe closes.

    From the parent: ("record", PendingRecord), answered with the AuditReceipt and the writer's
    commits and records so far; ("ping", None), answered with those two counts once everything
    sent before it is recorded; ("fence", None), answered with None once every judgement that
    any worker had sent by then is recorded and answered (a worker that died before the fence
    has nothing more on its way: what it sent is recorded, the rest was never sent).
    From a decision worker: Request(id, "record", Judged) with an id the parent chose, answered
    to the parent as (id, True, (Decision, AuditReceipt, commits, records)), or the error.
    """
    end = ChildEnd(conn)
    try:
        ledger = open_ledger(settings)
        listener = _listen(address)
    except BaseException as exc:
        end.failed_to_start(portable(exc, AuditWriteFailed))
        return
    # A checkpoint now covers what came since the last one (as when idle) and leaves the
    # writer holding the chain's Merkle frontier, so its next checkpoints read nothing back.
    # If it fails, the same failure meets the next record and fails it closed there.
    with contextlib.suppress(MlgateError):
        ledger.checkpoint_if_behind()
    end.ready()
    writer = _Writer(end, ledger, listener)
    with ledger, listener:
        while writer.serve_once():
            pass
    with contextlib.suppress(OSError):
        os.unlink(address)


def _listen(address: str) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(64)
    listener.setblocking(False)
    return listener


class _Writer:
    def __init__(self, end: ChildEnd, ledger: Ledger, listener: socket.socket) -> None:
        self.end = end
        self.ledger = ledger
        self.listener = listener
        self.workers: list[Connection] = []
        self.commits = 0
        self.records = 0

    def serve_once(self) -> bool:
        """Wait for requests, then record and answer one batch; False once the parent left."""
        ready = wait([self.end.conn, self.listener, *self.workers])
        if self.listener in ready:
            self._accept()
        batch: list[_Arrived] = []
        if self.end.conn in ready:
            first = self.end.next()
            if first is None:
                return False
            batch += [_Arrived(first), *(_Arrived(r) for r in self.end.waiting(MAX_BATCH - 1))]
        for worker in list(self.workers):
            if worker in ready:
                batch += self._drain(worker, MAX_BATCH)
        if any(arrived.request.op == "fence" for arrived in batch):
            self._accept()
            for worker in list(self.workers):  # everything sent before the fence, uncapped
                batch += self._drain(worker, None)
        self._record(batch)
        return True

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            client.setblocking(True)
            self.workers.append(Connection(client.detach()))

    def _drain(self, worker: Connection, limit: int | None) -> list[_Arrived]:
        """What `worker` has sent so far (up to `limit`); a worker gone is forgotten."""
        arrived: list[_Arrived] = []
        try:
            while (limit is None or len(arrived) < limit) and worker.poll():
                arrived.append(_Arrived(worker.recv(), worker))
        except (EOFError, OSError):  # it ended (a frame cut short by its death is dropped)
            self.workers.remove(worker)
            worker.close()
        return arrived

    def _record(self, batch: list[_Arrived]) -> None:
        records = [a for a in batch if a.request.op == "record"]
        results = self._record_all(records)
        recorded = sum(isinstance(result, AuditReceipt) for result in results)
        self.commits += recorded > 0
        self.records += recorded
        for arrived, result in zip(records, results, strict=True):
            if not isinstance(result, AuditReceipt):
                self.end.answer(arrived.request, False, result)
            elif arrived.worker is None:
                self.end.answer(arrived.request, True, (result, self.commits, self.records))
            else:
                decision = arrived.request.payload.decision
                self.end.answer(
                    arrived.request, True, (decision, result, self.commits, self.records)
                )
        for arrived in batch:
            if arrived.request.op == "ping":
                self.end.answer(arrived.request, True, (self.commits, self.records))
            elif arrived.request.op == "fence":
                self.end.answer(arrived.request, True, None)

    def _record_all(self, records: list[_Arrived]) -> list[Any]:
        try:
            pending = [_pending(arrived) for arrived in records]
            return list(self.ledger.record_batch(pending))
        except BaseException as exc:  # a bug here must still answer every request
            return [portable(exc, AuditWriteFailed)] * len(records)


def _pending(arrived: _Arrived) -> Any:
    payload = arrived.request.payload
    if arrived.worker is None:
        return payload
    if not isinstance(payload, Judged):
        raise AuditWriteFailed(f"a decision worker sent {type(payload).__name__}, not a judgement")
    return payload.record()


class WriterLink:
    """A decision worker's connection to the ledger writer, made again when the parent names
    a new writer (the old one died and was replaced)."""

    def __init__(self) -> None:
        self._address: str | None = None
        self._conn: Connection | None = None

    def to(self, address: str) -> WriterLink:
        if address != self._address:
            self.close()
            self._address = address
        return self

    def send(self, request: Request) -> None:
        try:
            if self._conn is None:
                assert self._address is not None, "the writer's address comes with the request"
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.connect(self._address)
                except BaseException:
                    sock.close()
                    raise
                self._conn = Connection(sock.detach())
            self._conn.send(request)
        except OSError as exc:
            self.close()
            raise AuditWriteFailed(
                f"the decision could not be handed to the ledger writer ({exc}); "
                "the decision was not recorded"
            ) from None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
