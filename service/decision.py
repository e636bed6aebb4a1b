"""The decision a gate gives: checked against its schema, and fail-closed when anything fails."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from service.gates import Gate, Outcome
from service.schemas import SchemaSet, Violation

# Reasons the service itself gives, when the policy cannot be asked or its answer is unusable.
SERVICE_CONTROLS = ["NIST AI RMF GOVERN 1.4", "SR 11-7 IV"]


class Reason(BaseModel):
    rule: str
    code: str
    severity: str
    message: str
    controls: list[str] = Field(default_factory=list)
    metric: str | None = None
    field: str | None = None
    actual: Any = None
    threshold: Any = None
    baseline: Any = None  # the champion's value, for checks against it (same unit as actual)
    relative_change: float | None = None  # (c - b) / |b|, signed so that positive is better
    waiver: dict[str, Any] | None = None


class ModelRef(BaseModel):
    name: str
    version: str
    artifact_digest: str | None = None
    # The tier the decision was judged under: the card's, or the model's recorded tier if that
    # is higher (service/gate.py, judged_risk_tier).
    risk_tier: str | None = None


class Caller(BaseModel):
    id: str
    role: str


class AuditReceipt(BaseModel):
    seq: int
    envelope_digest: str


class Enactment(BaseModel):
    """What `enact` did after the decision was recorded (service/enact/mlflow_alias.py)."""

    alias: str
    moved: bool
    from_version: str | None = None
    to_version: str | None = None
    record: int | None = None  # the seq of the alias_move record
    note: str


class Decision(BaseModel):
    """The answer to one gate request, as returned to the caller and recorded in the ledger."""

    decision_id: str
    gate: Gate
    outcome: Outcome
    reasons: list[Reason]
    warnings: list[Reason] = Field(default_factory=list)
    model: ModelRef
    target: dict[str, Any] | None = None
    target_version: str | None = None
    caller: Caller
    requested_at: str
    policy_revision: str
    input_digest: str
    evidence_digests: dict[str, str] = Field(default_factory=dict)
    # Where each part of the input came from (service/evidence/base.py), and the ids of the
    # sign-off records (approvals, waivers) in the ledger that the input carried.
    provenance: dict[str, str] = Field(default_factory=dict)
    signoff_records: list[str] = Field(default_factory=list)
    audit: AuditReceipt | None = None
    enactment: Enactment | None = None  # not part of the decision's record: its own record


def service_reason(code: str, message: str, *, rule: str, field: str | None = None) -> Reason:
    return Reason(
        rule=rule,
        code=code,
        severity="critical",
        message=message,
        field=field,
        controls=SERVICE_CONTROLS,
    )


def evidence_reasons(violations: list[Violation]) -> list[Reason]:
    return [
        service_reason(
            "EVIDENCE_INVALID",
            f"{v.field}: {v.problem}",
            rule="Evidence matches its schema",
            field=v.field,
        )
        for v in violations
    ]


# Notes the evidence sources leave in the input (service/evidence/registry.py), as reasons.
_NOTE_RULES = {
    "REGISTRY_EVIDENCE_MISSING": "The registry holds the evidence",
    "EVIDENCE_CONFLICT": "Evidence agrees with the registry",
    "ALIAS_MOVED_OUTSIDE_GATE": "Aliases move only through the gate",
}


def _notes(input_doc: Any, missing: bool) -> list[Reason]:
    notes = input_doc.get("evidence_notes") if isinstance(input_doc, dict) else None
    found = []
    for note in notes if isinstance(notes, list) else []:
        code = str(note.get("code"))
        if (code == "REGISTRY_EVIDENCE_MISSING") != missing:
            continue
        reason = service_reason(
            code,
            str(note.get("message")),
            rule=_NOTE_RULES.get(code, code),
            field=note.get("field"),
        )
        if not missing:
            reason.severity = "low"
        found.append(reason)
    return found


def registry_missing_reasons(input_doc: Any) -> list[Reason]:
    """What the registry lacks of a version it was asked for: each denies, naming the part and
    the forms accepted."""
    return _notes(input_doc, missing=True)


def evidence_note_warnings(input_doc: Any) -> list[Reason]:
    """Conflicts between the caller's evidence and the registry's (the registry's was used),
    and aliases moved outside the gate: warnings on the decision."""
    return _notes(input_doc, missing=False)


def engine_failure_reason(message: str) -> Reason:
    return service_reason(
        "POLICY_ENGINE_ERROR",
        f"the policy engine could not decide, so the gate denies: {message}",
        rule="Policy engine answers",
    )


def check_policy_result(
    gate: str, result: Any, schemas: SchemaSet, *, gate_has_policy: bool = True
) -> tuple[dict[str, Any], list[Reason]]:
    """The policy's decision if it is well formed; otherwise a deny with reasons saying why."""
    if result is None:
        message = (
            f"data.mlgate.{gate}.decision is undefined for this input, so the gate denies"
            if gate_has_policy
            else f"no policy is written for the {gate} gate yet (no Rego file in the policy "
            f"directory declares package mlgate.{gate}), so the gate denies"
        )
        return {}, [
            service_reason("POLICY_RESULT_INVALID", message, rule="Policy gives a decision")
        ]
    violations = schemas.violations("decision", result)
    if violations:
        return {}, [
            service_reason(
                "POLICY_RESULT_INVALID",
                f"the policy's decision is malformed ({v}), so the gate denies",
                rule="Policy gives a decision",
                field=v.field,
            )
            for v in violations
        ]
    return result, []
