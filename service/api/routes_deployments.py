"""What went where: the alias moves the gate made, each with the decision it rests on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.api.auth import ReaderCaller
from service.api.jsonbody import UniqueNamesRoute
from service.api.links import LIST_DEPLOYMENTS
from service.api.models import AUTH_ERRORS, DATE_TIME, UNAVAILABLE, Deployments, ModelName
from service.api.queryparams import UNKNOWN_QUERY, only_query
from service.api.routes_audit import MAX_PAGE, time_bound
from service.api.runtime import RuntimeDep
from service.decision.model import Stage
from service.review.deployments import deployments

router = APIRouter(route_class=UniqueNamesRoute, tags=["audit"])


@router.get(
    "/v1/deployments",
    operation_id=LIST_DEPLOYMENTS,
    response_model=Deployments,
    summary="Deployments: each alias move the gate made, with the decision it rests on",
    description=(
        "An allow is not a deployment; an alias move is. Each row is a move that moved "
        "(an install after an allow, or a roll-back), newest first, joined with its decision "
        "(gate, outcome, caller, policy revision, reasons, warnings with their waivers) and "
        "the sign-off records that decision relied on. `stage` is the stage the decision "
        "targeted. Failed moves are in `GET /v1/models/{name}/history`."
    ),
    responses={**AUTH_ERRORS, **UNKNOWN_QUERY, **UNAVAILABLE},
)
def list_deployments(
    caller: ReaderCaller,
    _: Annotated[None, only_query("model", "stage", "since", "until", "limit")],
    runtime: RuntimeDep,
    model: Annotated[ModelName | None, Query()] = None,
    stage: Annotated[Stage | None, Query()] = None,
    since: Annotated[str | None, Query(json_schema_extra=DATE_TIME)] = None,
    until: Annotated[str | None, Query(json_schema_extra=DATE_TIME)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> Deployments:
    rows = deployments(
        runtime.ledger,
        model=model,
        stage=stage,
        since=time_bound("since", since),
        until=time_bound("until", until),
        limit=limit,
    )
    return Deployments.model_validate({"deployments": rows})
