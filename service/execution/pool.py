"""A pool of gatekeepers over separate OPA instances, since one instance evaluates one input at
a time; policies can be swapped for a new revision while requests are in flight."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from service.engine.policyset import PolicySet
from service.gate import Gatekeeper


class GatekeeperPool:
    """Leases one gatekeeper per request; those of a replaced revision are closed when returned."""

    def __init__(self, gatekeepers: list[Gatekeeper]) -> None:
        if not gatekeepers:
            raise ValueError("a gatekeeper pool needs at least one gatekeeper")
        self._lock = threading.Lock()
        self._idle: queue.SimpleQueue[tuple[int, Gatekeeper]] = queue.SimpleQueue()
        self._generation = 0
        self._size = 0
        self._policy_set = gatekeepers[0].engine.policy_set
        self._fill(gatekeepers)

    @classmethod
    def build(cls, make: Callable[[], Gatekeeper], size: int) -> GatekeeperPool:
        return cls([make() for _ in range(max(1, size))])

    @property
    def policy_set(self) -> PolicySet:
        return self._policy_set

    @property
    def size(self) -> int:
        return self._size

    @contextmanager
    def lease(self) -> Iterator[Gatekeeper]:
        while True:
            generation, gatekeeper = self._idle.get()
            if generation == self._generation:
                break
            _close(gatekeeper)
        try:
            yield gatekeeper
        finally:
            if generation == self._generation:
                self._idle.put((generation, gatekeeper))
            else:
                _close(gatekeeper)

    def replace(self, gatekeepers: list[Gatekeeper]) -> None:
        """Serve later requests from `gatekeepers`; requests in flight finish on the old ones."""
        if not gatekeepers:
            raise ValueError("a gatekeeper pool needs at least one gatekeeper")
        with self._lock:
            self._generation += 1
            self._policy_set = gatekeepers[0].engine.policy_set
            self._fill(gatekeepers)

    def _fill(self, gatekeepers: list[Gatekeeper]) -> None:
        self._size = len(gatekeepers)
        for gatekeeper in gatekeepers:
            self._idle.put((self._generation, gatekeeper))

    def close(self) -> None:
        with self._lock:
            self._generation += 1
        while True:
            try:
                _, gatekeeper = self._idle.get_nowait()
            except queue.Empty:
                return
            _close(gatekeeper)


def _close(gatekeeper: Gatekeeper) -> None:
    close = getattr(gatekeeper.engine, "close", None)
    if close is not None:
        close()
