"""POST /v1/replay (admin): recorded decisions judged again under another policy set, recording
and enacting nothing: what a policy change would flip (service/review/replay.py)."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from service.api.auth import AdminCaller
from service.api.jsonbody import UniqueNamesRoute, loads
from service.api.links import REPLAY
from service.api.models import (
    AUTH_ERRORS,
    DATE_TIME,
    ModelName,
    ReplayResult,
    ReplayRevision,
    problem_example,
)
from service.api.queryparams import UNKNOWN_QUERY, known_gate, only_query
from service.api.routes_audit import time_bound
from service.api.runtime import Runtime, RuntimeDep
from service.audit.ledger import open_ledger_reader
from service.compose import policy_judge
from service.engine.bundle import unpack_policies
from service.errors import InvalidField
from service.review.replay import ReplayFilter, replay, selected
from service.review.revisions import check_revision_id, kept_revision, restore_revision

router = APIRouter(route_class=UniqueNamesRoute, tags=["policies"])

# Judged by one worker process: the service's cores belong to the pipelines asking for decisions
# (the CLI's `mlgate replay` uses them all). At some 400 decisions a second, a minute of judging.
MAX_REPLAYED = 20_000
BUNDLE_TYPES = ("application/gzip", "application/x-gzip", "application/vnd.openpolicyagent.bundle")


@router.post(
    "/v1/replay",
    operation_id=REPLAY,
    response_model=ReplayResult,
    summary="Replay recorded decisions under other policies: what would flip (admin)",
    description=(
        "Judges the stored input of every recorded decision the query matches again, under "
        "the policies of the body, and answers what would change: outcome flips, then "
        "decisions keeping their outcome with other reasons, and the decisions that could not "
        "be replayed (their input gone or altered). Nothing is recorded or enacted. The body "
        'is either JSON `{"revision": "sha256:..."}`, a revision the ledger keeps, or a '
        "gzip-compressed tar of policies (`Content-Type: application/gzip`): an OPA bundle as "
        "`mlgate bundle build` writes it, or a policy directory. Judged by one worker process, "
        f"so as not to take the cores from decisions: at most {MAX_REPLAYED} decisions a "
        "request (narrow with `since`, `until`, `model`, `gate`); a decision taking longer "
        "than MLGATE_DECISION_TIMEOUT_SECONDS stops the worker, and it and the decisions not "
        "yet judged are reported unreplayable. `mlgate replay` uses every core."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": ReplayRevision.model_json_schema()},
                "application/gzip": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
    responses={
        **AUTH_ERRORS,
        **UNKNOWN_QUERY,
        404: problem_example(404, "not_found", "no policy revision sha256:… is on record"),
        415: problem_example(
            415,
            "unsupported_media_type",
            "expected application/json or application/gzip; found text/plain",
        ),
        422: problem_example(
            422, "policy_load_error", "promotion/promotion.rego:12: rego_parse_error: …"
        ),
    },
)
async def replay_decisions(
    caller: AdminCaller,
    _: Annotated[None, only_query("since", "until", "model", "gate")],
    runtime: RuntimeDep,
    request: Request,
    since: Annotated[str | None, Query(json_schema_extra=DATE_TIME)] = None,
    until: Annotated[str | None, Query(json_schema_extra=DATE_TIME)] = None,
    model: Annotated[ModelName | None, Query()] = None,
    gate: Annotated[str | None, Query(description="A gate this service knows.")] = None,
) -> ReplayResult:
    where = ReplayFilter(
        since=time_bound("since", since),
        until=time_bound("until", until),
        model=model,
        gate=known_gate(runtime.gates, gate),
    )
    body = await request.body()
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return await run_in_threadpool(_replayed, runtime, where, media, body)


def _replayed(runtime: Runtime, where: ReplayFilter, media: str, body: bytes) -> ReplayResult:
    records = selected(runtime.ledger, where, at_most=MAX_REPLAYED + 1)
    if len(records) > MAX_REPLAYED:
        raise InvalidField(
            "since",
            f"expected at most {MAX_REPLAYED} decisions in one replay; more match: narrow "
            "them with since, until, model or gate",
        )
    with tempfile.TemporaryDirectory(prefix="mlgate-replay-") as directory:
        policies, described = _policies(runtime, media, body, Path(directory) / "policies")
        report = replay(
            runtime.ledger,
            records,
            functools.partial(policy_judge, policies),
            reader=functools.partial(open_ledger_reader, runtime.settings),
            workers=1,
            timeout=runtime.settings.decision_timeout_seconds,
        )
    return ReplayResult.model_validate({**report.to_json(), "policies": described})


def _policies(runtime: Runtime, media: str, body: bytes, directory: Path) -> tuple[Path, str]:
    """The policy directory the body names or carries, unpacked under `directory`."""
    if media in BUNDLE_TYPES:
        return unpack_policies(body, directory), "an uploaded policy archive"
    if media != "application/json":
        raise UnsupportedBody(
            f"expected application/json (a revision) or application/gzip (a policy archive); "
            f"found {media or 'no Content-Type'}"
        )
    try:
        named = ReplayRevision.model_validate(loads(body or b"null"))
    except (ValueError, RecursionError, ValidationError):  # RecursionError: nested too deep
        raise InvalidField(
            "revision",
            f'expected a JSON object {{"revision": "sha256:<64 hex digits>"}}; found {body[:80]!r}',
        ) from None
    kept = kept_revision(runtime.ledger, check_revision_id(named.revision))
    return restore_revision(kept, directory), f"revision {kept.revision} as kept in the ledger"


class UnsupportedBody(InvalidField):
    """A body of a media type the route does not read (415)."""

    code = "unsupported_media_type"

    def __init__(self, message: str) -> None:
        super().__init__("body", message)
