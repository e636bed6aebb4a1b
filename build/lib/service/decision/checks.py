"""The reasons the service itself gives: evidence that breaks its schema, notes the evidence
sources left, an engine that could not decide, a policy result that is not a decision. Each
denies (fail closed) or, for notes that only inform, warns."""

from __future__ import annotations

from typing import Any

from service.decision.model import Reason
from service.schemas import SchemaSet, Violation

# Reasons the service itself gives, when the policy cannot be asked or its answer is unusable.
SERVICE_CONTROLS = ["NIST AI RMF GOVERN 1.4", "SR 11-7 IV"]


def service_reason(
    code: str, message: str, *, rule: str, field: str | None = None, severity: str = "critical"
) -> Reason:
    return Reason(
        rule=rule,
        code=code,
        severity=severity,
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


# Notes the evidence sources leave in the input (service/evidence/), as reasons: code -> (the
# rule's title, whether it denies). A denying note is a service reason: no waiver lifts it.
_NOTE_RULES = {
    "REGISTRY_EVIDENCE_MISSING": ("The registry holds the evidence", True),
    "RUN_NOT_FINISHED": ("The model version's run has finished", True),
    "EVIDENCE_CHANGED": ("Evidence judged before has not changed since", True),
    "BASELINE_OF_RECORD_UNREADABLE": ("The champion of record can be read back", True),
    "EVIDENCE_CONFLICT": ("Evidence agrees with the registry", False),
    "DEPLOYMENT_NOT_INSTALLED_BY_GATE": ("The gate installed the deployed version", False),
    "ROLLED_BACK": ("A rolled-back version needs new allows", False),
}


def _notes(input_doc: Any, denying: bool) -> list[Reason]:
    notes = input_doc.get("evidence_notes") if isinstance(input_doc, dict) else None
    found = []
    for note in notes if isinstance(notes, list) else []:
        code = str(note.get("code"))
        rule, denies = _NOTE_RULES.get(code, (code, True))  # an unknown note denies
        if denies != denying:
            continue
        found.append(
            service_reason(
                code,
                str(note.get("message")),
                rule=rule,
                field=note.get("field"),
                severity="critical" if denies else "low",
            )
        )
    return found


def registry_missing_reasons(input_doc: Any) -> list[Reason]:
    """What makes the gathered evidence unfit to judge: the registry lacks a part, the run has
    not finished, evidence judged before has changed. Each denies, whatever the policy says."""
    return _notes(input_doc, denying=True)


def evidence_note_warnings(input_doc: Any) -> list[Reason]:
    """Conflicts between the caller's evidence and the registry's (the registry's was used):
    warnings on the decision."""
    return _notes(input_doc, denying=False)


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
