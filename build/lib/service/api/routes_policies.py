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
from service.decision.checks import SERVICE_CONTROLS
from service.engine.base import decision_path
from service.engine.catalogue import RuleEntry

router = APIRouter(tags=["policies"])

# The reasons the service gives on its own (service/decision/checks.py), listed so the
# catalogue covers every code; the notes that only warn are low.
WARNING_NOTES = {"DEPLOYMENT_NOT_INSTALLED_BY_GATE", "ROLLED_BACK"}
SERVICE_RULES = [
    RuleInfo(
        code=code,
        title=title,
        description=description,
        severity="low" if code in WARNING_NOTES else "critical",
        controls=SERVICE_CONTROLS,
        rule="service",
        file="service/decision/checks.py",
        line=0,
    )
    for code, title, description in (
        (
            "EVIDENCE_INVALID",
            "Evidence matches its schema",
            "The input document breaks schemas/gate_input.schema.json; the gate denies.",
        ),
        (
            "POLICY_ENGINE_ERROR",
            "Policy engine answers",
            "The engine failed or was unreachable; the gate denies (fail closed).",
        ),
        (
            "POLICY_RESULT_INVALID",
            "Policy gives a decision",
            "The policy's decision is undefined or breaks schemas/decision.schema.json; the "
            "gate denies.",
        ),
        (
            "REGISTRY_EVIDENCE_MISSING",
            "The registry holds the evidence",
            "The registry lacks a part of the version's evidence (card, metrics); the gate "
            "denies, naming the part and the forms accepted.",
        ),
        (
            "RUN_NOT_FINISHED",
            "The model version's run has finished",
            "The version's source run is not FINISHED, so its metrics and artifacts can still "
            "change; the gate denies, naming the status.",
        ),
        (
            "EVIDENCE_CHANGED",
            "Evidence judged before has not changed since",
            "A card, metrics or lineage read from the registry differs from what an earlier "
            "decision on the same version and artifact recorded; the gate denies, naming the "
            "document and both digests. No waiver lifts it.",
        ),
        (
            "BASELINE_OF_RECORD_UNREADABLE",
            "The champion of record can be read back",
            "The decision that installed the champion has no stored input to read its "
            "metrics from; the gate denies rather than compare against anything else.",
        ),
        (
            "DEPLOYMENT_NOT_INSTALLED_BY_GATE",
            "The gate installed the deployed version",
            "A monitoring decision on a version no alias move of the gate put behind the "
            "stage's alias: it is judged on its snapshots, with this warning.",
        ),
        (
            "ROLLED_BACK",
            "A rolled-back version needs new allows",
            "The version was rolled back: its allows recorded before the rollback no longer "
            "count towards the stage order.",
        ),
    )
]


def _rule(entry: RuleEntry) -> RuleInfo:
    return RuleInfo(
        code=entry.code,
        title=entry.title,
        description=entry.description,
        severity=entry.severity,
        controls=list(entry.controls),
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
        service_rules=SERVICE_RULES,
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
