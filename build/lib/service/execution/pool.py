"""A pool of judges over separate OPA instances, since one instance evaluates one input at a
time; policies can be swapped for a new revision while requests are in flight."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from service.decision.judge import Judge
from service.engine.policyset import PolicySet


class JudgePool:
    """Leases one judge per request; those of a replaced revision are closed when returned."""

    def __init__(self, judges: list[Judge]) -> None:
        if not judges:
            raise ValueError("a judge pool needs at least one judge")
        self._lock = threading.Lock()
        self._idle: queue.SimpleQueue[tuple[int, Judge]] = queue.SimpleQueue()
        self._generation = 0
        self._size = 0
        self._policy_set = judges[0].engine.policy_set
        self._fill(judges)

    @classmethod
    def build(cls, make: Callable[[], Judge], size: int) -> JudgePool:
        return cls([make() for _ in range(max(1, size))])

    @property
    def policy_set(self) -> PolicySet:
        return self._policy_set

    @property
    def size(self) -> int:
        return self._size

    @contextmanager
    def lease(self) -> Iterator[Judge]:
        while True:
            generation, judge = self._idle.get()
            if generation == self._generation:
                break
            _close(judge)
        try:
            yield judge
        finally:
            if generation == self._generation:
                self._idle.put((generation, judge))
            else:
                _close(judge)

    def replace(self, judges: list[Judge]) -> None:
        """Serve later requests from `judges`; requests in flight finish on the old ones."""
        if not judges:
            raise ValueError("a judge pool needs at least one judge")
        with self._lock:
            self._generation += 1
            self._policy_set = judges[0].engine.policy_set
            self._fill(judges)

    def _fill(self, judges: list[Judge]) -> None:
        self._size = len(judges)
        for judge in judges:
            self._idle.put((self._generation, judge))

    def close(self) -> None:
        with self._lock:
            self._generation += 1
        while True:
            try:
                _, judge = self._idle.get_nowait()
            except queue.Empty:
                return
            _close(judge)


def _close(judge: Judge) -> None:
    close = getattr(judge.engine, "close", None)
    if close is not None:
        close()
