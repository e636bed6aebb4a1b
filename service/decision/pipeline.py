"""THE decision path: gather -> judge -> record -> enact, written once for every entry point (the
HTTP route and its fast path, `mlgate decide`, `mlgate demo`). It names no gate: the request's
gate is looked up in the registry of gate specs it is handed, and the spec says which evidence
sources to read, which schema the input must match and what to enact.

Where the steps run is not its business: a `Placement` judges (here, on a thread, or in a
decision worker process) and records (the ledger inline, or the ledger writer process)
(service/execution/). The sequence and its guarantees are here: nothing is answered before its
record is durable, and nothing is enacted before that either.

Evidence is gathered in the spec's order of sources, after the request's own documents
(service/evidence/base.py says who may assert what); typically: the model registry, when the
request asks for it (its documents first, the caller's adding what it lacks); the sign-off
records; the ledger's earlier decisions (history, requesters, the recorded risk tier).
Gathering only reads. The input document records where each part came from (`provenance`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol

from service.decision.gatespec import GateRegistry, GateSpec
from service.decision.judge import Judged
from service.decision.model import AuditReceipt, DecisionAnswer, answered
from service.decision.request import GateRequest
from service.engine.policyset import PolicySet
from service.errors import UsageError
from service.evidence.base import RECORDED_ONLY, TRUSTED_FILE
from service.evidence.context import EvidenceContext
from service.evidence.gathered import Gathered
from service.evidence.inputdoc import assemble


class Placement(Protocol):
    """Where the path's steps run: judge a request (gather included) and record a judgement."""

    @property
    def policy_set(self) -> PolicySet:
        """The policy set in force (its data is what effects read, e.g. the stage aliases)."""
        ...

    async def judged(self, request: GateRequest) -> Judged:
        """Gather the request's evidence and judge it. A placement may record the judgement
        on the way (a decision worker hands it straight to the ledger writer); either way
        nothing is answered before recorded() has given its receipt."""
        ...

    async def recorded(self, judged: Judged) -> AuditReceipt:
        """Record the judgement durably (AuditWriteFailed if that fails)."""
        ...


def gather(
    request: GateRequest,
    spec: GateSpec,
    context: EvidenceContext | None,
    config: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The input document for `request`: the request's documents, then each of the spec's
    sources in order (none when `context` is None), and the provenance of every part.
    `config` is data.mlgate.config, which sources may read (the stage aliases).

    Raises InvalidField for a model name not in the one form (service/modelname.py),
    CallerMayNotAssert for an untrusted request that carries approvals, waivers or
    history; the sources' own errors (NotFound or RegistryUnavailable when the registry is
    asked for a version it cannot give). Reads only."""
    request.refuse_lookalike_name()
    request.refuse_recorded_only()
    gathered = Gathered(
        documents=dict(request.evidence),
        provenance={
            key: TRUSTED_FILE if key in RECORDED_ONLY else request.source
            for key in request.evidence
        },
        model=dict(request.model or {}),
        target=request.target,
        caller_source=request.source,
        from_registry=request.registry,
        config=config or {},
        enact=request.enact,
        trigger=request.trigger,
    )
    if context is not None:
        for source in spec.sources:
            gathered = gathered.with_part(source.read(gathered, context))
    doc = assemble(
        request.gate,
        gathered.documents,
        caller=request.caller,
        target=request.target,
        model=gathered.model or None,
        requested_at=request.requested_at,
    )
    if gathered.notes:
        doc["evidence_notes"] = [dict(note) for note in gathered.notes]
    doc["provenance"] = dict(gathered.provenance)
    return doc


async def run(
    request: GateRequest,
    gates: GateRegistry,
    placement: Placement,
    context: EvidenceContext | None,
) -> DecisionAnswer:
    """The whole path for one request: check it against its gate's spec, gather and judge
    (placed), record (placed), then, when the request asks and only after the record is
    durable, run the gate's effect and the request it triggers (`follow_up`: monitoring's
    rollback asks the rollback gate, whose answer is `triggered`). The answer is composed
    from these values.

    Raises NotFound (unknown gate), InvalidField (a request the gate cannot judge),
    AuditWriteFailed (nothing may be answered), and what gathering raises."""
    spec = gates.spec(request.gate)
    spec.check(request)
    if request.enact and context is None:
        raise UsageError("enact needs a ledger and a model registry to act on")
    judged = await placement.judged(request)
    receipt = await placement.recorded(judged)
    if not request.enact or context is None:
        return answered(judged.decision, receipt)
    enactment = None
    if spec.effect is not None:
        enactment = await asyncio.to_thread(
            spec.effect, judged.decision, receipt, context, placement.policy_set.config
        )
    follow_up = spec.follow_up(judged.decision, request) if spec.follow_up else None
    triggered = await run(follow_up, gates, placement, context) if follow_up else None
    return answered(judged.decision, receipt, enactment, triggered)
