"""POST /v1/tiers: a person changes a model's risk tier, up or down, as a signed ledger record
that later decisions are judged under (service/signoffs/tiers.py)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.api.auth import ApproverCaller
from service.api.jsonbody import UniqueNamesRoute
from service.api.links import RECORD_TIER_CHANGE, TIER_CHANGE_LINKS
from service.api.models import (
    AUTH_ERRORS,
    BODY_ERRORS,
    UNAVAILABLE,
    TierChange,
    TierChangeRequest,
    check_json_values,
    problem_example,
)
from service.api.recording import answered, kept_already
from service.api.runtime import RuntimeDep
from service.evidence.risk_tier import recorded_risk_tier
from service.signoffs.tiers import TierBook, check_tier_change

router = APIRouter(route_class=UniqueNamesRoute, tags=["sign-off"])


@router.post(
    "/v1/tiers",
    operation_id=RECORD_TIER_CHANGE,
    response_model=TierChange,
    status_code=201,
    summary="Change a model's risk tier, up or down",
    description=(
        "The risk tier picks the promotion thresholds. A decision on a valid model card records "
        "the tier it was judged under, and no later card may name a lower one "
        "(RISK_TIER_LOWERED). A tier change sets the model's tier of record to `tier`, in "
        "either direction: later decisions are judged under it, and a card may raise it but "
        "not lower it. Refused (422): a tier other than low, medium or high; a role that "
        "tier_changes.allowed_roles in the promotion data does not list, or that the token "
        "does not hold in approves_as. Whoever asked for a decision on the model may not "
        "change its tier (403). The change is a signed record in the audit ledger, shown in "
        "the model's history. When the tier of record already rests on a change the same as "
        "this one (tier, role, approver, reason: a retry), nothing is recorded and the answer "
        "is that change, with 200 instead of 201."
    ),
    responses={
        201: {"links": TIER_CHANGE_LINKS},
        **kept_already("the tier change in force, the same as this one,", TierChange),
        **AUTH_ERRORS,
        403: problem_example(
            403,
            "self_signoff",
            "m.okafor requested a decision on fraud-detector, so may not change its risk tier; "
            "another approver must",
        ),
        **BODY_ERRORS,
        **UNAVAILABLE,
    },
)
def change_tier(
    caller: ApproverCaller, request: TierChangeRequest, runtime: RuntimeDep, response: Response
) -> TierChange:
    check_json_values(request.model_dump())
    check_tier_change(
        runtime.policy_set.config,
        tier=request.tier,
        role=request.role,
        held_roles=runtime.tokens.approval_roles(caller.id),
    )
    stored = TierBook(runtime.ledger).change(
        model=request.model,
        tier=request.tier,
        role=request.role,
        changed_by=caller.id,
        reason=request.reason,
        previous=lambda: recorded_risk_tier(runtime.ledger, request.model),
    )
    return TierChange.model_validate(answered(stored, response))
