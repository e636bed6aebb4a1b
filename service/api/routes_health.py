"""Liveness, readiness and Prometheus metrics; open to probes and scrapers without a token."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from service.api.jsonbody import UniqueNamesRoute
from service.api.links import HEALTHZ, METRICS, READYZ
from service.api.models import Health, Readiness
from service.api.runtime import RuntimeDep
from service.engine.factory import check_engine
from service.errors import MlgateError

router = APIRouter(route_class=UniqueNamesRoute, tags=["operations"])


@router.get("/healthz", operation_id=HEALTHZ, response_model=Health, summary="The process is up")
def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    operation_id=READYZ,
    response_model=Readiness,
    response_model_exclude_none=True,
    summary="Ready to decide: policies loaded, the ledger writable, the tokens file readable",
    responses={
        503: {
            "model": Readiness,
            "description": "A dependency is not ready; `checks` says which and why.",
        }
    },
)
async def readyz(runtime: RuntimeDep) -> Response:
    checks = {"engine": "ok", "ledger": "ok", "tokens": "ok"}
    revision = runtime.policy_set.revision
    try:
        await runtime.decider.check()
        # With an OPA server: that it serves the revision we hold, or nothing is allowed.
        await asyncio.to_thread(check_engine, runtime.settings, runtime.policy_set)
    except MlgateError as exc:
        checks["engine"] = runtime.private_paths.redact(exc.message)
    except TimeoutError:
        checks["engine"] = "no decision worker answered within 10 s"
    try:
        await asyncio.to_thread(runtime.write_health.check, runtime.ledger)
    except MlgateError as exc:
        checks["ledger"] = runtime.private_paths.redact(exc.message)
    except Exception as exc:
        checks["ledger"] = runtime.private_paths.redact(f"{type(exc).__name__}: {exc}")
    try:
        runtime.tokens.check()
    except MlgateError as exc:
        checks["tokens"] = runtime.private_paths.redact(exc.message)
    ready = all(value == "ok" for value in checks.values())
    body = Readiness(
        status="ready" if ready else "unavailable", checks=checks, policy_revision=revision
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
