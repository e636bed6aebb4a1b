"""GET /v1/gates/promotion/requirements: what the promotion gate needs at a tier and stage."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.api.auth import AnyCaller
from service.api.jsonbody import UniqueNamesRoute
from service.api.links import READ_REQUIREMENTS
from service.api.models import AUTH_ERRORS, problem_example
from service.api.queryparams import only_query
from service.api.runtime import RuntimeDep
from service.gates.requirements import requirements_in_force
from service.schemas import SchemaSet

router = APIRouter(route_class=UniqueNamesRoute, tags=["policies"])


@router.get(
    "/v1/gates/promotion/requirements",
    operation_id=READ_REQUIREMENTS,
    summary="What the promotion gate needs at a risk tier and target stage",
    description=(
        "Read from the policies and schemas in force: the metrics and their thresholds "
        "(floors, ceilings, regression against the champion, fairness gaps), the model card's "
        "fields and their shapes, the lineage, the stages that must have allowed the version "
        "first, the approvals needed and the roles that may give them, and who may waive "
        "what. Any role may read it; `mlgate explain promotion` prints the same."
    ),
    responses={
        **AUTH_ERRORS,
        422: problem_example(
            422, "invalid_request", "tier: expected one of high, low, medium, found 'hihg'", "tier"
        ),
    },
)
def promotion_requirements(
    caller: AnyCaller,
    _: Annotated[None, only_query("tier", "stage", "model")],
    runtime: RuntimeDep,
    tier: Annotated[str, Query(description="low, medium or high", examples=["high"])],
    stage: Annotated[str, Query(description="staging, canary or production")],
    model: Annotated[
        str | None, Query(description="a model whose own settings (`models:`) apply too")
    ] = None,
) -> dict[str, Any]:
    return requirements_in_force(
        runtime.policy_set,
        SchemaSet(runtime.settings.schema_dir),
        tier,
        stage,
        model,
        runtime.catalogue(),
    )
