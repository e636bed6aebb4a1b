"""A decision as a ledger record: its predicate and subject (what is signed), the pending record
the ledger chains, and the answer rebuilt from a stored record. The ledger records predicates
of any kind; this is where a decision becomes one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.audit.envelope import ARTIFACT_DIGEST
from service.audit.kinds import DECISION
from service.audit.receipt import AuditReceipt
from service.audit.records import LedgerRecord, PendingRecord
from service.canonical import canonical_json
from service.decision.model import Decision, DecisionAnswer
from service.errors import AuditWriteFailed


def decision_record(decision: Decision, document: bytes) -> PendingRecord:
    """The record of `decision` judged on the input whose canonical JSON is `document`; the
    ledger refuses it unless `document` hashes to the decision's input digest."""
    return PendingRecord(
        kind=DECISION,
        record_id=decision.decision_id,
        gate=decision.gate,
        outcome=decision.outcome,
        model_name=decision.model.name,
        model_version=decision.model.version,
        subject=decision_subject(decision),
        predicate=decision_predicate(decision),
        document=document,
        digest=decision.input_digest,
        caller_id=decision.caller.id,
        artifact_digest=decision.model.artifact_digest or "",
        stage=str((decision.target or {}).get("stage") or ""),
        risk_tier=decision.model.risk_tier or "",
    )


def pending_decision(decision: Decision, input_doc: Mapping[str, Any]) -> PendingRecord:
    """The record of `decision` and its input document, encoded here; AuditWriteFailed when
    the document cannot be stored as JSON."""
    try:
        document = canonical_json(input_doc)
    except (TypeError, ValueError) as exc:
        raise AuditWriteFailed(
            f"the input document cannot be stored as JSON ({exc}); the decision was not recorded"
        ) from None
    return decision_record(decision, document)


def recorded_answer(record: LedgerRecord) -> DecisionAnswer:
    """The decision as it was answered, rebuilt from a stored record's signed predicate, with
    its receipt (the enactment is a record of its own)."""
    receipt = AuditReceipt(seq=record.seq, envelope_digest=record.envelope_digest)
    return DecisionAnswer.model_validate({**record.predicate(), "audit": receipt})


def decision_predicate(decision: Decision) -> dict[str, Any]:
    """The decision's part of the predicate; the chain adds seq, prev and recorded_at."""
    predicate: dict[str, Any] = {
        "decision_id": decision.decision_id,
        "gate": decision.gate,
        "outcome": decision.outcome,
        "reasons": [r.model_dump(mode="json", exclude_none=True) for r in decision.reasons],
        "warnings": [r.model_dump(mode="json", exclude_none=True) for r in decision.warnings],
        "model": decision.model.model_dump(mode="json"),
        "policy_revision": decision.policy_revision,
        "input_digest": decision.input_digest,
        "evidence_digests": dict(decision.evidence_digests),
        "caller": decision.caller.model_dump(mode="json"),
        "requested_at": decision.requested_at,
        "target": decision.target,
        "target_version": decision.target_version,
        "provenance": dict(decision.provenance),
        "signoff_records": list(decision.signoff_records),
    }
    # Only when set, so the predicates of the gates without them stay as they were.
    if decision.target_artifact_digest is not None:
        predicate["target_artifact_digest"] = decision.target_artifact_digest
    if decision.snapshot_records:
        predicate["snapshot_records"] = list(decision.snapshot_records)
    return predicate


def decision_subject(decision: Decision) -> list[dict[str, Any]]:
    """The model artifact the decision is about.

    A decision made without a valid artifact digest (evidence missing, or a digest that is
    not `sha256:` and 64 lower-case hex digits, which validation refused) is still recorded:
    its subject then carries the input document's digest, which is what the decision is
    provably about. Nothing that failed validation is signed as a subject.
    """
    artifact = decision.model.artifact_digest
    valid = artifact is not None and ARTIFACT_DIGEST.fullmatch(artifact) is not None
    digest = artifact if valid and artifact is not None else decision.input_digest
    algorithm, _, value = digest.partition(":")
    if not value:
        algorithm, value = "sha256", digest
    return [
        {"name": f"{decision.model.name}@{decision.model.version}", "digest": {algorithm: value}}
    ]
