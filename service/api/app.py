"""The FastAPI application: its components, built once per app, and the routers that use them."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from service.api import errors
from service.api.auth import TokenTable
from service.api.bodylimit import BodyLimit
from service.api.fastpath import DecisionFastPath
from service.api.metrics import Metrics
from service.api.readiness import WriteHealth
from service.api.runtime import Runtime
from service.audit.ledger import open_ledger
from service.decision.gatespec import GateRegistry
from service.decision.judge import Judge
from service.engine.factory import new_engine
from service.engine.policyset import load_policy_set
from service.errors import MlgateError
from service.evidence.context import EvidenceContext
from service.execution.processes import ProcessDecider
from service.execution.threads import Decider, ThreadDecider
from service.gates.registry import default_gates
from service.review.revisions import keep_revision
from service.schemas import default_schemas
from service.settings import Settings
from service.signoffs.book import SignoffBook

DESCRIPTION = """\
Policy-as-code gates for ML model deployments. Ask a gate for a decision with the evidence
inline; every decision is signed into the audit ledger before it is answered.

Every endpoint under /v1 needs `Authorization: Bearer <token>` (but the Flagger webhook, which
takes its token in the payload's metadata, since Flagger sends no headers); the token's role
decides what it may do: `gate` asks for decisions, `approver` records approvals and waivers,
`auditor` reads decisions and the audit trail, `admin` reads them too and reloads policies.
Errors are JSON problems: `{"error": code, "message": text, "field": where}`.
"""
# One OPA instance evaluates one input at a time; more instances than cores only add memory.
MAX_ENGINES = 4
IDLE_CHECKPOINT_SECONDS = 60.0


def create_app(
    settings: Settings,
    *,
    engines: int | None = None,
    workers: int = 0,
    gates: GateRegistry | None = None,
) -> FastAPI:
    """The app over `settings`, answering `gates` (default: every gate mlgate ships).

    Decisions run in this process on `engines` OPA instances, or, with `workers`, in that many
    worker processes, each with its own engine, and one ledger writer process that records
    them in batches.
    """
    gates = gates or default_gates()
    owned: list[Any] = []
    ledger = open_ledger(settings)
    owned.append(ledger)
    signoffs = SignoffBook(ledger)
    context = EvidenceContext(ledger, settings)
    decider: Decider
    if workers > 0:
        decider = ProcessDecider(settings, workers, gates)
    else:
        policy_set = load_policy_set(settings.policy_dir)
        size = engines or min(MAX_ENGINES, os.cpu_count() or 1)
        judges = [
            Judge(new_engine(settings, policy_set), default_schemas(), gates) for _ in range(size)
        ]
        decider = ThreadDecider(judges, ledger, context, settings.policy_dir, settings)
    try:
        # No policy decides without a signed record of its files (a new revision is archived).
        keep_revision(ledger, decider.policy_set)
    except BaseException:
        decider.close()
        ledger.close()
        raise
    runtime = Runtime(
        settings=settings,
        decider=decider,
        gates=gates,
        ledger=ledger,
        signoffs=signoffs,
        context=context,
        tokens=TokenTable(settings.resolved_tokens_file),
        metrics=Metrics(lambda: decider.ledger_counts),
        write_health=WriteHealth(settings),
        owned=owned,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Components outlive one lifespan (test harnesses start and stop an app many times);
        # whoever created the app closes them with app.state.runtime.close().
        checkpoints = asyncio.create_task(_checkpoint_when_idle(runtime))
        yield
        checkpoints.cancel()

    # /docs and /redoc from assets shipped in the fastapi-offline package, never a CDN (FastAPI's
    # https://fastapi.tiangolo.com/how-to/custom-docs-ui-assets/ recipe, packaged); and no
    # online validator badge (swagger-ui's validatorUrl: null turns it off, per
    # https://github.com/swagger-api/swagger-ui/blob/master/docs/usage/configuration.md).
    app = FastAPIOffline(
        title="mlgate",
        version="1",
        summary="Policy-as-code gates for ML model deployments",
        description=DESCRIPTION,
        lifespan=lifespan,
        swagger_ui_parameters={"validatorUrl": None},
    )
    app.state.runtime = runtime
    errors.install(app)
    # The last one added runs first: BodyLimit refuses oversized bodies before the fast path.
    if settings.fast_path:
        app.add_middleware(DecisionFastPath, runtime=runtime)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)

    from service.api import (
        page,
        routes_audit,
        routes_decisions,
        routes_deployments,
        routes_flagger,
        routes_health,
        routes_policies,
        routes_replay,
        routes_requirements,
        routes_signoffs,
        routes_snapshots,
        routes_tiers,
        routes_verification,
    )

    for module in (
        routes_decisions,
        routes_flagger,
        routes_audit,
        routes_verification,
        routes_deployments,
        routes_signoffs,
        routes_tiers,
        routes_snapshots,
        routes_policies,
        routes_replay,
        routes_requirements,
        routes_health,
    ):
        app.include_router(module.router)
    page.install(app, runtime)
    return app


async def _checkpoint_when_idle(runtime: Runtime) -> None:
    """Sign a checkpoint over the newest records every so often, so that a verifier holding it
    notices a removed tail even when fewer than checkpoint_every records came since the last."""
    log = logging.getLogger("mlgate.audit")
    while True:
        await asyncio.sleep(IDLE_CHECKPOINT_SECONDS)
        try:
            await asyncio.to_thread(runtime.ledger.checkpoint_if_behind)
        except MlgateError as exc:
            log.warning(
                "checkpoint failed", extra={"event": "checkpoint_failed", "error": exc.message}
            )
