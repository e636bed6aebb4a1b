"""POST /v1/approvals and /v1/waivers: human sign-off, stored and fed into later decisions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter

from service.api.auth import ApproverCaller
from service.api.errors import Forbidden, InvalidField
from service.api.models import (
    AUTH_ERRORS,
    BODY_ERRORS,
    UNAVAILABLE,
    Approval,
    ApprovalRequest,
    Waiver,
    WaiverRequest,
    check_json_values,
    problem_example,
)
from service.api.runtime import RuntimeDep

router = APIRouter(tags=["sign-off"])
SELF_SIGNOFF: dict[int | str, Any] = {
    403: problem_example(
        403,
        "self_signoff",
        "m.okafor requested a decision on fraud-detector v7, so may not sign it off; another "
        "approver must",
    )
}


@router.post(
    "/v1/approvals",
    response_model=Approval,
    response_model_exclude_none=True,
    status_code=201,
    summary="Record an approval (or rejection) of a model version",
    description=(
        "The approver is the token's id, and the role must be one its token lists in "
        "`approves_as` (403 otherwise). Later decisions on this model version see the "
        "approver's latest word per role. Whoever asked for a promotion of this version may "
        "not approve it (403)."
    ),
    responses={**AUTH_ERRORS, **SELF_SIGNOFF, **BODY_ERRORS, **UNAVAILABLE},
)
def approve(caller: ApproverCaller, request: ApprovalRequest, runtime: RuntimeDep) -> Approval:
    check_json_values(request.model_dump())
    allowed = runtime.tokens.approval_roles(caller.id)
    if request.role not in allowed:
        held = ", ".join(sorted(allowed)) or "none"
        raise Forbidden(
            f"{caller.id} may not approve as {request.role!r}; the tokens file lets them approve "
            f"as: {held} (approves_as)"
        )
    stored = runtime.signoffs.add_approval(
        request.model, request.version, caller.id, request.role, request.status, request.comment
    )
    return Approval.model_validate({**stored, "model": request.model})


@router.post(
    "/v1/waivers",
    response_model=Waiver,
    status_code=201,
    summary="Record a time-boxed waiver of one rule for a model version",
    description=(
        "Until `expires_at`, the rule's violation is a warning instead of a denial for this "
        "model version (codes the policy marks non-waivable excepted). The approver is the "
        "token's id, who may not have asked for a promotion of this version (403)."
    ),
    responses={**AUTH_ERRORS, **SELF_SIGNOFF, **BODY_ERRORS, **UNAVAILABLE},
)
def waive(caller: ApproverCaller, request: WaiverRequest, runtime: RuntimeDep) -> Waiver:
    check_json_values(request.model_dump())
    codes = sorted({rule.code for rule in runtime.catalogue()})
    if request.rule_code not in codes:
        raise InvalidField(
            "rule_code",
            f"no policy rule has the code {request.rule_code}; the codes are {', '.join(codes)}",
        )
    expires = datetime.fromisoformat(request.expires_at)
    if expires <= datetime.now(UTC):
        raise InvalidField("expires_at", f"{request.expires_at} is not in the future")
    stored = runtime.signoffs.add_waiver(
        request.model,
        request.version,
        request.rule_code,
        caller.id,
        request.reason,
        request.expires_at,
    )
    return Waiver.model_validate(stored)
