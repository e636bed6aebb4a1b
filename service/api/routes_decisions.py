"""POST /v1/decisions/{gate}: parse the request, run the decision path, answer its decision."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from service.api.auth import GateCaller
from service.api.decisions import answer
from service.api.jsonbody import UniqueNamesRoute
from service.api.links import DECIDE, DECISION_LINKS
from service.api.models import (
    AUTH_ERRORS,
    BODY_ERRORS,
    EXAMPLE_DECISION,
    UNAVAILABLE,
    DecisionRequest,
    problem_example,
)
from service.api.runtime import Runtime
from service.decision.model import DecisionAnswer
from service.gates.registry import default_gates

router = APIRouter(route_class=UniqueNamesRoute, tags=["decisions"])


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
