"""Where decisions run: on threads of this process here, or in worker processes
(service/execution/processes.py); either way through Gatekeeper.decide."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from service.decision import Decision
from service.engine.factory import new_engine
from service.engine.policyset import PolicySet, load_policy_set
from service.errors import PolicyEngineUnavailable
from service.execution.pool import GatekeeperPool
from service.gate import Gatekeeper
from service.pipeline import GateRequest, Pipeline, RecordedEvidence
from service.settings import Settings


class Decider(Protocol):
    """Runs the decision pipeline (service/pipeline.py) away from the caller."""

    @property
    def policy_set(self) -> PolicySet: ...

    async def decide(self, request: GateRequest) -> Decision:
        """Run the decision pipeline on `request` and answer its recorded decision."""
        ...

    def reload(self, policy_set: PolicySet | None = None) -> tuple[str, PolicySet]:
        """Put `policy_set` (default: the policies on disk now) in force; the running ones stay
        if it does not load. Returns the previous revision and the set now in force."""
        ...

    async def check(self) -> None:
        """Raise PolicyEngineUnavailable unless a decision could be made now."""
        ...

    @property
    def ledger_counts(self) -> tuple[int, int]:
        """Ledger commits and records made for this decider so far: records per commit is how
        well recording is batched."""
        ...

    def close(self) -> None: ...


class ThreadDecider:
    """In this process: a pool of gatekeepers and as many threads as there are gatekeepers."""

    def __init__(
        self,
        gatekeepers: list[Gatekeeper],
        recorded: RecordedEvidence,
        policy_dir: Path,
        settings: Settings | None = None,
    ) -> None:
        self.pool = GatekeeperPool(gatekeepers)
        self.recorded = recorded
        self.policy_dir = policy_dir
        self.settings = settings or Settings(policy_dir=policy_dir)
        self._schemas = gatekeepers[0].schemas
        self._ledger = gatekeepers[0].ledger
        self._threads = ThreadPoolExecutor(len(gatekeepers), thread_name_prefix="decide")
        self._reload_lock = threading.Lock()
        self._recorded = 0
        self._count_lock = threading.Lock()

    @property
    def policy_set(self) -> PolicySet:
        return self.pool.policy_set

    async def decide(self, request: GateRequest) -> Decision:
        return await asyncio.wrap_future(self._threads.submit(self._decide, request))

    def _decide(self, request: GateRequest) -> Decision:
        with self.pool.lease() as gatekeeper:
            decision = Pipeline(gatekeeper, self.recorded).decide(request)
        with self._count_lock:
            self._recorded += 1
        return decision

    @property
    def ledger_counts(self) -> tuple[int, int]:
        return self._recorded, self._recorded  # each decide() commits its own record

    def reload(self, policy_set: PolicySet | None = None) -> tuple[str, PolicySet]:
        with self._reload_lock:
            previous = self.policy_set.revision
            policy_set = policy_set or load_policy_set(self.policy_dir)
            built: list[Gatekeeper] = []
            try:
                for _ in range(self.pool.size):
                    engine = new_engine(self.settings, policy_set)
                    built.append(Gatekeeper(engine, self._schemas, self._ledger))
            except BaseException:
                for gatekeeper in built:
                    gatekeeper.engine.close()  # type: ignore[attr-defined]
                raise
            self.pool.replace(built)
            return previous, policy_set

    async def check(self) -> None:
        if self.pool.size < 1:
            raise PolicyEngineUnavailable("no policy engine is loaded")

    def close(self) -> None:
        self._threads.shutdown(wait=True)
        self.pool.close()
