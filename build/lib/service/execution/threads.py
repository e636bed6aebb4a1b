"""Where decisions run in this process: judged on a pool of threads, each leasing a judge with
its own OPA instance, and recorded in this process's ledger. The worker processes are the other
way (service/execution/processes.py); the sequence itself is service/decision/pipeline.py."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from service.audit.ledger import Ledger
from service.decision.judge import Judge, Judged
from service.decision.model import AuditReceipt
from service.decision.request import GateRequest
from service.engine.factory import new_engine
from service.engine.policyset import PolicySet, load_policy_set
from service.evidence.context import EvidenceContext
from service.execution.inline import judge_request, record_inline
from service.execution.pool import JudgePool
from service.settings import Settings


class Decider(Protocol):
    """A placement of the decision path (service/decision/pipeline.Placement) that also owns
    its engines: policies can be reloaded, readiness checked, ledger batching counted."""

    @property
    def policy_set(self) -> PolicySet: ...

    async def judged(self, request: GateRequest) -> Judged:
        """Gather and judge `request` away from the event loop."""
        ...

    async def recorded(self, judged: Judged) -> AuditReceipt:
        """Record the judgement durably, away from the event loop."""
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
    """In this process: a pool of judges and as many threads as there are judges."""

    def __init__(
        self,
        judges: list[Judge],
        ledger: Ledger,
        context: EvidenceContext,
        policy_dir: Path,
        settings: Settings | None = None,
    ) -> None:
        self.pool = JudgePool(judges)
        self.ledger = ledger
        self.context = context
        self.policy_dir = policy_dir
        self.settings = settings or Settings(policy_dir=policy_dir)
        self._schemas = judges[0].schemas
        self._gates = judges[0].gates
        self._threads = ThreadPoolExecutor(len(judges), thread_name_prefix="decide")
        self._reload_lock = threading.Lock()
        self._recorded = 0
        self._count_lock = threading.Lock()

    @property
    def policy_set(self) -> PolicySet:
        return self.pool.policy_set

    async def judged(self, request: GateRequest) -> Judged:
        return await asyncio.wrap_future(self._threads.submit(self._judge, request))

    def _judge(self, request: GateRequest) -> Judged:
        with self.pool.lease() as judge:
            return judge_request(judge, request, self.context)

    async def recorded(self, judged: Judged) -> AuditReceipt:
        receipt = await asyncio.wrap_future(
            self._threads.submit(record_inline, self.ledger, judged)
        )
        with self._count_lock:
            self._recorded += 1
        return receipt

    @property
    def ledger_counts(self) -> tuple[int, int]:
        return self._recorded, self._recorded  # each record commits on its own

    def reload(self, policy_set: PolicySet | None = None) -> tuple[str, PolicySet]:
        with self._reload_lock:
            previous = self.policy_set.revision
            policy_set = policy_set or load_policy_set(self.policy_dir)
            built: list[Judge] = []
            try:
                for _ in range(self.pool.size):
                    engine = new_engine(self.settings, policy_set)
                    built.append(Judge(engine, self._schemas, self._gates))
            except BaseException:
                for judge in built:
                    judge.engine.close()  # type: ignore[attr-defined]
                raise
            self.pool.replace(built)
            return previous, policy_set

    async def check(self) -> None:
        """The pool always holds at least one judge (JudgePool refuses none): ready."""

    def close(self) -> None:
        self._threads.shutdown(wait=True)
        self.pool.close()
