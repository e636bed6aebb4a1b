"""The values of the decision path: what a gate judged (signed), what was recorded (with its
receipt) and what is answered (with its enactment). Each is immutable once made; the answer is
composed from the other two, never by editing a signed decision."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from service.audit.receipt import AuditReceipt

Outcome = Literal["allow", "hold", "deny", "rollback"]
# Best to worst: when several rules fire, the worst wins (DESIGN.md, Outcomes).
OUTCOMES: tuple[str, ...] = get_args(Outcome)

# The stages a model version is deployed to, in the order it goes through them.
Stage = Literal["staging", "canary", "production"]
STAGES: tuple[str, ...] = get_args(Stage)

__all__ = [
    "OUTCOMES",
    "STAGES",
    "AuditReceipt",
    "Caller",
    "Decision",
    "DecisionAnswer",
    "Enactment",
    "ModelRef",
    "Outcome",
    "Reason",
    "Stage",
    "answered",
]

_frozen = ConfigDict(frozen=True)


class Reason(BaseModel):
    model_config = _frozen
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
    model_config = _frozen
    name: str
    version: str
    artifact_digest: str | None = None
    # The tier the decision was judged under, as the policy reports it (its `risk_tier`).
    risk_tier: str | None = None
    # Whether that tier becomes the model's tier of record (service/evidence/risk_tier.py):
    # only when judged on a valid model card naming a tier. None on records made before.
    records_tier: bool | None = None


class Caller(BaseModel):
    model_config = _frozen
    id: str
    role: str


class Enactment(BaseModel):
    """What a gate's effect did after the decision was recorded (service/enact/)."""

    model_config = _frozen
    alias: str
    moved: bool
    from_version: str | None = None
    to_version: str | None = None
    record: int | None = None  # the seq of the alias_move record
    note: str


class Decision(BaseModel):
    """What a gate judged: the value that is signed into the ledger, never changed after."""

    model_config = _frozen
    decision_id: str
    gate: str
    outcome: Outcome
    reasons: list[Reason]
    warnings: list[Reason] = Field(default_factory=list)
    model: ModelRef
    target: dict[str, Any] | None = None
    target_version: str | None = None  # rollback: the version the alias goes back to
    target_artifact_digest: str | None = None  # ... and the digest it was allowed with
    caller: Caller
    requested_at: str
    policy_revision: str
    input_digest: str
    evidence_digests: dict[str, str] = Field(default_factory=dict)
    # Where each part of the input came from (service/evidence/base.py), and the ids of the
    # sign-off records (approvals, waivers) in the ledger that the input carried.
    provenance: dict[str, str] = Field(default_factory=dict)
    signoff_records: list[str] = Field(default_factory=list)
    # The ids of the metric snapshot records the input carried (monitoring).
    snapshot_records: list[str] = Field(default_factory=list)


class DecisionAnswer(Decision):
    """A decision as answered: the signed decision, the receipt of its record and, when the
    request asked for it, what was enacted (a record of its own, not part of the decision's)."""

    audit: AuditReceipt | None = None
    enactment: Enactment | None = None
    # The decision this one triggered when enacted (a monitoring rollback's rollback decision).
    triggered: DecisionAnswer | None = None


def answered(
    decision: Decision,
    receipt: AuditReceipt | None,
    enactment: Enactment | None = None,
    triggered: DecisionAnswer | None = None,
) -> DecisionAnswer:
    """The answer composed from a judged decision, its receipt, its enactment and the
    decision it triggered."""
    fields = decision.model_fields_set | {"audit", "enactment"}
    if triggered is not None:
        fields |= {"triggered"}
    return DecisionAnswer.model_construct(
        fields,
        **dict(decision),
        audit=receipt,
        enactment=enactment,
        triggered=triggered,
    )
