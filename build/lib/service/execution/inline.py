"""The path placed in the calling thread: gather and judge here, record in the ledger here.
Local CLI mode and `mlgate demo` run decisions this way."""

from __future__ import annotations

import asyncio
from typing import Any

from service.audit.ledger import Ledger
from service.decision.gatespec import GateRegistry
from service.decision.judge import Judge, Judged
from service.decision.model import AuditReceipt, DecisionAnswer
from service.decision.pipeline import gather, run
from service.decision.request import GateRequest
from service.engine.policyset import PolicySet
from service.evidence.context import EvidenceContext


def judge_request(judge: Judge, request: GateRequest, context: EvidenceContext | None) -> Judged:
    """Gather the request's evidence under its gate's spec and judge it, on this thread."""
    spec = judge.gates.spec(request.gate)
    return judge.judge(gather(request, spec, context, judge.engine.policy_set.config))


def record_inline(ledger: Ledger, judged: Judged) -> AuditReceipt:
    """Record one judgement in `ledger` on this thread; AuditWriteFailed if it is not durable."""
    return ledger.record(judged.record())


class InlinePlacement:
    """Judge and record on the calling thread, with one judge and one ledger."""

    def __init__(self, judge: Judge, ledger: Ledger, context: EvidenceContext | None) -> None:
        self.judge = judge
        self.ledger = ledger
        self.context = context

    @property
    def policy_set(self) -> PolicySet:
        return self.judge.engine.policy_set

    async def judged(self, request: GateRequest) -> Judged:
        return judge_request(self.judge, request, self.context)

    async def recorded(self, judged: Judged) -> AuditReceipt:
        return record_inline(self.ledger, judged)


class LocalPath:
    """The decision path of one process, run to the end for each request (local CLI mode)."""

    def __init__(self, judge: Judge, ledger: Ledger, context: EvidenceContext) -> None:
        self.placement = InlinePlacement(judge, ledger, context)
        self.context = context

    @property
    def judge(self) -> Judge:
        return self.placement.judge

    @property
    def ledger(self) -> Ledger:
        return self.placement.ledger

    @property
    def gates(self) -> GateRegistry:
        return self.placement.judge.gates

    @property
    def policy_set(self) -> PolicySet:
        return self.placement.policy_set

    def gather(self, request: GateRequest) -> dict[str, Any]:
        """The input document the request would be judged on (reads only)."""
        spec = self.gates.spec(request.gate)
        return gather(request, spec, self.context, self.policy_set.config)

    def decide(self, request: GateRequest) -> DecisionAnswer:
        """Gather, judge, record and, if the request asks, enact: the recorded answer."""
        return asyncio.run(run(request, self.gates, self.placement, self.context))
