"""The catalogue entries of the reasons the service gives on its own (service/decision/checks.py),
so that every code a reason can carry is catalogued: GET /v1/policies lists them beside the
policy rules, and the CI reports (service/review/) describe them."""

from __future__ import annotations

from service.decision.checks import SERVICE_CONTROLS
from service.engine.catalogue import RuleEntry

CHECKS_FILE = "service/decision/checks.py"
# The notes that only warn are low; every other service reason denies.
WARNING_NOTES = frozenset({"EVIDENCE_CONFLICT", "DEPLOYMENT_NOT_INSTALLED_BY_GATE", "ROLLED_BACK"})

_RULES = (
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
        "The policy's decision is undefined or breaks schemas/decision.schema.json; the gate "
        "denies.",
    ),
    (
        "REGISTRY_EVIDENCE_MISSING",
        "The registry holds the evidence",
        "The registry lacks a part of the version's evidence (card, metrics); the gate denies, "
        "naming the part and the forms accepted.",
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
        "The decision that installed the champion has no stored input to read its metrics "
        "from; the gate denies rather than compare against anything else.",
    ),
    (
        "EVIDENCE_CONFLICT",
        "Evidence agrees with the registry",
        "Evidence the caller sent differs from what the registry or the ledger holds (a card, "
        "metrics, lineage, the champion); the trusted source's is used, with this warning.",
    ),
    (
        "DEPLOYMENT_NOT_INSTALLED_BY_GATE",
        "The gate installed the deployed version",
        "A monitoring decision on a version no alias move of the gate put behind the stage's "
        "alias: it is judged on its snapshots, with this warning.",
    ),
    (
        "ROLLED_BACK",
        "A rolled-back version needs new allows",
        "The version was rolled back: its allows recorded before the rollback no longer count "
        "towards the stage order.",
    ),
)

SERVICE_RULES: tuple[RuleEntry, ...] = tuple(
    RuleEntry(
        code=code,
        title=title,
        description=description,
        severity="low" if code in WARNING_NOTES else "critical",
        controls=tuple(SERVICE_CONTROLS),
        package="",
        rule="service",
        file=CHECKS_FILE,
        line=0,
    )
    for code, title, description in _RULES
)
