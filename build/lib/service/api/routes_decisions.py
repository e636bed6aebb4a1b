"""POST /v1/decisions/{gate}: parse the request, run the decision path, answer its decision."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response

from service.api.auth import GateCaller
from service.api.limits import check_limits
from service.api.links import DECIDE, DECISION_LINKS
from service.api.logs import decision_log
from service.api.models import (
    AUTH_ERRORS,
    BODY_ERRORS,
    EXAMPLE_DECISION,
    UNAVAILABLE,
    DecisionRequest,
    check_json_values,
    problem_example,
)
from service.api.runtime import Runtime
from service.decision.model import Caller, DecisionAnswer
from service.decision.pipeline import run
from service.decision.request import GateRequest
from service.errors import AuditWriteFailed, InvalidField
from service.gates.registry import default_gates

router = APIRouter(tags=["decisions"])


async def known_gate(
    http: Request,
    gate: Annotated[
        str, Path(description=f"One of: {', '.join(default_gates())}.", examples=["promotion"])
    ],
) -> str:
    runtime: Runtime = http.app.state.runtime
    runtime.gates.spec(gate)  # NotFound naming the gates there are
    return gate


@router.post(
    "/v1/decisions/{gate}",
    operation_id=DECIDE,
    response_model=DecisionAnswer,
    response_model_exclude_none=True,
    summary="Ask a gate for a decision",
    description=(
        "Judges the evidence under the current policies and records the decision in the audit "
        "ledger before answering. The status is 200 whatever the outcome: branch on `outcome` "
        "(allow, hold, deny, rollback). Evidence that breaks its schema is a deny with reasons, "
        "not an error. Approvals and waivers come only from the sign-off records for this "
        "model version and artifact, and history only from the ledger's earlier decisions: a "
        "request carrying any of them is a 422. The risk tier is the model card's. The caller "
        "recorded is the token's id."
    ),
    responses={
        200: {
            "content": {"application/json": {"example": EXAMPLE_DECISION}},
            "links": DECISION_LINKS,
        },
        **AUTH_ERRORS,
        404: problem_example(404, "not_found", "no gate 'shipping'; the gates are promotion, …"),
        **BODY_ERRORS,
        **UNAVAILABLE,
    },
)
async def decide(
    caller: GateCaller,
    gate: Annotated[str, Depends(known_gate)],
    request: DecisionRequest,
    http: Request,
) -> Response:
    # Already a checked Decision: serialised once rather than validated again by FastAPI.
    body = await answer(http.app.state.runtime, gate, request, caller, time.perf_counter())
    return Response(body, media_type="application/json")


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

    Shared by the route above and by DecisionFastPath (service/api/fastpath.py), which serves
    the requests that need none of the framework's checks.
    """
    evidence = request.evidence.documents() if request.evidence is not None else {}
    # The evidence as parsed, not dumped again: only it can hold NaN; the typed fields can
    # hold unpaired surrogates.
    fields = request.model_dump(exclude_unset=True, exclude={"evidence"})
    check_json_values({**fields, "evidence": evidence})
    check_limits(evidence)
    model = request.model.model_dump(exclude_none=True) if request.model else None
    spec = runtime.gates.spec(gate)
    registry = runtime.settings.has_registry and request.model is not None and spec.reads_evidence
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
    if request.enact and not (runtime.settings.has_registry and request.model is not None):
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
        },
    )
    return decision.model_dump_json(exclude_none=True).encode()
