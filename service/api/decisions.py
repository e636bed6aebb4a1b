"""The decision service of the HTTP API: a parsed request through the one decision path,
recorded, counted and logged. The decision route, its fast path (service/api/fastpath.py) and
the Flagger webhook (service/api/routes_flagger.py) all call it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from service.api.limits import check_limits
from service.api.logs import decision_log
from service.api.models import DecisionRequest, check_json_values
from service.api.runtime import Runtime
from service.decision.model import Caller, DecisionAnswer
from service.decision.pipeline import run
from service.decision.request import GateRequest
from service.errors import AuditWriteFailed, InvalidField


def _trigger(request: DecisionRequest) -> dict[str, Any] | None:
    """A person's reason for the request (the rollback gate's), or None."""
    if request.reason is None and request.to_version is None:
        return None
    return {
        "kind": "manual",
        "reason": request.reason or "",
        "decision_id": None,
        "requested_version": request.to_version,
    }


def _target(request: DecisionRequest) -> dict[str, str] | None:
    """target, or {"stage": stage} from the flat field; InvalidField when the two differ."""
    target = request.target.model_dump(exclude_none=True) if request.target else None
    if request.stage is None:
        return target
    if target is not None and target.get("stage") != request.stage:
        raise InvalidField(
            "stage", f"{request.stage!r} differs from target.stage {target.get('stage')!r}"
        )
    return {"stage": request.stage}


async def answer(
    runtime: Runtime, gate: str, request: DecisionRequest, caller: Caller, started: float
) -> bytes:
    """The decision on a parsed request, recorded, counted and logged: the JSON body to answer.

    Shared by the decision route and by DecisionFastPath (service/api/fastpath.py), which
    serves the requests that need none of the framework's checks.
    """
    decision = await decide(runtime, gate, request, caller, started)
    return decision.model_dump_json(exclude_none=True).encode()


async def decide(
    runtime: Runtime,
    gate: str,
    request: DecisionRequest,
    caller: Caller,
    started: float,
    log_context: Mapping[str, Any] | None = None,
) -> DecisionAnswer:
    """The decision on a parsed request, recorded (before it returns), counted and logged.

    `started` is the request's time.perf_counter() (for the latency logged); `log_context`
    adds fields to the decision's log line (and nowhere else): what the caller said of itself
    that the decision path has no place for, such as a Flagger canary's name and phase.

    Raises InvalidField (a request the gate cannot judge), NotFound (unknown gate, a version
    the registry lacks), AuditWriteFailed (nothing may be answered), and what the path raises.
    """
    evidence = request.evidence.documents() if request.evidence is not None else {}
    # The evidence as parsed, not dumped again: only it can hold NaN; the typed fields can
    # hold unpaired surrogates.
    fields = request.model_dump(exclude_unset=True, exclude={"evidence"})
    check_json_values({**fields, "evidence": evidence})
    check_limits(evidence)
    model = request.model.model_dump(exclude_none=True) if request.model else None
    spec = runtime.gates.spec(gate)
    registry = (
        runtime.settings.registry_configured and request.model is not None and spec.reads_evidence
    )
    gate_request = GateRequest(
        gate=gate,
        caller=caller.model_dump(),
        evidence=evidence,
        target=_target(request),
        model=model,
        registry=registry,
        enact=request.enact,
        trigger=_trigger(request),
    )
    # The gate's own checks first (the path makes them again), then this service's.
    spec.check(gate_request)
    if request.evidence is None and not registry and spec.reads_evidence:
        raise InvalidField(
            "evidence",
            "required: this service has no model registry to read evidence from "
            "(MLGATE_MLFLOW_TRACKING_URI), so the request must carry it",
        )
    if request.enact and not (runtime.settings.registry_configured and request.model is not None):
        raise InvalidField(
            "enact", "needs a model registry and a model version named in `model` to move"
        )
    try:
        decision = await run(gate_request, runtime.gates, runtime.decider, runtime.context)
    except AuditWriteFailed as exc:
        runtime.metrics.ledger_failed(gate)
        runtime.write_health.failed(exc.message)
        raise
    runtime.write_health.succeeded()
    elapsed = time.perf_counter() - started
    runtime.metrics.observe(decision, elapsed)
    decision_log.info(
        "decision",
        extra={
            "event": "decision",
            "decision_id": decision.decision_id,
            "gate": decision.gate,
            "model": decision.model.name,
            "version": decision.model.version,
            "outcome": decision.outcome,
            "latency_ms": round(elapsed * 1000, 3),
            "caller": decision.caller.id,
            "audit_seq": decision.audit.seq if decision.audit else None,
            **(log_context or {}),
        },
    )
    return decision
