"""Liveness, readiness and Prometheus metrics; open to probes and scrapers without a token
(/readyz says why a check fails only to a token's holder)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from service.api.auth import MaybeCaller
from service.api.jsonbody import UniqueNamesRoute
from service.api.links import HEALTHZ, METRICS, READYZ
from service.api.models import Health, Readiness
from service.api.readiness_log import OK
from service.api.runtime import RuntimeDep
from service.engine.factory import check_engine
from service.errors import MlgateError

# What a caller without a token is told of a failing check.
UNAVAILABLE = "unavailable"

router = APIRouter(route_class=UniqueNamesRoute, tags=["operations"])


@router.get("/healthz", operation_id=HEALTHZ, response_model=Health, summary="The process is up")
def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    operation_id=READYZ,
    response_model=Readiness,
    response_model_exclude_none=True,
    summary="Ready to decide: policies loaded, the ledger writable, the tokens file readable "
    "(why not: to a token's holder)",
    description=(
        "Open to probes without a token: the status code (200 ready, 503 not), the policy "
        "revision and each check, `ok` or `unavailable`. Why a check fails is given only to "
        "the holder of a valid token of any role (an invalid token is treated as none, not "
        "refused), since a library's message can name the database server or what the "
        "policy engine said; the service's log has each reason, once per change "
        "(`readiness_check_failed`)."
    ),
    responses={
        503: {
            "model": Readiness,
            "description": "A dependency is not ready; `checks` says which, and with a token why.",
        }
    },
    # The token is optional: a probe sends none (FastAPI appends this to the bearer scheme).
    openapi_extra={"security": [{}]},
)
async def readyz(runtime: RuntimeDep, caller: MaybeCaller) -> Response:
    checks = {"engine": OK, "ledger": OK, "tokens": OK}
    revision = runtime.policy_set.revision
    try:
        await runtime.decider.check()
        # With an OPA server: that it serves the revision we hold, or nothing is allowed.
        await asyncio.to_thread(check_engine, runtime.settings, runtime.policy_set)
    except MlgateError as exc:
        checks["engine"] = exc.message
    except TimeoutError:
        checks["engine"] = "no decision worker answered within 10 s"
    try:
        await asyncio.to_thread(runtime.write_health.check, runtime.ledger)
    except MlgateError as exc:
        checks["ledger"] = exc.message
    except Exception as exc:
        checks["ledger"] = f"{type(exc).__name__}: {exc}"
    try:
        runtime.tokens.check()
    except MlgateError as exc:
        checks["tokens"] = exc.message
    runtime.readiness_log.note(checks)
    ready = all(value == OK for value in checks.values())
    if caller is None:
        shown = {name: OK if why == OK else UNAVAILABLE for name, why in checks.items()}
    else:
        shown = {name: runtime.private_paths.redact(why) for name, why in checks.items()}
    body = Readiness(
        status="ready" if ready else "unavailable", checks=shown, policy_revision=revision
    )
    return JSONResponse(body.model_dump(exclude_none=True), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    operation_id=METRICS,
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format.",
            "content": {
                "text/plain": {
                    "schema": {"type": "string"},
                    "example": 'mlgate_decisions_total{gate="promotion",outcome="allow"} 42.0\n',
                }
            },
        }
    },
)
def metrics(runtime: RuntimeDep) -> Response:
    return Response(runtime.metrics.exposition(), media_type=runtime.metrics.content_type)
