"""Decisions in worker processes, each with its own OPA engine; one ledger writer records them.

One interpreter runs one thread of Python at a time, and OPA's runtime does not scale across
threads of one process; separate processes let decisions use every core. A worker judges (the
policy's decision and the input's canonical bytes) and hands the judgement straight to the
ledger writer (service/execution/ledger_writer.py), which records it, batching what arrives
together into one transaction, and answers the event loop with the decision and its receipt:
only then is the decision answered. The input crosses processes twice (the request to the
worker, its canonical bytes to the writer) and the parent relays nothing. The event loop talks
to all of them without blocking (service/execution/childprocess.py).
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import shutil
import tempfile
import threading
from multiprocessing.connection import Connection
from typing import Any

from service.decision.gatespec import GateRegistry
from service.decision.judge import Judge, Judged, engine_failure_judgement
from service.decision.model import AuditReceipt, Decision
from service.decision.pipeline import gather
from service.decision.request import GateRequest
from service.engine.factory import new_engine
from service.engine.policyset import PolicySet, load_policy_set
from service.errors import PolicyEngineUnavailable
from service.evidence.context import EvidenceContext
from service.execution.childprocess import Child, ChildEnd, Request, portable
from service.execution.inline import judge_request
from service.execution.ledger_writer import WriterLink, ledger_writer
from service.gates.registry import default_gates
from service.schemas import default_schemas
from service.settings import Settings


def _serve(
    conn: Connection,
    settings: Settings,
    policy_set: PolicySet,
    generation: int,
    gates: GateRegistry,
) -> None:
    """A worker's life: load, say ready, then judge requests until the pipe closes.

    The worker evaluates the policy set the service checked and holds, never what the policy
    directory holds now: files edited there take effect on a reload, and not before, even in
    a worker started later. A reload's new set comes with the first request of its
    generation.
    """
    end = ChildEnd(conn)
    try:
        engine = new_engine(settings, policy_set)
        judge = Judge(engine, default_schemas(), gates)
        from service.audit.ledger import open_ledger_reader

        context = EvidenceContext(open_ledger_reader(settings), settings)
    except BaseException as exc:
        end.failed_to_start(portable(exc, _worker_failed))
        return
    # Everything loaded so far lives as long as the worker: keep the collector off it, so its
    # full collections stay short while requests wait.
    gc.collect()
    gc.freeze()
    end.ready()
    writer = WriterLink()
    while (request := end.next()) is not None:
        try:
            if request.op == "ping":
                result: Any = True
            else:
                gate_request, reloaded, record_id, writer_address = request.payload
                if request.generation != generation:  # policies were reloaded since we loaded
                    if reloaded is None:
                        raise PolicyEngineUnavailable(
                            f"the decision worker holds policies of generation {generation}, "
                            f"not {request.generation}, and was not sent them"
                        )
                    fresh = new_engine(settings, reloaded)
                    judge.engine.close()  # type: ignore[attr-defined]
                    judge = Judge(fresh, judge.schemas, judge.gates)
                    generation = request.generation
                judged = judge_request(judge, gate_request, context)
                # The writer answers the parent with the decision once it is durable.
                writer.to(writer_address).send(Request(record_id, "record", judged))
                result = None
            end.answer(request, True, result)
        except BaseException as exc:
            end.answer(request, False, portable(exc, _worker_failed))


def _worker_failed(detail: str) -> PolicyEngineUnavailable:
    return PolicyEngineUnavailable(f"the decision worker failed: {detail}")


def _decision_worker(
    settings: Settings, policy_set: PolicySet, generation: int, gates: GateRegistry
) -> Child:
    return Child(
        _serve,
        (settings, policy_set, generation, gates),
        "mlgate-decide",
        lambda why: PolicyEngineUnavailable(f"a decision worker process {why}"),
    )


# How many times a request is judged again when its worker is replaced while it waits.
RETRIES = 2
# How long a request may wait for a replacement worker to start when no other is ready.
START_SECONDS = 30.0


class ProcessDecider:
    """`workers` decision processes and one ledger writer, started fresh (spawn); each request
    goes to the least busy worker that is ready. A child that died is replaced when the next
    request comes; while the replacement starts, requests go to the workers still running, or
    wait for it without holding up the event loop."""

    def __init__(self, settings: Settings, workers: int, gates: GateRegistry | None = None) -> None:
        self.settings = settings
        self.gates = gates or default_gates()
        self._lock = threading.Lock()
        self._generation = 0
        self._policy_set = load_policy_set(settings.policy_dir)
        new_engine(settings, self._policy_set).close()  # fail now if the policies do not load
        self._workers: list[Child] = []
        self._writer: Child | None = None
        self._counted: Child | None = None
        self._counts = (0, 0)
        self._holds: dict[Child, int] = {}  # worker -> generation of the policies it was sent
        # The writer's socket lives in a directory only this user can enter.
        self._sockets = tempfile.mkdtemp(prefix="mlgate-ledger-")
        self._writer_serial = itertools.count(1)
        self._addresses: dict[Child, str] = {}
        # Judgements the writer has recorded, by decision id, until recorded() hands them over.
        self._durable: dict[str, AuditReceipt] = {}
        try:
            self._writer = self._new_writer()
            self._workers = [self._new_worker() for _ in range(max(1, workers))]
            for child in [self._writer, *self._workers]:
                child.wait_ready()
        except BaseException:
            self.close()
            raise

    @property
    def policy_set(self) -> PolicySet:
        return self._policy_set

    async def judged(self, request: GateRequest) -> Judged:
        """Gather and judge on the least busy worker, which hands the judgement to the ledger
        writer; returned once the writer has recorded it (recorded() then gives its receipt).

        A request whose worker went away under it (killed for another request's timeout, or
        crashed) is judged again on another worker, up to RETRIES times, unless the writer
        had its judgement already: the writer is asked to record everything sent to it so
        far (a fence), so a judgement is recorded once, never twice. AuditWriteFailed when
        the writer cannot record it."""
        for attempt in range(RETRIES + 1):
            worker = await self._worker()
            writer = await self._writer_ready()
            record_id, durable = await writer.expect()
            try:
                judged = await self._judged_on(worker, writer, record_id, durable, request)
            except PolicyEngineUnavailable:
                if worker.alive:  # it answered with the error: it handed nothing over
                    writer.forget(record_id)
                    raise
                await writer.call("fence", None)  # did its judgement reach the writer?
                if not durable.done():
                    writer.forget(record_id)
                    if attempt == RETRIES:
                        raise
                    continue
                judged = await self._recorded_by_writer(writer, durable)
            except BaseException:
                writer.forget(record_id)
                raise
            return judged
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _judged_on(
        self,
        worker: Child,
        writer: Child,
        record_id: int,
        durable: asyncio.Future[Any],
        request: GateRequest,
    ) -> Judged:
        timeout = self.settings.decision_timeout_seconds
        generation, policy_set = self._generation, self._policy_set
        behind = self._holds.get(worker) != generation
        self._holds[worker] = generation
        try:
            # Awaited in this task (no task of its own, as wait_for would make): the request is
            # on the worker's books before the next request picks the least busy worker.
            async with asyncio.timeout(timeout):
                reloaded = policy_set if behind else None
                payload = (request, reloaded, record_id, self._addresses[writer])
                await worker.call("decide", payload, generation)
        except TimeoutError:
            # An OPA evaluation cannot be interrupted: the worker goes, and is replaced before
            # the next request. The gate denies, and says why, as for any engine failure,
            # unless its judgement reached the writer before it was stopped.
            worker.kill(f"was stopped after {timeout:g} s without a decision")
            await asyncio.to_thread(worker.process.join, 10)
            await writer.call("fence", None)
            if durable.done():
                return await self._recorded_by_writer(writer, durable)
            writer.forget(record_id)
            # Judged on the request's own evidence: the recorded evidence was never gathered.
            spec = self.gates.spec(request.gate)
            return engine_failure_judgement(
                spec,
                gather(request, spec, None),
                policy_set.revision,
                f"it did not answer within {timeout:g} s (MLGATE_DECISION_TIMEOUT_SECONDS)",
            )
        except BaseException:
            if behind:  # it may not have taken them: send them again with its next request
                self._holds.pop(worker, None)
            raise
        return await self._recorded_by_writer(writer, durable)

    async def _recorded_by_writer(self, writer: Child, durable: asyncio.Future[Any]) -> Judged:
        """The judgement the writer recorded: its decision, the receipt kept for recorded()."""
        decision: Decision
        receipt: AuditReceipt
        decision, receipt, *counts = await durable
        self._count(writer, counts)
        self._durable[decision.decision_id] = receipt
        # Its canonical bytes went from the worker to the writer, and are stored there.
        return Judged(decision, b"")

    async def recorded(self, judged: Judged) -> AuditReceipt:
        """The receipt of a judgement the writer recorded from its worker; any other (a deny
        judged here when a worker did not answer in time) is sent to the writer to record."""
        receipt = self._durable.pop(judged.decision.decision_id, None)
        if receipt is not None:
            return receipt
        writer = await self._writer_ready()
        recorded: AuditReceipt
        recorded, *counts = await writer.call("record", judged.record())
        self._count(writer, counts)
        return recorded

    @property
    def ledger_counts(self) -> tuple[int, int]:
        return self._counts

    def _count(self, writer: Child, counts: list[int]) -> None:
        # Answers can arrive out of order; a new writer starts again from 0 (a counter reset).
        commits, records = counts
        if writer is not self._counted or records > self._counts[1]:
            self._counted, self._counts = writer, (commits, records)

    async def check(self) -> None:
        writer = await self._writer_ready()
        pings = [child.call("ping", None) for child in self._workers if child.has_started]
        *_, counts = await asyncio.wait_for(
            asyncio.gather(*pings, writer.call("ping", None)), timeout=10
        )
        self._count(writer, list(counts))

    async def _worker(self) -> Child:
        """The least busy worker that is ready; workers that died are replaced first, and if
        none is ready yet, the first one to be is used."""
        workers, _ = self._replace_dead()
        ready = [worker for worker in workers if worker.has_started]
        if ready:
            return min(ready, key=lambda child: child.busy)
        return await self._first_started(workers)

    async def _writer_ready(self) -> Child:
        """The ledger writer, replaced first if it died, once it is ready."""
        _, writer = self._replace_dead()
        if not writer.has_started:
            await self._first_started([writer])
        return writer

    def _replace_dead(self) -> tuple[list[Child], Child]:
        """The workers and the writer, each child that died replaced by a new one."""
        with self._lock:
            for i, worker in enumerate(self._workers):
                if not worker.alive:
                    worker.close()
                    self._holds.pop(worker, None)
                    self._workers[i] = self._new_worker()
            assert self._writer is not None
            if not self._writer.alive:
                self._writer.close()
                self._addresses.pop(self._writer, None)
                self._writer = self._new_writer()
            return list(self._workers), self._writer

    async def _first_started(self, children: list[Child]) -> Child:
        """The first of `children` to be ready, waiting at most the decision timeout or
        START_SECONDS, whichever is longer (a new worker loads its engine first, which a busy
        host may take seconds over); the error it could not start with, if it could not."""
        timeout = max(self.settings.decision_timeout_seconds, START_SECONDS)
        starting = {asyncio.wrap_future(child.started): child for child in children}
        done, _ = await asyncio.wait(starting, timeout=timeout, return_when="FIRST_COMPLETED")
        if not done:
            raise children[0].lost(f"is being restarted and was not ready within {timeout:g} s")
        first = done.pop()
        first.result()
        return starting[first]

    def _new_writer(self) -> Child:
        address = os.path.join(self._sockets, f"writer-{next(self._writer_serial)}.sock")
        writer = ledger_writer(self.settings, address)
        self._addresses[writer] = address
        return writer

    def _new_worker(self) -> Child:
        worker = _decision_worker(self.settings, self._policy_set, self._generation, self.gates)
        self._holds[worker] = self._generation
        return worker

    def reload(self, policy_set: PolicySet | None = None) -> tuple[str, PolicySet]:
        """Check the policies load, then send them to each worker with its next request."""
        with self._lock:
            previous = self._policy_set.revision
            policy_set = policy_set or load_policy_set(self.settings.policy_dir)
            new_engine(self.settings, policy_set).close()
            self._policy_set = policy_set
            self._generation += 1
            return previous, policy_set

    def close(self) -> None:
        for child in [*self._workers, *([self._writer] if self._writer else [])]:
            child.close()
        shutil.rmtree(self._sockets, ignore_errors=True)
