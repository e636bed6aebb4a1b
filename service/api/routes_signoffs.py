"""POST /v1/approvals, /v1/waivers, DELETE /v1/waivers/{id}: human sign-off, signed into the
ledger and read back by later decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response

from service.api.auth import ApproverCaller
from service.api.errors import Forbidden
from service.api.jsonbody import UniqueNamesRoute
from service.api.links import (
    APPROVAL_LINKS,
    RECORD_APPROVAL,
    RECORD_WAIVER,
    WAIVER_LINKS,
    WITHDRAW_WAIVER,
    WITHDRAWAL_LINKS,
)
from service.api.models import (
    AUTH_ERRORS,
    BODY_ERRORS,
    UNAVAILABLE,
    Approval,
    ApprovalRequest,
    Waiver,
    WaiverRequest,
    WaiverWithdrawal,
    WaiverWithdrawalRequest,
    check_json_values,
    check_text_params,
    problem_example,
)
from service.api.recording import answered, kept_already
from service.api.runtime import RuntimeDep
from service.errors import InvalidField
from service.gates.signoffs import roles_that_count
from service.signoffs.rules import SignoffRefused, check_approval_role, check_waiver

router = APIRouter(route_class=UniqueNamesRoute, tags=["sign-off"])
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
    operation_id=RECORD_APPROVAL,
    response_model=Approval,
    response_model_exclude_none=True,
    status_code=201,
    summary="Record an approval (or rejection) of a model version",
    description=(
        "The approver is the token's id, and the role must be one its token lists in "
        "`approves_as` (403 otherwise) and one whose approval can count for the model: the "
        "policy's `approver_roles` of the tier the model was last judged under (422 naming "
        "`role` and the roles that could; before any decision, any tier's). The approval is a "
        "signed record in the audit ledger and counts only for the artifact digest it names. "
        "Later decisions on this model version see the approver's latest word per role, and "
        "name an approval they did not count, and why (SIGNOFF_NOT_APPLIED). Whoever asked "
        "for a decision on this version may not approve it (403), and an approval never "
        "counts on a request its approver made. When the approver's latest word in this role "
        "on this version and artifact is already this one (same status and comment: a retry), "
        "nothing is recorded and the answer is that approval, with 200 instead of 201."
    ),
    responses={
        201: {"links": APPROVAL_LINKS},
        **kept_already("the approver's latest word, the same as this one,", Approval),
        **AUTH_ERRORS,
        **SELF_SIGNOFF,
        **BODY_ERRORS,
        **UNAVAILABLE,
    },
)
def approve(
    caller: ApproverCaller, request: ApprovalRequest, runtime: RuntimeDep, response: Response
) -> Approval:
    check_json_values(request.model_dump())
    allowed = runtime.tokens.approval_roles(caller.id)
    if request.role not in allowed:
        held = ", ".join(sorted(allowed)) or "none"
        raise Forbidden(
            f"{caller.id} may not approve as {request.role!r}; the tokens file lets them approve "
            f"as: {held} (approves_as)"
        )
    may_sign = roles_that_count(
        runtime.policy,
        runtime.ledger,
        model=request.model,
        version=request.version,
        artifact_digest=request.artifact_digest,
    )
    try:
        check_approval_role(may_sign, request.role)
    except SignoffRefused as exc:
        raise InvalidField(exc.field, exc.problem) from None
    stored = runtime.signoffs.approve(
        model=request.model,
        version=request.version,
        artifact_digest=request.artifact_digest,
        approver=caller.id,
        role=request.role,
        status=request.status,
        comment=request.comment,
    )
    return Approval.model_validate(answered(stored, response))


@router.post(
    "/v1/waivers",
    operation_id=RECORD_WAIVER,
    response_model=Waiver,
    status_code=201,
    summary="Record a time-boxed waiver of one rule for a model version",
    description=(
        "Until `expires_at`, the rule's violation is a warning instead of a denial for this "
        "model version and artifact. Refused (422): an unknown code, one that is no "
        "promotion denial (a hold, a warning, another gate's rule) or is non-waivable, a role "
        "that could never waive the code for the model (the policy's waivers.roles of the "
        "code, else the approver_roles of the tier the model was last judged under; the "
        "message names the roles that could) or that the token does not hold, an expiry in "
        "the past or past waivers.max_days (default 90). The approver is the token's id, who "
        "may not have asked for a decision on this version (403); a waiver never counts on a "
        "request its approver made. The waiver is a signed record in the audit ledger. When "
        "a waiver the same in every field is in force on the version (not withdrawn: a "
        "retry), nothing is recorded and the answer is that waiver, with 200 instead of 201."
    ),
    responses={
        201: {"links": WAIVER_LINKS},
        **kept_already("the waiver in force the same as this one", Waiver),
        **AUTH_ERRORS,
        **SELF_SIGNOFF,
        **BODY_ERRORS,
        **UNAVAILABLE,
    },
)
def waive(
    caller: ApproverCaller, request: WaiverRequest, runtime: RuntimeDep, response: Response
) -> Waiver:
    check_json_values(request.model_dump())
    try:
        expires_at = datetime.fromisoformat(request.expires_at)
    except ValueError:  # RFC 3339 allows a leap second; Python's clock has none
        raise InvalidField(
            "expires_at", f"{request.expires_at} is not a time this service can compare"
        ) from None
    may_sign = roles_that_count(
        runtime.policy,
        runtime.ledger,
        model=request.model,
        version=request.version,
        artifact_digest=request.artifact_digest,
        rule_code=request.rule_code,
    )
    try:
        check_waiver(
            runtime.policy_set.config,
            rules=runtime.catalogue(),
            rule_code=request.rule_code,
            role=request.role,
            held_roles=runtime.tokens.approval_roles(caller.id),
            may_sign=may_sign,
            expires_at=expires_at,
        )
    except SignoffRefused as exc:
        raise InvalidField(exc.field, exc.problem) from None
    stored = runtime.signoffs.waive(
        model=request.model,
        version=request.version,
        artifact_digest=request.artifact_digest,
        rule_code=request.rule_code,
        approved_by=caller.id,
        role=request.role,
        reason=request.reason,
        expires_at=request.expires_at,
    )
    return Waiver.model_validate(answered(stored, response))


@router.delete(
    "/v1/waivers/{waiver_id}",
    operation_id=WITHDRAW_WAIVER,
    response_model=WaiverWithdrawal,
    response_model_exclude_none=True,
    status_code=201,
    summary="Withdraw a waiver",
    description=(
        "From now on the waiver counts for nothing, and decisions on the version name it as "
        "withdrawn (SIGNOFF_NOT_APPLIED). Its approver may withdraw it, and so may an "
        "approver holding a role that may waive its code for the model (403 for anyone "
        "else). The withdrawal is a signed record in the audit ledger naming who withdrew it "
        "and why; the answer is that record, with 201. A waiver is withdrawn once: "
        "withdrawing it again records nothing and answers the first withdrawal (who withdrew "
        "it, when, and its record), with 200."
    ),
    responses={
        201: {"links": WITHDRAWAL_LINKS},
        **kept_already("the waiver's first withdrawal", WaiverWithdrawal),
        **AUTH_ERRORS,
        404: problem_example(404, "not_found", "no waiver '6d0e2b1a-…' in the SQLite ledger …"),
        **BODY_ERRORS,
        **UNAVAILABLE,
    },
)
def withdraw(
    caller: ApproverCaller,
    waiver_id: str,
    request: WaiverWithdrawalRequest,
    runtime: RuntimeDep,
    response: Response,
) -> WaiverWithdrawal:
    check_text_params(waiver_id=waiver_id)
    check_json_values(request.model_dump())
    waiver = runtime.signoffs.waiver(waiver_id)
    may_waive = roles_that_count(
        runtime.policy,
        runtime.ledger,
        model=str(waiver["model"]),
        version=str(waiver["version"]),
        artifact_digest=waiver.get("artifact_digest"),
        rule_code=str(waiver["rule_code"]),
    ).waiver[str(waiver["rule_code"])]
    if caller.id != waiver["approved_by"] and not may_waive & runtime.tokens.approval_roles(
        caller.id
    ):
        raise Forbidden(
            f"{caller.id} may not withdraw waiver {waiver_id}: only its approver "
            f"({waiver['approved_by']}) or an approver who may waive {waiver['rule_code']} "
            f"({', '.join(sorted(may_waive)) or 'no role'}) can"
        )
    stored = runtime.signoffs.withdraw(waiver_id, caller.id, request.reason)
    return WaiverWithdrawal.model_validate(answered(stored, response))
