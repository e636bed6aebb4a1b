"""POST /v1/flagger/{hook}: a Flagger webhook asks the gate behind its hook type about the
deployment its metadata names, through the same decision path as POST /v1/decisions/{gate},
and hears the answer as a status Flagger acts on (service/api/flagger.py)."""

from __future__ import annotations

import json
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from service.api.auth import caller_with_role
from service.api.decisions import decide
from service.api.errors import Unauthorized
from service.api.flagger import (
    HOLD,
    HOOKS,
    REFUSED,
    UNGATED,
    FlaggerAnswer,
    FlaggerWebhook,
    Hook,
    answer_body,
    decision_request,
    gated_hook,
    metadata_field,
)
from service.api.jsonbody import UniqueNamesRoute
from service.api.links import FLAGGER_WEBHOOK
from service.api.models import BODY_ERRORS, UNAVAILABLE, problem_example
from service.api.runtime import Runtime
from service.errors import InvalidField
from service.gates.registry import default_gates

router = APIRouter(route_class=UniqueNamesRoute, tags=["flagger"])

_HOW = (
    "Flagger sends no headers, so put a token with the gate role in the webhook's metadata "
    "as `token`"
)


async def flagger_hook(
    hook: Annotated[
        str,
        Path(
            description="The webhook's `type` in the Canary: one of "
            f"{', '.join(HOOKS)}. {', '.join(UNGATED)} are refused (422): Flagger does not "
            "act on their answers.",
            json_schema_extra={"enum": list(HOOKS)},
            examples=["confirm-rollout"],
        ),
    ],
) -> Hook:
    return gated_hook(hook)


_ANSWERS = "\n".join(
    f"| {h.name} | {h.gate} gate {default_gates()[h.gate].stage_preposition} `{h.stage_key}` | "
    f"{h.yes} | "
    f"{'rollback' if h.yes == 'allow' else 'allow'}, deny | hold |"
    for h in HOOKS.values()
)


@router.post(
    "/v1/flagger/{hook}",
    operation_id=FLAGGER_WEBHOOK,
    response_model=FlaggerAnswer,
    response_model_exclude_none=True,
    summary="Answer a Flagger webhook",
    description=(
        "Flagger's webhook payload (`name`, `namespace`, `phase`, `checksum`, `metadata`), "
        "for the hook type the path names. `metadata` names the deployment (`model`, "
        "`version`, `stage` default canary, `promote_to` default production, `enact` "
        "'true'/'false' default 'false') and carries a `gate` token as `token`, since "
        "Flagger sends no headers; any other metadata key is refused (422). The decision is "
        "made and recorded as POST /v1/decisions/{gate} makes it, with the token's holder as "
        "the caller; the token is never recorded, logged nor answered. Flagger counts only "
        "200-202 as success, so the status is the answer:\n\n"
        "| hook | asks | 200 on | 409 on | 423 on |\n| --- | --- | --- | --- | --- |\n"
        f"{_ANSWERS}\n\n"
        "The body is always the decision, with a one-line `message` first. A request that "
        "cannot be decided is never a 2xx: 401/403 (token), 404 (unknown hook), 422 (the "
        "payload, a metadata key, a phase Flagger never calls this hook type in), 503 "
        "(engine, ledger or registry unavailable)."
    ),
    responses={
        200: {"description": "The answer lets Flagger proceed (a rollback hook: roll back)."},
        REFUSED: {
            "model": FlaggerAnswer,
            "description": "The gate's outcome is not what the hook asks for (deny; rollback "
            "at a hook that asks to proceed; allow at the rollback hook).",
        },
        HOLD: {"model": FlaggerAnswer, "description": "The gate holds: wait."},
        401: problem_example(
            401, "unauthorized", "a token is required: Flagger sends no headers, so put …"
        ),
        403: problem_example(
            403, "forbidden", "role 'reporter' of token 'prometheus' may not do this; …"
        ),
        404: problem_example(404, "not_found", "no Flagger hook 'confirm'; mlgate answers …"),
        **BODY_ERRORS,
        **UNAVAILABLE,
    },
)
async def flagger_webhook(
    hook: Annotated[Hook, Depends(flagger_hook)],
    payload: FlaggerWebhook,
    http: Request,
) -> Response:
    started = time.perf_counter()
    runtime: Runtime = http.app.state.runtime
    metadata = payload.metadata
    if metadata is None:
        raise Unauthorized(f"a token is required: {_HOW}")
    caller = caller_with_role(
        runtime.tokens, metadata.token, ("gate",), sent_as="metadata.token", how=_HOW
    )
    hook.check_phase(payload.phase)
    spec = runtime.gates.spec(hook.gate)
    if spec.reads_evidence and not runtime.settings.registry_configured:
        raise InvalidField(
            "metadata.model",
            f"the {hook.gate} gate reads {metadata.model} v{metadata.version}'s evidence from "
            "the model registry, and this service has none (MLGATE_MLFLOW_TRACKING_URI); a "
            "Flagger webhook carries no evidence",
        )
    try:
        decision = await decide(
            runtime,
            hook.gate,
            decision_request(hook, metadata),
            caller,
            started,
            log_context=payload.log_context(hook.name),
        )
    except InvalidField as exc:
        problem = exc.message.removeprefix(f"{exc.field}: ")
        raise InvalidField(metadata_field(hook, exc.field), problem) from None
    body = answer_body(hook, decision, spec.stage_preposition)
    return Response(
        json.dumps(body, ensure_ascii=False).encode(),
        status_code=hook.status(decision.outcome),
        media_type="application/json",
    )
