"""The judge: input document -> validation -> OPA -> decision check -> digests. It records
nothing (service/decision/pipeline.py hands its judgement to a recorder) and names no gate: the
input's gate is looked up in the registry it is handed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.audit.records import PendingRecord
from service.canonical import canonical_members, sha256_digest
from service.decision.checks import (
    check_policy_result,
    engine_failure_reason,
    evidence_note_warnings,
    evidence_reasons,
    registry_missing_reasons,
)
from service.decision.gatespec import GateRegistry, GateSpec
from service.decision.model import Caller, Decision, ModelRef, Outcome, Reason
from service.decision.recording import decision_record
from service.engine.base import PolicyEngine
from service.errors import PolicyEngineUnavailable
from service.record_ids import new_record_id
from service.schemas import SchemaSet

TIERS = ("low", "medium", "high")


@dataclass(frozen=True)
class Judged:
    """A judged decision and the canonical bytes of the input it was judged on: what a
    recorder signs and stores before anything is answered (picklable)."""

    decision: Decision
    canonical: bytes

    def record(self) -> PendingRecord:
        """The ledger record of this judgement (service/decision/recording.py)."""
        return decision_record(self.decision, self.canonical)


class Judge:
    """Judges input documents with one engine and the schemas, for the gates it is handed."""

    def __init__(self, engine: PolicyEngine, schemas: SchemaSet, gates: GateRegistry) -> None:
        self.engine = engine
        self.schemas = schemas
        self.gates = gates

    def evaluate(self, input_doc: Mapping[str, Any]) -> Decision:
        """The decision for this input, unrecorded (replay, benchmarks, tests)."""
        return self.judge(input_doc).decision

    def judge(self, input_doc: Mapping[str, Any]) -> Judged:
        """The unrecorded decision and the input's canonical JSON, for a recorder to record;
        it must not be answered before that. NotFound for a gate not in the registry."""
        spec = self.gates.spec(input_doc.get("gate"))
        result, reasons = self._policy_result(spec, input_doc)
        revision = self.engine.policy_set.revision
        card_names_tier = _valid_card_names_tier(self.schemas, input_doc)
        return _judged(spec, input_doc, result, reasons, revision, card_names_tier)

    def _policy_result(
        self, spec: GateSpec, input_doc: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[Reason]]:
        """The policy's decision, or the reasons the gate must deny whatever the policy says."""
        violations = self.schemas.violations(spec.input_schema, input_doc)
        try:
            raw = self.engine.evaluate(spec.name, input_doc)
        except PolicyEngineUnavailable as exc:
            if violations:  # e.g. a timestamp OPA cannot parse: the evidence is at fault
                return {}, evidence_reasons(violations)
            return {}, [engine_failure_reason(exc.message)]
        has_policy = raw is not None or self.engine.policy_set.defines_package(
            f"mlgate.{spec.name}"
        )
        result, problems = check_policy_result(
            spec.name, raw, self.schemas, gate_has_policy=has_policy
        )
        missing = registry_missing_reasons(input_doc)
        if violations or missing:
            # Invalid evidence denies; the policy's own reasons are added so that one run
            # lists everything to fix, but they cannot lift the deny. A malformed policy
            # result here is most likely the malformed input's doing, so it is not reported.
            return result, [*missing, *evidence_reasons(violations), *_reasons_of(result)]
        return result, problems


def engine_failure_judgement(
    spec: GateSpec, input_doc: Mapping[str, Any], revision: str, message: str
) -> Judged:
    """A deny saying the engine could not decide (it failed or did not answer in time), judged
    without it, to be recorded like any other decision."""
    return _judged(spec, input_doc, {}, [engine_failure_reason(message)], revision)


def _judged(
    spec: GateSpec,
    input_doc: Mapping[str, Any],
    result: dict[str, Any],
    reasons: list[Reason],
    revision: str,
    card_names_tier: bool = False,
) -> Judged:
    canonical, members = canonical_members(input_doc)
    evidence = {key: sha256_digest(members[key]) for key in spec.evidence_keys if key in members}
    decision = _decision(
        input_doc,
        result,
        reasons,
        revision,
        (sha256_digest(canonical), evidence),
        card_names_tier,
    )
    return Judged(decision, canonical)


def _valid_card_names_tier(schemas: SchemaSet, input_doc: Mapping[str, Any]) -> bool:
    """Whether the input's model card is valid (schemas/model_card.schema.json) and names a
    risk tier. Only then does the tier a decision is judged under become the model's tier of
    record: a card missing (a misnamed artifact) or invalid is judged as high-risk by default,
    which is no one's judgement, and must not hold every later version to high risk."""
    card = input_doc.get("model_card")
    return (
        isinstance(card, Mapping)
        and card.get("risk_tier") in TIERS
        and not schemas.violations("model_card", card)
    )


def _decision(
    input_doc: Mapping[str, Any],
    result: dict[str, Any],
    reasons: list[Reason],
    revision: str,
    digests: tuple[str, dict[str, str]],
    card_names_tier: bool,
) -> Decision:
    """The decision; `digests` are the input's and each evidence part's, and the judged tier
    becomes the model's tier of record only when `card_names_tier`."""
    input_digest, evidence_digests = digests
    model = _mapping(input_doc.get("model"))
    caller = _mapping(input_doc.get("caller"))
    target = input_doc.get("target")
    outcome: Outcome
    if reasons:  # fail closed: the service's own reasons always deny
        outcome, warnings, target_version, target_digest = "deny", [], None, None
    else:
        outcome = result["outcome"]
        reasons = [Reason.model_validate(r) for r in result["reasons"]]
        warnings = [
            *(Reason.model_validate(r) for r in result["warnings"]),
            *evidence_note_warnings(input_doc),
        ]
        target_version = result.get("target_version")
        target_digest = result.get("target_artifact_digest")
    return Decision(
        decision_id=new_record_id(),
        gate=str(input_doc["gate"]),
        outcome=outcome,
        reasons=reasons,
        warnings=warnings,
        model=ModelRef(
            name=str(model.get("name") or "unknown"),
            version=str(model.get("version") or "unknown"),
            artifact_digest=model.get("artifact_digest")
            if isinstance(model.get("artifact_digest"), str)
            else None,
            risk_tier=_judged_tier(result),
            records_tier=card_names_tier and _judged_tier(result) is not None,
        ),
        target=dict(target) if isinstance(target, Mapping) else None,
        target_version=target_version,
        target_artifact_digest=target_digest,
        caller=Caller(
            id=str(caller.get("id") or "unknown"), role=str(caller.get("role") or "unknown")
        ),
        requested_at=str(input_doc.get("requested_at") or ""),
        policy_revision=revision,
        input_digest=input_digest,
        evidence_digests=evidence_digests,
        provenance=_provenance(input_doc),
        signoff_records=_signoff_records(input_doc),
        snapshot_records=_record_ids(input_doc, "snapshots"),
    )


def _judged_tier(result: Mapping[str, Any]) -> str | None:
    """The tier the policy says it judged under (its decision's `risk_tier`); None when the
    policy gave none (no decision at all: the engine failed). Recorded with the decision, so
    the next decision on the model reads it (service/evidence/risk_tier.py)."""
    tier = result.get("risk_tier")
    return tier if tier in TIERS else None


def _provenance(input_doc: Mapping[str, Any]) -> dict[str, str]:
    found = input_doc.get("provenance")
    if not isinstance(found, Mapping):
        return {}
    return {str(k): str(v) for k, v in found.items()}


def _signoff_records(input_doc: Mapping[str, Any]) -> list[str]:
    """The ids of the ledger's sign-off records the input carried (approvals, waivers, then
    the withdrawn waivers it names)."""
    ids: list[str] = []
    for key in ("approvals", "waivers", "withdrawn_waivers"):
        entries = input_doc.get(key)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
                ids.append(entry["id"])
    return ids


def _record_ids(input_doc: Mapping[str, Any], key: str) -> list[str]:
    """The ids of the ledger records the input's `key` list carried."""
    entries = input_doc.get(key)
    return [
        entry["id"]
        for entry in (entries if isinstance(entries, list) else [])
        if isinstance(entry, Mapping) and isinstance(entry.get("id"), str)
    ]


def _reasons_of(result: dict[str, Any]) -> list[Reason]:
    return [Reason.model_validate(r) for r in result.get("reasons", [])]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
