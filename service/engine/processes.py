"""Decisions in worker processes, each with its own OPA engine, ledger and sign-off connection.

One interpreter runs one thread of Python at a time, and OPA's runtime does not scale across
threads of one process; separate processes let decisions use every core. Each worker reads
requests from a pipe and answers in order; the event loop writes requests and reads answers
itself, so no thread stands between them. The ledger serialises the workers' appends.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import multiprocessing
import threading
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from service.decision import Decision
from service.engine.embedded import EmbeddedEngine
from service.engine.policyset import PolicySet, load_policy_set
from service.errors import MlgateError, PolicyEngineUnavailable
from service.gate import Gatekeeper
from service.schemas import default_schemas
from service.settings import Settings
from service.signoffs.feed import add_signoffs
from service.signoffs.store import open_signoffs

_STARTUP_SECONDS = 120.0


@dataclass
class _Request:
    id: int
    op: str  # "decide" or "ping"
    payload: Any
    generation: int


def _serve(conn: Connection, settings: Settings, generation: int) -> None:
    """A worker's life: load, say ready, then answer requests until the pipe closes."""
    from service.audit.ledger import open_ledger

    try:
        engine = EmbeddedEngine(load_policy_set(settings.policy_dir))
        gatekeeper = Gatekeeper(engine, default_schemas(), open_ledger(settings))
        signoffs = open_signoffs(settings)
    except BaseException as exc:
        conn.send((0, False, _portable(exc)))
        return
    # Everything loaded so far lives as long as the worker: keep the collector off it, so its
    # full collections stay short while requests wait.
    gc.collect()
    gc.freeze()
    conn.send((0, True, None))
    while True:
        try:
            request: _Request = conn.recv()
        except (EOFError, OSError):
            return
        try:
            if request.op == "ping":
                result: Any = True
            else:
                if request.generation != generation:  # policies were reloaded since we loaded
                    fresh = EmbeddedEngine(load_policy_set(settings.policy_dir))
                    gatekeeper.engine.close()  # type: ignore[attr-defined]
                    gatekeeper = Gatekeeper(fresh, gatekeeper.schemas, gatekeeper.ledger)
                    generation = request.generation
                add_signoffs(request.payload, signoffs)
                result = gatekeeper.decide(request.payload)
            conn.send((request.id, True, result))
        except BaseException as exc:
            conn.send((request.id, False, _portable(exc)))


def _portable(exc: BaseException) -> MlgateError:
    """The error as the parent can rebuild it: mlgate errors as they are, others described."""
    if isinstance(exc, MlgateError) and type(exc).__init__ is MlgateError.__init__:
        return exc
    if isinstance(exc, MlgateError):
        return MlgateError(exc.message)
    summary = "".join(traceback.format_exception_only(exc)).strip()
    return PolicyEngineUnavailable(f"the decision worker failed: {summary}")


class _Worker:
    """The parent's side of one worker process: its pipe and the answers it owes."""

    def __init__(self, settings: Settings, generation: int) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a process with OPA loaded
        self.conn, child = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=_serve, args=(child, settings, generation), daemon=True, name="mlgate-decide"
        )
        self.process.start()
        child.close()
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None

    def wait_ready(self) -> None:
        if not self.conn.poll(_STARTUP_SECONDS):
            raise PolicyEngineUnavailable("a decision worker did not start within 120 s")
        _, ok, error = self.conn.recv()
        if not ok:
            raise error

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.loop is not loop:
            if self.loop is not None:
                self.loop.remove_reader(self.conn.fileno())
            self.loop = loop
            loop.add_reader(self.conn.fileno(), self._on_answer)

    def _on_answer(self) -> None:
        try:
            while self.conn.poll():
                request_id, ok, value = self.conn.recv()
                future = self.pending.pop(request_id, None)
                if future is not None and not future.done():
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
        except (EOFError, OSError):
            self.fail(PolicyEngineUnavailable("a decision worker process died"))

    def fail(self, error: MlgateError) -> None:
        if self.loop is not None:
            self.loop.remove_reader(self.conn.fileno())
            self.loop = None
        for future in self.pending.values():
            if not future.done():
                future.set_exception(error)
        self.pending.clear()

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def close(self) -> None:
        self.fail(PolicyEngineUnavailable("the decision workers are shutting down"))
        self.conn.close()
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()


class ProcessDecider:
    """`workers` processes started fresh (spawn); each request goes to the least busy one."""

    def __init__(self, settings: Settings, workers: int) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._generation = 0
        self._ids = itertools.count(1)
        self._policy_set = load_policy_set(settings.policy_dir)
        EmbeddedEngine(self._policy_set).close()  # fail here and now if the policies do not load
        self._workers = [_Worker(settings, self._generation) for _ in range(max(1, workers))]
        try:
            for worker in self._workers:
                worker.wait_ready()
        except BaseException:
            self.close()
            raise

    @property
    def policy_set(self) -> PolicySet:
        return self._policy_set

    async def decide(self, input_doc: dict[str, Any]) -> Decision:
        decision: Decision = await self._call("decide", input_doc)
        return decision

    async def check(self) -> None:
        await asyncio.wait_for(self._call("ping", None), timeout=10)

    async def _call(self, op: str, payload: Any) -> Any:
        loop = asyncio.get_running_loop()
        worker = self._worker()
        worker.attach(loop)
        request = _Request(next(self._ids), op, payload, self._generation)
        future: asyncio.Future[Any] = loop.create_future()
        worker.pending[request.id] = future
        try:
            worker.conn.send(request)
        except OSError:
            worker.pending.pop(request.id, None)
            raise PolicyEngineUnavailable("a decision worker process died") from None
        return await future

    def _worker(self) -> _Worker:
        with self._lock:
            for i, worker in enumerate(self._workers):
                if not worker.alive:  # replace a dead worker before its next request
                    worker.fail(PolicyEngineUnavailable("a decision worker process died"))
                    self._workers[i] = _Worker(self.settings, self._generation)
                    self._workers[i].wait_ready()
            return min(self._workers, key=lambda w: len(w.pending))

    def reload(self) -> tuple[str, PolicySet]:
        """Check the policies load, then have each worker load them before its next decision."""
        with self._lock:
            previous = self._policy_set.revision
            policy_set = load_policy_set(self.settings.policy_dir)
            EmbeddedEngine(policy_set).close()
            self._policy_set = policy_set
            self._generation += 1
            return previous, policy_set

    def close(self) -> None:
        for worker in self._workers:
            worker.close()
