"""GET /v1/policies (revision, files, rule catalogue), GET /v1/policies/{revision} (the files
of any revision on record) and POST /v1/policies/reload (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import RedirectResponse
from starlette.convertors import Convertor, register_url_convertor

from service.api.auth import AdminCaller, AnyCaller
from service.api.jsonbody import UniqueNamesRoute
from service.api.links import READ_POLICIES, READ_POLICY_REVISION, RELOAD_POLICIES
from service.api.models import (
    AUTH_ERRORS,
    EXAMPLE_REVISION,
    GatePolicy,
    PolicyFile,
    PolicyInfo,
    PolicyRevisionFiles,
    ReloadResult,
    RuleInfo,
    problem_example,
)
from service.api.queryparams import only_query
from service.api.runtime import RuntimeDep
from service.decision.service_rules import SERVICE_RULES
from service.engine.base import decision_path
from service.engine.catalogue import RuleEntry
from service.review.revisions import check_revision_id, kept_revision

router = APIRouter(route_class=UniqueNamesRoute, tags=["policies"])


class _RevisionSegment(Convertor[str]):
    """A path segment that claims to be a revision ("sha256:..."), so that
    /v1/policies/{revision} never shadows /v1/policies/reload; the rest of its form is
    checked by the route, which names what it expected (422)."""

    regex = "sha256:[^/]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("policy_revision", _RevisionSegment())


def _rule(entry: RuleEntry) -> RuleInfo:
    return RuleInfo(
        code=entry.code,
        title=entry.title,
        description=entry.description,
        severity=entry.severity,
        controls=list(entry.controls),
        package=entry.package,
        rule=entry.rule,
        file=entry.file,
        line=entry.line,
    )


@router.get(
    "/v1/policies",
    operation_id=READ_POLICIES,
    response_model=PolicyInfo,
    summary="The policies in force: revision, files and the rule catalogue",
    description=(
        "Any role may read it. Every code a reason can carry is listed here. With `revision` "
        "naming another revision than the one in force, the answer is a redirect (307) to "
        "`GET /v1/policies/{revision}`, the files of that revision as kept in the ledger (404 "
        "there if none is on record): never the policies in force under another name."
    ),
    responses={
        **AUTH_ERRORS,
        307: {"description": "`revision` is not in force: its kept files are at the Location."},
        422: problem_example(
            422,
            "invalid_request",
            "revision: expected a policy revision, sha256: and 64 lowercase hex digits; "
            "found 'old'",
            "revision",
        ),
    },
)
def policies(
    caller: AnyCaller,
    _: Annotated[None, only_query("revision")],
    runtime: RuntimeDep,
    revision: Annotated[
        str | None,
        Query(description="The revision the caller expects; another one is redirected."),
    ] = None,
) -> Any:
    policy_set = runtime.policy_set
    if revision is not None and check_revision_id(revision) != policy_set.revision:
        # A checked revision is "sha256:" and hex digits: nothing in it needs escaping.
        return RedirectResponse(f"/v1/policies/{revision}", status_code=307)
    packages = {entry.package for entry in runtime.catalogue()}
    packages |= {_package(source) for source in policy_set.modules.values()}
    return PolicyInfo(
        revision=policy_set.revision,
        files=list(policy_set.files),
        gates=[
            GatePolicy(
                gate=gate,
                entrypoint=f"data.{decision_path(gate)}",
                has_policy=f"mlgate.{gate}" in packages,
            )
            for gate in runtime.gates
        ],
        rules=[_rule(entry) for entry in runtime.catalogue()],
        service_rules=[_rule(entry) for entry in SERVICE_RULES],
    )


@router.get(
    "/v1/policies/{revision:policy_revision}",
    operation_id=READ_POLICY_REVISION,
    response_model=PolicyRevisionFiles,
    summary="The files of a policy revision on record, exactly as kept",
    description=(
        "Any role may read it. Every revision that decided is a signed `policy_revision` "
        "record naming each file with its SHA-256 digest, and its files are kept "
        "content-addressed in the ledger's database; this answers those files, each checked "
        "against its digest (500 `ledger_tampered` if one was altered or removed). `file` "
        "narrows the answer to one path."
    ),
    responses={
        **AUTH_ERRORS,
        404: problem_example(
            404, "not_found", f"no policy revision {EXAMPLE_REVISION} is on record in the ledger"
        ),
        422: problem_example(
            422,
            "invalid_request",
            "revision: expected a policy revision, sha256: and 64 lowercase hex digits; "
            "found 'HEAD'",
            "revision",
        ),
    },
)
def policy_revision(
    caller: AnyCaller,
    _: Annotated[None, only_query("file")],
    runtime: RuntimeDep,
    revision: Annotated[str, Path(description="`sha256:<hex>`, as decisions carry it.")],
    file: Annotated[str | None, Query(description="One file's path in the revision.")] = None,
) -> PolicyRevisionFiles:
    check_revision_id(revision)
    kept = kept_revision(runtime.ledger, revision)
    files = [kept.file(file)] if file is not None else list(kept.files)
    return PolicyRevisionFiles(
        revision=kept.revision,
        record=kept.seq,
        recorded_at=kept.recorded_at,
        files=[
            PolicyFile(
                path=entry.path,
                digest=entry.digest,
                size=len(entry.content),
                content=entry.content.decode("utf-8", errors="replace"),
            )
            for entry in files
        ],
    )


def _package(source: str) -> str:
    for line in source.splitlines():
        if line.startswith("package "):
            return line.split()[1]
    return ""


@router.post(
    "/v1/policies/reload",
    operation_id=RELOAD_POLICIES,
    response_model=ReloadResult,
    summary="Load the policies from disk again (admin)",
    description=(
        "Later decisions use the new revision; decisions in flight finish on the old one. The "
        "reload is a signed record in the audit ledger (who, when, from which revision to "
        "which). If a file does not parse or compile, or the reload cannot be recorded, the "
        "running policies stay in force and the error says why."
    ),
    responses={
        **AUTH_ERRORS,
        422: problem_example(
            422, "policy_load_error", "promotion/promotion.rego:12: rego_parse_error: …"
        ),
    },
)
def reload(
    caller: AdminCaller, _: Annotated[None, only_query()], runtime: RuntimeDep
) -> ReloadResult:
    previous, policy_set, seq = runtime.reload(caller.id)
    return ReloadResult(
        revision=policy_set.revision,
        previous_revision=previous,
        files=list(policy_set.files),
        record=seq,
    )
