"""A child process that answers requests over a pipe, driven from an asyncio event loop.

The parent never blocks on the pipe: requests are written through an asyncio transport that
buffers what the child has not read yet, and answers are parsed as they arrive. The child's
side is plain blocking `multiprocessing.connection.Connection` calls; both sides frame
messages the way `Connection.send_bytes` does (a 4-byte big-endian length, then a pickle).

Decision workers (service/execution/processes.py) and the ledger writer
(service/execution/ledger_writer.py) are such children.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import multiprocessing
import os
import pickle
import socket
import struct
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from service.errors import MlgateError

STARTUP_SECONDS = 120.0
_LENGTH = struct.Struct("!i")
_LONG_LENGTH = struct.Struct("!Q")  # after a length of -1, as Connection writes frames >= 2 GiB


@dataclass
class Request:
    id: int
    op: str
    payload: Any
    generation: int = 0


class ChildEnd:
    """The child's side of the pipe."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def ready(self) -> None:
        self.conn.send((0, True, None))

    def failed_to_start(self, error: MlgateError) -> None:
        self.conn.send((0, False, error))

    def next(self) -> Request | None:
        """The next request, waiting for it; None once the parent has closed the pipe."""
        try:
            request: Request = self.conn.recv()
        except (EOFError, OSError):
            return None
        return request

    def waiting(self, limit: int) -> list[Request]:
        """Up to `limit` requests that have already arrived, without waiting for more."""
        requests: list[Request] = []
        try:
            while len(requests) < limit and self.conn.poll():
                requests.append(self.conn.recv())
        except (EOFError, OSError):
            pass
        return requests

    def answer(self, request: Request, ok: bool, value: Any) -> None:
        self.conn.send((request.id, ok, value))


def portable(exc: BaseException, wrap: Callable[[str], MlgateError]) -> MlgateError:
    """The error as the parent can rebuild it: mlgate errors as they are, others described
    and wrapped in the error the parent should raise (`wrap`)."""
    if isinstance(exc, MlgateError) and type(exc).__init__ is MlgateError.__init__:
        return exc
    if isinstance(exc, MlgateError):
        return wrap(exc.message)
    return wrap("".join(traceback.format_exception_only(exc)).strip())


class Child:
    """The parent's side of one child process: its pipe and the answers it owes.

    `target(conn, *args)` runs in a fresh interpreter (spawn: a process with OPA or a database
    connection loaded is never forked) and must call `ChildEnd.ready()` or `failed_to_start()`.
    `lost(why)` is the error requests fail with if the child goes away, `why` saying how.
    Starting takes a while (a new interpreter, then whatever the target loads); a thread waits
    for it and settles `started`, which an event loop can await instead of blocking in
    `wait_ready()`.
    """

    def __init__(
        self,
        target: Callable[..., None],
        args: tuple[Any, ...],
        name: str,
        lost: Callable[[str], MlgateError],
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self.lost = lost
        self.conn, child = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=target, args=(child, *args), daemon=True, name=name
        )
        self._child_end = child
        # Set once the process is launched: launching writes its arguments (a policy set of
        # hundreds of KiB) into a pipe the new interpreter reads only once it runs, so it is
        # done on the start thread, never on the caller's (an event loop's) thread.
        self._launched = threading.Event()
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._transport: asyncio.Transport | None = None
        self._attaching: asyncio.Task[None] | None = None
        self._answers: _Answers | None = None
        self._sock: socket.socket | None = None
        self._ended = False
        # Running from the start, so that no caller giving up on it can cancel it.
        self.started: concurrent.futures.Future[None] = concurrent.futures.Future()
        self.started.set_running_or_notify_cancel()
        threading.Thread(target=self._await_start, name=f"{name}-start", daemon=True).start()

    def _await_start(self) -> None:
        try:
            try:
                try:
                    self.process.start()
                finally:
                    self._child_end.close()
                    self._launched.set()
                if not self.conn.poll(STARTUP_SECONDS):
                    raise self.lost(f"did not start within {STARTUP_SECONDS:.0f} s")
                _, ok, error = self.conn.recv()
            except (EOFError, OSError):
                raise self.lost("ended before it was ready") from None
            if not ok:
                raise error
        except BaseException as exc:
            self.close()
            self.started.set_exception(exc)
        else:
            self.started.set_result(None)

    def wait_ready(self) -> None:
        """Block until the child has started; raise the error it could not start with."""
        self.started.result()

    @property
    def has_started(self) -> bool:
        """Started and ready for requests (not still starting, nor failed to start)."""
        return self.started.done() and self.started.exception() is None

    @property
    def alive(self) -> bool:
        """Not ended, and running or still being launched."""
        if not self._launched.is_set():
            return not self._ended
        return not self._ended and self.process.is_alive()

    @property
    def busy(self) -> int:
        return len(self.pending)

    async def call(self, op: str, payload: Any, generation: int = 0) -> Any:
        """Send a request and wait for its answer; the child's error is raised here."""
        if self._ended:
            raise self.lost("ended")
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._transport is None:
            await self._attach(loop)
            if self._ended:  # it went away while the pipe was being connected
                raise self.lost("ended")
        assert self._transport is not None
        request = Request(next(self._ids), op, payload, generation)
        frame = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        future: asyncio.Future[Any] = loop.create_future()
        self.pending[request.id] = future
        if len(frame) > 0x7FFFFFFF:
            header = _LENGTH.pack(-1) + _LONG_LENGTH.pack(len(frame))
        else:
            header = _LENGTH.pack(len(frame))
        self._transport.write(header + frame)  # one write: one system call, one wake-up
        return await future

    async def expect(self) -> tuple[int, asyncio.Future[Any]]:
        """An id, and the future its answer settles, for a request this child gets from another
        process (a decision worker hands its judgement to the ledger writer, which answers
        here). It fails as `call`s do if the child goes away; `forget(id)` if it never comes."""
        if self._ended:
            raise self.lost("ended")
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._transport is None:
            await self._attach(loop)
            if self._ended:
                raise self.lost("ended")
        request_id = next(self._ids)
        future: asyncio.Future[Any] = loop.create_future()
        self.pending[request_id] = future
        return request_id, future

    def forget(self, request_id: int) -> None:
        """Stop waiting for the answer to `request_id` (from `expect`)."""
        future = self.pending.pop(request_id, None)
        if future is not None:
            future.cancel()

    async def _attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Connect the pipe to this event loop (once; a new loop, as in tests, reconnects)."""
        if self._attaching is not None and self._loop is loop:
            await asyncio.shield(self._attaching)
            return
        self._detach(self.lost("was moved to another event loop"))
        self._loop = loop
        self._attaching = loop.create_task(self._connect(loop))
        await asyncio.shield(self._attaching)

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> None:
        # A duplicate of the pipe's descriptor, so closing the transport leaves `conn` to close.
        sock = self._sock = socket.socket(fileno=os.dup(self.conn.fileno()))
        answers = self._answers = _Answers(self)
        self._transport, _ = await loop.create_connection(lambda: answers, sock=sock)

    def deliver(self, message: tuple[int, bool, Any]) -> None:
        request_id, ok, value = message
        future = self.pending.pop(request_id, None)
        if future is not None and not future.done():
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def connection_lost(self, answers: _Answers) -> None:
        if answers is self._answers:  # not a transport this side closed on purpose
            self._ended = True
            self.fail(self.lost("ended"))

    def fail(self, error: MlgateError) -> None:
        """Fail every request still waiting for an answer."""
        pending, self.pending = self.pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(error)

    def _detach(self, error: MlgateError) -> None:
        self.fail(error)
        if self._loop is not None and self._loop.is_closed():
            if self._sock is not None:  # its loop cannot close the transport any more
                self._sock.close()
        elif self._transport is not None:
            self._transport.close()
        self._transport = None
        self._sock = None
        self._attaching = None
        self._answers = None
        self._loop = None

    def kill(self, why: str) -> None:
        """Stop a child that cannot be asked to (busy in a call that will not return soon)."""
        self._launched.wait(STARTUP_SECONDS)
        if self.process.pid is not None:
            self.process.kill()
        self._ended = True
        self._detach(self.lost(why))

    def close(self) -> None:
        self._detach(self.lost("is shutting down"))
        self.conn.close()
        self._launched.wait(STARTUP_SECONDS)
        if self.process.pid is None:  # it could not be launched
            return
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=10)


class _Answers(asyncio.Protocol):
    """Parses the child's answers out of the bytes as they arrive."""

    def __init__(self, child: Child) -> None:
        self.child = child
        self.buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        while len(buffer) >= _LENGTH.size:
            (size,) = _LENGTH.unpack_from(buffer)
            start = _LENGTH.size
            if size == -1:
                if len(buffer) < start + _LONG_LENGTH.size:
                    return
                (size,) = _LONG_LENGTH.unpack_from(buffer, start)
                start += _LONG_LENGTH.size
            if len(buffer) < start + size:
                return
            message = pickle.loads(buffer[start : start + size])
            del buffer[: start + size]
            self.child.deliver(message)

    def connection_lost(self, exc: Exception | None) -> None:
        self.child.connection_lost(self)
