"""GET /v1/policies (revision, files, rule catalogue) and POST /v1/policies/reload (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from service.api.auth import AdminCaller, AnyCaller
from service.api.links import READ_POLICIES, RELOAD_POLICIES
from service.api.models import (
    AUTH_ERRORS,
    GatePolicy,
    PolicyInfo,
    ReloadResult,
    RuleInfo,
    problem_example,
)
from service.api.queryparams import UNKNOWN_QUERY, only_query
from service.api.runtime import RuntimeDep
from service.decision.service_rules import SERVICE_RULES
from service.engine.base import decision_path
from service.engine.catalogue import RuleEntry

router = APIRouter(tags=["policies"])


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
    description="Any role may read it. Every code a reason can carry is listed here.",
    responses={**AUTH_ERRORS, **UNKNOWN_QUERY},
)
def policies(
    caller: AnyCaller, _: Annotated[None, only_query()], runtime: RuntimeDep
) -> PolicyInfo:
    policy_set = runtime.policy_set
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
