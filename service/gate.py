"""The decision path: input document -> validation -> OPA -> decision check -> audit record.

Plain Python with no web framework, so the CLI, the HTTP app and the benchmarks share it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from service.canonical import canonical_members, sha256_digest
from service.decision import (
    AuditReceipt,
    Caller,
    Decision,
    ModelRef,
    Reason,
    check_policy_result,
    engine_failure_reason,
    evidence_note_warnings,
    evidence_reasons,
    registry_missing_reasons,
)
from service.engine.base import PolicyEngine
from service.errors import PolicyEngineUnavailable, UsageError
from service.gates import GATES, Outcome
from service.schemas import SchemaSet

# The parts of the input document that are evidence; each gets its own digest in the record.
EVIDENCE_KEYS = (
    "model_card",
    "metrics",
    "baseline",
    "lineage",
    "snapshots",
    "history",
    "approvals",
    "waivers",
)


class DecisionLedger(Protocol):
    def record(
        self, decision: Decision, input_doc: Mapping[str, Any], *, canonical: bytes | None = None
    ) -> AuditReceipt:
        """Durably store the decision and its input; raise AuditWriteFailed if that fails.

        `canonical`, when given, is the input's canonical JSON, already encoded by the caller.
        """
        ...


class Gatekeeper:
    """Answers gate requests with the given engine, schemas and ledger."""

    def __init__(
        self, engine: PolicyEngine, schemas: SchemaSet, ledger: DecisionLedger | None = None
    ) -> None:
        self.engine = engine
        self.schemas = schemas
        self.ledger = ledger

    def evaluate(self, input_doc: Mapping[str, Any]) -> Decision:
        """The decision for this input, without recording it (replay, benchmarks)."""
        return self.judge(input_doc)[0]

    def decide(self, input_doc: Mapping[str, Any]) -> Decision:
        """Evaluate, then record; the decision leaves only once its audit record is durable."""
        if self.ledger is None:
            raise RuntimeError("Gatekeeper.decide needs a ledger; use evaluate() to only evaluate")
        decision, canonical = self.judge(input_doc)
        decision.audit = self.ledger.record(decision, input_doc, canonical=canonical)
        return decision

    def judge(self, input_doc: Mapping[str, Any]) -> tuple[Decision, bytes]:
        """The unrecorded decision and the input's canonical JSON, for a ledger elsewhere to
        record (`Ledger.record_batch`); it must not be answered before that."""
        result, reasons = self._policy_result(input_doc)
        return _judged(input_doc, result, reasons, self.engine.policy_set.revision)

    def _policy_result(self, input_doc: Mapping[str, Any]) -> tuple[dict[str, Any], list[Reason]]:
        """The policy's decision, or the reasons the gate must deny whatever the policy says."""
        gate = str(input_doc.get("gate"))
        if gate not in GATES:
            raise UsageError(f"unknown gate {gate!r}; expected one of {', '.join(GATES)}")
        violations = self.schemas.violations("gate_input", input_doc)
        try:
            raw = self.engine.evaluate(gate, input_doc)
        except PolicyEngineUnavailable as exc:
            if violations:  # e.g. a timestamp OPA cannot parse: the evidence is at fault
                return {}, evidence_reasons(violations)
            return {}, [engine_failure_reason(exc.message)]
        has_policy = raw is not None or self.engine.policy_set.defines_package(f"mlgate.{gate}")
        result, problems = check_policy_result(gate, raw, self.schemas, gate_has_policy=has_policy)
        missing = registry_missing_reasons(input_doc)
        if violations or missing:
            # Invalid evidence denies; the policy's own reasons are added so that one run
            # lists everything to fix, but they cannot lift the deny. A malformed policy
            # result here is most likely the malformed input's doing, so it is not reported.
            return {}, [*missing, *evidence_reasons(violations), *_reasons_of(result)]
        return result, problems


def engine_failure_judgement(
    input_doc: Mapping[str, Any], revision: str, message: str
) -> tuple[Decision, bytes]:
    """A deny saying the engine could not decide (it failed or did not answer in time), judged
    without it, to be recorded like any other decision."""
    return _judged(input_doc, {}, [engine_failure_reason(message)], revision)


def _judged(
    input_doc: Mapping[str, Any], result: dict[str, Any], reasons: list[Reason], revision: str
) -> tuple[Decision, bytes]:
    canonical, members = canonical_members(input_doc)
    digests = Digests(
        input=sha256_digest(canonical),
        evidence={key: sha256_digest(members[key]) for key in EVIDENCE_KEYS if key in members},
    )
    return _decision(input_doc, result, reasons, revision, digests), canonical


@dataclass(frozen=True)
class Digests:
    input: str
    evidence: dict[str, str]


def _decision(
    input_doc: Mapping[str, Any],
    result: dict[str, Any],
    reasons: list[Reason],
    revision: str,
    digests: Digests,
) -> Decision:
    model = _mapping(input_doc.get("model"))
    caller = _mapping(input_doc.get("caller"))
    target = input_doc.get("target")
    outcome: Outcome
    if reasons:  # fail closed: the service's own reasons always deny
        outcome, warnings, target_version = "deny", [], None
    else:
        outcome = result["outcome"]
        reasons = [Reason.model_validate(r) for r in result["reasons"]]
        warnings = [
            *(Reason.model_validate(r) for r in result["warnings"]),
            *evidence_note_warnings(input_doc),
        ]
        target_version = result.get("target_version")
    return Decision(
        decision_id=str(uuid.uuid4()),
        gate=input_doc["gate"],
        outcome=outcome,
        reasons=reasons,
        warnings=warnings,
        model=ModelRef(
            name=str(model.get("name") or "unknown"),
            version=str(model.get("version") or "unknown"),
            artifact_digest=model.get("artifact_digest")
            if isinstance(model.get("artifact_digest"), str)
            else None,
            risk_tier=judged_risk_tier(input_doc),
        ),
        target=dict(target) if isinstance(target, Mapping) else None,
        target_version=target_version,
        caller=Caller(
            id=str(caller.get("id") or "unknown"), role=str(caller.get("role") or "unknown")
        ),
        requested_at=str(input_doc.get("requested_at") or ""),
        policy_revision=revision,
        input_digest=digests.input,
        evidence_digests=digests.evidence,
        provenance=_provenance(input_doc),
        signoff_records=_signoff_records(input_doc),
    )


TIER_RANK = {"low": 0, "medium": 1, "high": 2}


def judged_risk_tier(input_doc: Mapping[str, Any]) -> str | None:
    """The tier the policy judges under, as policies/promotion/promotion.rego computes it: the
    model card's (high when it names none), or the model's recorded tier when that is higher
    (it is never lowered). None when neither is a known tier. Recorded with the decision, so
    the next decision on the model reads it (service/evidence/risk_tier.py)."""
    card = _mapping(input_doc.get("model_card")).get("risk_tier", "high")
    floor = _mapping(input_doc.get("recorded_risk_tier")).get("tier")
    known = [tier for tier in (card, floor) if tier in TIER_RANK]
    return max(known, key=TIER_RANK.__getitem__) if known else None


def _provenance(input_doc: Mapping[str, Any]) -> dict[str, str]:
    found = input_doc.get("provenance")
    if not isinstance(found, Mapping):
        return {}
    return {str(k): str(v) for k, v in found.items()}


def _signoff_records(input_doc: Mapping[str, Any]) -> list[str]:
    """The ids of the ledger's sign-off records the input carried (approvals, then waivers)."""
    ids: list[str] = []
    for key in ("approvals", "waivers"):
        entries = input_doc.get(key)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
                ids.append(entry["id"])
    return ids


def _reasons_of(result: dict[str, Any]) -> list[Reason]:
    return [Reason.model_validate(r) for r in result.get("reasons", [])]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
