"""Request and response bodies of the HTTP API, with the examples the OpenAPI document shows."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

import jsonschema_rs
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, field_validator
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from service.audit.kinds import KIND_NAMES
from service.canonical import MAX_NESTING, text_problem, unencodable
from service.decision.model import Caller, DecisionAnswer, ModelRef, Outcome, Reason, Stage
from service.errors import InvalidField
from service.modelname import MAX_LENGTH, PATTERN, RULE, name_problem
from service.schemas import SchemaSet
from service.settings import get_settings
from service.signoffs.rules import ARTIFACT_DIGEST


def _timestamp_pattern() -> str:
    """The pattern of $defs/timestamp in the gate's input schema: the RFC 3339 times OPA can
    parse (upper-case T and Z, seconds 00-59, at most nine fractional digits)."""
    return str(
        SchemaSet(get_settings().schema_dir).schema("gate_input")["$defs"]["timestamp"]["pattern"]
    )


def _also_lower_case(pattern: str) -> str:
    """The pattern accepting the lower-case t and z that RFC 3339 allows too (rfc3339 below
    takes them and writes them upper-case)."""
    widened = pattern.replace("T(", "[Tt](", 1).replace("(Z|", "([Zz]|", 1)
    if widened.count("[Tt]") != 1 or widened.count("[Zz]") != 1:
        raise RuntimeError(f"the input schema's timestamp pattern changed shape: {pattern}")
    return widened


_TIMESTAMP = re.compile(_timestamp_pattern())
RiskTier = Literal["low", "medium", "high"]
SignoffStatus = Literal["approved", "rejected", "pending"]
DATE_TIME: JsonDict = {"format": "date-time", "pattern": _also_lower_case(_TIMESTAMP.pattern)}
_strict = ConfigDict(extra="forbid")

EXAMPLE_TIME = "2026-11-21T12:00:00.000Z"
EXAMPLE_REVISION = "sha256:4be0c1f3d9a2e7b6c5d4f3e2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2"
EXAMPLE_DECISION_ID = "01a1fdfa-4600-7b4d-8e8f-9a6c1d2e3f4a"
EXAMPLE_DIGEST = "sha256:9b2f6e1c4d8a7b3e5f0c2d9a6b1e4f7c8d3a5b0e2f9c6d1a4b7e0f3c8d5a2b6e"
EXAMPLE_RECORD_ID = "01a1fdfa-4600-7c3f-9e5d-8a9b0c1d2e3f"


def _one_form(value: str) -> str:
    problem = name_problem(value)
    if problem is not None:
        raise PydanticCustomError("model_name", "{problem}", {"problem": f"{problem}; {RULE}"})
    return value


# A model name wherever the API takes one (service/modelname.py): a look-alike is a 422 naming
# the field, the character at fault and the form expected.
ModelName = Annotated[
    str,
    AfterValidator(_one_form),
    Field(
        description=RULE[0].upper() + RULE[1:] + "; any other form is refused (422).",
        json_schema_extra={"pattern": PATTERN, "minLength": 1, "maxLength": MAX_LENGTH},
        examples=["fraud-detector"],
    ),
]


class ModelIdentity(BaseModel):
    """Which model version the request is about; defaults to the model card's own fields."""

    model_config = _strict
    name: ModelName
    version: str = Field(min_length=1, examples=["7"])
    risk_tier: RiskTier | None = Field(
        default=None,
        description="Must equal the model card's risk_tier, which picks the thresholds; a "
        "different one is a deny (RISK_TIER_CONFLICT), never used.",
    )
    artifact_digest: str | None = Field(
        default=None, description="Overrides lineage.artifact_digest.", examples=["sha256:9b2f…"]
    )


class Target(BaseModel):
    model_config = _strict
    stage: Stage = Field(
        description="The stage the version would move to; the gate's data names the alias that "
        "stage moves (promotion.aliases)."
    )


def _evidence(description: str) -> Any:
    return Field(default=None, description=description + _JUDGED)


def _refused(name: str, source: str) -> Any:
    return Field(
        default=None,
        description=f"Not accepted (422): {name} come only from {source}, never from the "
        "party being gated.",
    )


_JUDGED = (
    " Any JSON is accepted here: content that breaks its schema is not refused but judged, "
    "and the gate denies with an EVIDENCE_INVALID reason naming the field."
)


class Evidence(BaseModel):
    """The evidence documents, the same ones `mlgate decide --evidence DIR` reads from files."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "model_card": {
                    "name": "fraud-detector",
                    "version": "7",
                    "risk_tier": "high",
                    "intended_use": "Rank card-not-present transactions by fraud likelihood.",
                    "ethical_considerations": "Per-group TPR is monitored across age bands.",
                    "monitoring_plan": "Hourly AUC proxy, PSI on the top 20 features.",
                    "protected_attributes": ["age_band"],
                },
                "metrics": {
                    "run_id": "8f3c2a91d04e4b7fa1c5e2d9b6a7c310",
                    "dataset": "cnp-transactions-2026q3-holdout",
                    "evaluated_at": "2026-11-18T09:41:12Z",
                    "values": {"auc": 0.9412, "recall_at_1pct_fpr": 0.6381},
                    "by_group": {"age_band": {"18-25": {"tpr": 0.6122}, "65+": {"tpr": 0.6254}}},
                },
                "lineage": {
                    "run_id": "8f3c2a91d04e4b7fa1c5e2d9b6a7c310",
                    "git_commit": "3e9f1c27b84d5a60e2f7c91b0d4a8e6f53c1b2a7",
                    "artifact_digest": "sha256:9b2f6e1c4d8a7b3e5f0c2d9a6b1e4f7c8d3a5b0e2f9c6d1a",
                    "datasets": [
                        {
                            "name": "cnp-transactions-2025q1-2026q2",
                            "digest": "sha256:5d41402abc4b2a76b9719d911017c592",
                            "source": "s3://risk-datalake/cnp/train/2026-06-30/",
                            "context": "training",
                        }
                    ],
                },
            }
        },
    )
    model_card: Any = _evidence("The model card (schemas/model_card.schema.json).")
    metrics: Any = _evidence("The candidate's offline evaluation (schemas/metric_set.schema.json).")
    lineage: Any = _evidence("Run, commit, artifact and datasets (schemas/lineage.schema.json).")
    baseline: Any = _evidence("The current champion: {version, metrics}.")
    history: Any = _refused("history", "the ledger's earlier decisions on this version")
    approvals: Any = _refused("approvals", "the sign-off records (POST /v1/approvals)")
    waivers: Any = _refused("waivers", "the sign-off records (POST /v1/waivers)")
    snapshots: Any = _refused(
        "metric snapshots", "the snapshot records (POST /v1/snapshots, by a reporter token)"
    )

    def documents(self) -> dict[str, Any]:
        """The documents the caller sent (an explicit null counts: it is judged, not dropped)."""
        return {
            key: getattr(self, key)
            for key in type(self).model_fields
            if key in self.model_fields_set
        }


class DecisionRequest(BaseModel):
    """A gate request: the model version, where it would go, and the evidence."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "model": {"name": "fraud-detector", "version": "7"},
                "target": {"stage": "staging"},
                "evidence": Evidence.model_config["json_schema_extra"]["example"],  # type: ignore[index]
            }
        },
    )
    model: ModelIdentity | None = Field(
        default=None, description="Omit to take name, version and risk tier from the model card."
    )
    target: Target | None = Field(
        default=None,
        description="Required by the promotion gate (where the version would go) and the "
        "monitoring gate (where it serves; `stage` says the same).",
    )
    stage: Stage | None = Field(
        default=None,
        description="The monitoring and rollback gates' deployment stage: the same as "
        "target.stage, for callers such as Argo Rollouts' web metric that send flat fields.",
    )
    reason: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="The rollback gate only, and required there: why the version is rolled "
        "back, in words (recorded with the decision).",
    )
    to_version: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The rollback gate only: the version to roll back to. It must qualify as "
        "the gate's own target does (installed by the gate behind the alias, not rolled back "
        "since, digest unchanged, still in the registry), or the decision is a deny saying why.",
    )
    evidence: Evidence | None = Field(
        default=None,
        description="The caller's evidence. When the service has a model registry "
        "(MLGATE_MLFLOW_TRACKING_URI) and `model` names a version, the registry's evidence is "
        "used first and this may only add what the registry lacks (a differing document is a "
        "warning, and the registry's is used); without a registry it is required.",
    )
    enact: StrictBool = Field(
        default=False,
        description="After the decision is recorded: promotion's allow moves the target "
        "stage's alias in the registry to the version; monitoring's rollback asks the rollback "
        "gate, whose rollback moves the alias back to its target. Each move is a ledger record "
        "of its own.",
    )
    # No requested_at: the service's own clock judges waiver expiry and stage order, so a
    # client cannot revive an expired waiver by backdating its request.


_date_time = jsonschema_rs.validator_for(
    {"type": "string", "format": "date-time"}, validate_formats=True
)


def rfc3339(value: str) -> str:
    """The same check the input schema makes ($defs/timestamp), on the value normalised to
    upper-case T and Z for OPA. RFC 3339 also allows a leap second and any number of
    fractional digits, which OPA cannot parse: a waiver expiring so would be recorded, and
    then every decision reading it would deny with EVIDENCE_INVALID."""
    if not _date_time.is_valid(value):
        raise ValueError(f"expected an RFC 3339 date-time such as {EXAMPLE_TIME}; found {value!r}")
    normalised = value.upper()
    if not _TIMESTAMP.match(normalised):
        raise ValueError(
            f"{value} is not a time this service can compare: it takes seconds 00 to 59 and at "
            "most nine fractional digits"
        )
    return normalised


def check_json_values(value: Any) -> None:
    """Refuse what the parser lets through but canonical JSON or a ledger store cannot carry
    (NaN, Infinity, unpaired surrogates, NUL characters, nesting deeper than MAX_NESTING),
    naming the field: they would break digests and the ledger later."""
    try:  # the C encoder finds none of them in the common case; only then walk for the field
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
        text.encode("utf-8")
        nesting = text.count("[") + text.count("{")  # it cannot nest deeper than that
        if nesting <= MAX_NESTING and "\\u0000" not in text:  # how the encoder writes NUL
            return
    except (ValueError, UnicodeEncodeError, RecursionError):
        pass
    problem = unencodable(value)
    if problem is not None:
        raise InvalidField(*problem)


def check_text_params(**params: str | None) -> None:
    """Refuse a path or query parameter no ledger store can look up (a NUL character)."""
    for name, value in params.items():
        if value is not None and (problem := text_problem(value)):
            raise InvalidField(name, f"holds {problem}")


class FieldProblem(BaseModel):
    field: str
    problem: str


class Problem(BaseModel):
    """Every error response: a stable `error` code, a message for people, and the field at fault."""

    error: str = Field(examples=["invalid_request"])
    message: str = Field(
        examples=["target.stage: expected 'staging', 'canary' or 'production'; found 'prod'"]
    )
    field: str | None = Field(default=None, examples=["target.stage"])
    problems: list[FieldProblem] | None = Field(
        default=None, description="Every problem found, when the request has several."
    )


def problem_example(status: int, error: str, message: str, field: str | None = None) -> Any:
    example: dict[str, Any] = {"error": error, "message": message}
    if field:
        example["field"] = field
    return {
        "model": Problem,
        "description": _STATUS_TEXT[status],
        "content": {"application/json": {"example": example}},
    }


_STATUS_TEXT = {
    401: "No bearer token, or one that matches no configured token.",
    403: "The token's role may not do this.",
    404: "Not found.",
    413: "The request body is over the size limit.",
    415: "The request body is of a media type this operation does not read.",
    422: "The request is not well formed; `field` names the part at fault.",
    500: "The policy files on the server do not load; the running policies stay in force.",
    503: "A dependency (policy engine, ledger) is unavailable; nothing was decided.",
}
AUTH_ERRORS: dict[int | str, Any] = {
    401: problem_example(401, "unauthorized", "the bearer token matches no configured token"),
    403: problem_example(
        403, "forbidden", "role 'auditor' of token 'reviewer' may not do this; it needs 'gate'"
    ),
}
BODY_ERRORS: dict[int | str, Any] = {
    413: problem_example(
        413, "payload_too_large", "the request body is 2097152 bytes; the limit is 1048576 bytes"
    ),
    422: problem_example(
        422,
        "invalid_request",
        "target.stage: expected 'staging', 'canary' or 'production'; found 'prod'",
        "target.stage",
    ),
}
UNAVAILABLE: dict[int | str, Any] = {
    503: problem_example(
        503, "audit_write_failed", "could not record decision … in the SQLite ledger …"
    ),
}

EXAMPLE_DECISION = {
    "decision_id": EXAMPLE_DECISION_ID,
    "gate": "promotion",
    "outcome": "deny",
    "reasons": [
        {
            "rule": "Metric floors are met",
            "code": "METRIC_BELOW_FLOOR",
            "severity": "high",
            "message": "auc 0.71 is below the high-risk staging floor 0.85",
            "controls": ["NIST AI RMF MEASURE 2.3", "SR 11-7 III.B"],
            "metric": "auc",
            "actual": 0.71,
            "threshold": 0.85,
        }
    ],
    "warnings": [],
    "model": {"name": "fraud-detector", "version": "7", "artifact_digest": "sha256:9b2f6e1c…"},
    "target": {"stage": "staging"},
    "caller": {"id": "ci-pipeline", "role": "gate"},
    "requested_at": EXAMPLE_TIME,
    "policy_revision": EXAMPLE_REVISION,
    "input_digest": "sha256:0c5e7a4b…",
    "evidence_digests": {"model_card": "sha256:1d2e…", "metrics": "sha256:5a6b…"},
    "audit": {"seq": 42, "envelope_digest": "sha256:7e8f…"},
}


class ApprovalRequest(BaseModel):
    """A human sign-off on one model version; the approver is the token's id."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "model": "fraud-detector",
                "version": "7",
                "artifact_digest": EXAMPLE_DIGEST,
                "role": "model-risk-officer",
                "status": "approved",
                "comment": "Validation report MRV-2026-114 reviewed.",
            }
        },
    )
    model: ModelName
    version: str = Field(min_length=1, max_length=100)
    artifact_digest: str = Field(
        pattern=ARTIFACT_DIGEST,
        description="The artifact (sha256:<64 hex>) this is given for; it counts only for it.",
        examples=[EXAMPLE_DIGEST],
    )
    role: str = Field(
        min_length=1,
        max_length=100,
        description="The approver role the policy asks for, e.g. model-risk-officer.",
    )
    status: SignoffStatus = "approved"
    comment: str | None = Field(default=None, max_length=4000)


class Approval(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": EXAMPLE_RECORD_ID,
                "record": 12,
                "model": "fraud-detector",
                "approver": "m.okafor",
                "role": "model-risk-officer",
                "status": "approved",
                "version": "7",
                "artifact_digest": EXAMPLE_DIGEST,
                "comment": "Validation report MRV-2026-114 reviewed.",
                "decided_at": EXAMPLE_TIME,
            }
        }
    )

    id: str = Field(description="The approval's record id in the ledger.")
    record: int = Field(description="The seq of its signed record in the ledger.")
    model: str
    artifact_digest: str
    approver: str
    role: str
    status: SignoffStatus
    version: str
    comment: str | None = None
    decided_at: str = Field(json_schema_extra=DATE_TIME)


class WaiverRequest(BaseModel):
    """A time-boxed exception to one rule for one model version; the approver is the token's id."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "rule_code": "METRIC_ABOVE_CEILING",
                "model": "fraud-detector",
                "version": "7",
                "artifact_digest": EXAMPLE_DIGEST,
                "role": "model-risk-officer",
                "reason": "Latency fix ships in v8; risk accepted by the model owner until then.",
                "expires_at": "2026-12-31T00:00:00Z",
            }
        },
    )
    rule_code: str = Field(
        pattern=r"^[A-Z][A-Z0-9_]*$",
        max_length=100,
        description="A code from GET /v1/policies; a non-waivable code is refused (422).",
    )
    model: ModelName
    version: str = Field(min_length=1, max_length=100)
    artifact_digest: str = Field(
        pattern=ARTIFACT_DIGEST,
        description="The artifact (sha256:<64 hex>) this is given for; it counts only for it.",
        examples=[EXAMPLE_DIGEST],
    )
    role: str = Field(
        min_length=1,
        max_length=100,
        description="The role the approver waives as: one their token lists in approves_as, "
        "and one that may waive this code (waivers.roles in the promotion data).",
    )
    reason: str = Field(min_length=1, max_length=4000)
    expires_at: str = Field(
        json_schema_extra=DATE_TIME,
        description="When the waiver lapses: in the future, and at most waivers.max_days "
        "(default 90) ahead.",
    )

    @field_validator("expires_at")
    @classmethod
    def _is_rfc3339(cls, value: str) -> str:
        return rfc3339(value)


class Waiver(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": EXAMPLE_RECORD_ID,
                "record": 13,
                "rule_code": "METRIC_ABOVE_CEILING",
                "model": "fraud-detector",
                "version": "7",
                "artifact_digest": EXAMPLE_DIGEST,
                "approved_by": "m.okafor",
                "role": "model-risk-officer",
                "reason": "Latency fix ships in v8; risk accepted by the model owner until then.",
                "expires_at": "2026-12-31T00:00:00Z",
                "created_at": EXAMPLE_TIME,
            }
        }
    )

    id: str = Field(description="The waiver's record id: DELETE /v1/waivers/{id} withdraws it.")
    record: int = Field(description="The seq of its signed record in the ledger.")
    rule_code: str
    model: str
    version: str
    artifact_digest: str
    approved_by: str
    role: str
    reason: str
    expires_at: str = Field(json_schema_extra=DATE_TIME)
    created_at: str = Field(json_schema_extra=DATE_TIME)


class WaiverWithdrawalRequest(BaseModel):
    model_config = _strict
    reason: str = Field(min_length=1, max_length=4000, description="Why it is withdrawn.")


class WaiverWithdrawal(BaseModel):
    id: str = Field(description="The withdrawal's record id.")
    record: int = Field(description="The seq of its signed record in the ledger.")
    waiver_id: str
    model: str
    version: str
    artifact_digest: str | None = None
    withdrawn_by: str
    reason: str
    withdrawn_at: str = Field(json_schema_extra=DATE_TIME)


class TierChangeRequest(BaseModel):
    """A change of a model's risk tier, up or down; the approver is the token's id."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "model": "fraud-detector",
                "tier": "medium",
                "role": "model-risk-officer",
                "reason": "Validation report MRV-2026-131: scores only low-value transactions.",
            }
        },
    )
    model: ModelName
    tier: RiskTier = Field(description="The tier later decisions on the model are judged under.")
    role: str = Field(
        min_length=1,
        max_length=100,
        description="The role the approver changes it as: one their token lists in "
        "approves_as, and one tier_changes.allowed_roles in the promotion data lists.",
    )
    reason: str = Field(min_length=1, max_length=4000, description="Why, in words.")


class TierChange(BaseModel):
    """A signed change of a model's risk tier (a `tier_change` ledger record, as signed)."""

    # Signed fields a later version adds are shown, not dropped.
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "id": EXAMPLE_RECORD_ID,
                "record": 14,
                "model": "fraud-detector",
                "tier": "medium",
                "from_tier": "high",
                "previous": {"tier": "high", "decision_id": EXAMPLE_DECISION_ID, "version": "1"},
                "changed_by": "m.okafor",
                "role": "model-risk-officer",
                "reason": "Validation report MRV-2026-131: scores only low-value transactions.",
                "changed_at": EXAMPLE_TIME,
            }
        },
    )

    id: str = Field(description="The tier change's record id in the ledger.")
    record: int = Field(description="The seq of its signed record in the ledger.")
    model: str
    tier: RiskTier
    from_tier: RiskTier | None = Field(description="The tier of record it replaced; null: none.")
    previous: dict[str, Any] | None = Field(
        description="What that tier rested on: a decision (decision_id, version) or an "
        "earlier tier change (tier_change_id); null when the model had no tier of record."
    )
    changed_by: str
    role: str
    reason: str
    changed_at: str = Field(json_schema_extra=DATE_TIME)


# The kinds the ledger records (service/audit/kinds.py), as the values `kind` may take. mypy
# cannot read a Literal built at run time, so to it a kind is a str.
if TYPE_CHECKING:
    RecordKind = str
else:
    RecordKind = Literal[KIND_NAMES]


class AuditRecord(BaseModel):
    """One ledger record, summarised from its signed statement: a decision's fields, or, for
    the records decisions rely on (sign-offs, withdrawals, policy reloads), their `content`."""

    seq: int
    kind: RecordKind = "decision"
    id: str = Field(description="The record's id (a decision's is its decision_id).")
    decision_id: str | None = None
    recorded_at: str
    gate: str | None = None
    outcome: Outcome | None = None
    model: ModelRef | None = None
    target: dict[str, Any] | None = None
    caller: Caller | None = None
    requested_at: str | None = None
    policy_revision: str | None = None
    input_digest: str | None = None
    content: dict[str, Any] | None = Field(
        default=None, description="The signed content of a record that is not a decision."
    )
    reasons: list[Reason] | None = Field(default=None, description="include=reasons")
    warnings: list[Reason] | None = Field(
        default=None, description="include=warnings; a waived rule carries its `waiver`"
    )
    signoffs: list[dict[str, Any]] | None = Field(
        default=None, description="include=signoffs: the sign-off records the decision relied on"
    )
    envelope_digest: str
    keyid: str


class AuditPage(BaseModel):
    """Records newest first; pass `next_before` as `before` to get the next (older) page."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "records": [
                    {
                        "seq": 42,
                        "kind": "decision",
                        "id": EXAMPLE_DECISION_ID,
                        "decision_id": EXAMPLE_DECISION_ID,
                        "recorded_at": "2026-11-21T12:00:00.004211Z",
                        "gate": "promotion",
                        "outcome": "deny",
                        "model": {"name": "fraud-detector", "version": "7"},
                        "target": {"stage": "staging"},
                        "caller": {"id": "ci-pipeline", "role": "gate"},
                        "requested_at": EXAMPLE_TIME,
                        "policy_revision": EXAMPLE_REVISION,
                        "input_digest": "sha256:0c5e7a4b…",
                        "envelope_digest": "sha256:7e8f…",
                        "keyid": "5b0c…",
                    }
                ],
                "next_before": 42,
            }
        }
    )

    records: list[AuditRecord]
    next_before: int | None = Field(
        default=None, description="The `before` of the next page; null on the last page."
    )


class AuditRecordEnvelope(AuditRecord):
    """One ledger record of any kind, with the envelope it is stored as."""

    envelope: str = Field(
        description="The DSSE envelope exactly as stored (JSON text); the SHA-256 of these "
        "bytes, in hex, is the next record's `prev`."
    )


class StoredDecision(BaseModel):
    """A recorded decision with the exact signed record it was stored as."""

    decision: DecisionAnswer
    recorded_at: str
    keyid: str
    envelope: dict[str, Any] = Field(
        description="The DSSE envelope (payloadType, base64 payload, signatures), as stored."
    )
    input: dict[str, Any] | None = Field(
        default=None, description="The input document the decision was made on (include=input)."
    )


class AliasMove(BaseModel):
    """One alias move the gate made or tried (an `alias_move` ledger record, as signed)."""

    # Signed fields a later version adds are shown, not dropped.
    model_config = ConfigDict(extra="allow")

    id: str
    model: str
    version: str
    artifact_digest: str | None
    alias: str
    from_version: str | None = Field(description="The version the alias named; null if unset.")
    to_version: str
    moved: bool
    outcome: Literal["moved", "failed"]
    error: str | None = Field(description="Why the registry refused the move; null if moved.")
    decision_id: str = Field(description="The decision the move rests on.")
    decision_seq: int
    requested_by: str
    moved_at: str = Field(description="RFC 3339, UTC.")
    record: int = Field(description="The seq of the alias_move record in the ledger.")


class Deployment(BaseModel):
    """An alias move that moved, joined with the decision it rests on (GET /v1/deployments)."""

    model_config = ConfigDict(extra="allow")

    moved_at: str = Field(description="RFC 3339, UTC.")
    model: str
    alias: str
    stage: str | None = Field(description="The stage the move's decision targeted.")
    from_version: str | None
    to_version: str
    move: Literal["install", "roll-back"]
    record: int = Field(description="The seq of the alias_move record.")
    decision: dict[str, Any] = Field(
        description="id, seq, gate, outcome, caller, policy_revision, reasons, warnings"
    )
    signoffs: list[dict[str, Any]] = Field(
        description="The sign-off records the decision relied on, as signed."
    )


class Deployments(BaseModel):
    deployments: list[Deployment]


class ModelHistory(BaseModel):
    """The alias moves and the risk tier changes of a model, each newest first."""

    model: str
    moves: list[AliasMove]
    tier_changes: list[TierChange] = Field(
        default_factory=list,
        description="Every signed change of the model's risk tier (POST /v1/tiers), newest first.",
    )


class VerifyProblem(BaseModel):
    seq: int
    kind: str
    message: str
    position: int | None = None


class VerifyResult(BaseModel):
    """The ledger walked from seq 1: signatures, chain links, sequence, checkpoints."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "ok": True,
                "records": 4910,
                "valid": 4910,
                "last_seq": 4910,
                "checkpoints_matched": ["4000"],
                "problems": [],
                "summary": "4910/4910 records valid; chain intact from seq 1 to 4910; "
                "1 checkpoint matched",
            }
        }
    )

    ok: bool
    records: int
    valid: int
    last_seq: int
    checkpoints_matched: list[str]
    problems: list[VerifyProblem]
    summary: str


class RuleInfo(BaseModel):
    code: str = Field(examples=["METRIC_BELOW_FLOOR"])
    title: str = Field(examples=["Metric floors are met"])
    description: str
    severity: str = Field(examples=["high"])
    controls: list[str] = Field(examples=[["NIST AI RMF MEASURE 2.3", "SR 11-7 III.B"]])
    package: str = Field(
        examples=["mlgate.promotion"],
        description="The Rego package; a gate's rules are in mlgate.<gate>. Empty for the "
        "service's own rules.",
    )
    rule: str = Field(examples=["data.mlgate.promotion.deny"])
    file: str = Field(examples=["promotion/promotion.rego"])
    line: int


class GatePolicy(BaseModel):
    gate: str
    entrypoint: str
    has_policy: bool = Field(description="False: the gate denies every request (fail closed).")


class PolicyInfo(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "revision": EXAMPLE_REVISION,
                "files": ["data/promotion.yaml", "lib/reasons.rego", "promotion/promotion.rego"],
                "gates": [
                    {
                        "gate": "promotion",
                        "entrypoint": "data.mlgate.promotion.decision",
                        "has_policy": True,
                    }
                ],
                "rules": [
                    {
                        "code": "METRIC_BELOW_FLOOR",
                        "title": "Metric floors are met",
                        "description": "Each metric with a floor for the tier and stage is at or "
                        "above it.",
                        "severity": "high",
                        "controls": ["NIST AI RMF MEASURE 2.3", "SR 11-7 III.B"],
                        "package": "mlgate.promotion",
                        "rule": "data.mlgate.promotion.deny",
                        "file": "promotion/promotion.rego",
                        "line": 101,
                    }
                ],
                "service_rules": [],
            }
        }
    )

    revision: str = Field(description="SHA-256 over every policy and data file, path and content.")
    files: list[str]
    gates: list[GatePolicy]
    rules: list[RuleInfo]
    service_rules: list[RuleInfo] = Field(
        description="Reasons the service itself gives when evidence or the engine fails."
    )


class ReloadResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "revision": EXAMPLE_REVISION,
                "previous_revision": "sha256:1f0e…",
                "files": ["data/promotion.yaml", "promotion/promotion.rego"],
                "record": 42,
            }
        }
    )

    revision: str
    previous_revision: str
    files: list[str]
    record: int = Field(description="The seq of the reload's signed record in the ledger.")


class PolicyFile(BaseModel):
    path: str = Field(description="Relative to the policy directory, `/`-separated.")
    digest: str = Field(description="`sha256:<hex>` of the file's bytes, as its record names.")
    size: int = Field(description="Bytes.")
    content: str = Field(description="The file's text (policy and data files are UTF-8).")


class PolicyRevisionFiles(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "revision": EXAMPLE_REVISION,
                "record": 3,
                "recorded_at": "2026-01-31T09:00:00.000000Z",
                "files": [
                    {
                        "path": "data/promotion.yaml",
                        "digest": "sha256:9c1d…",
                        "size": 1432,
                        "content": "high:\n  production:\n    min_auc: 0.85\n",
                    }
                ],
            }
        }
    )

    revision: str
    record: int = Field(description="The seq of the revision's signed policy_revision record.")
    recorded_at: str = Field(description="When the revision was first recorded (RFC 3339, UTC).")
    files: list[PolicyFile] = Field(
        description="Exactly the files of the revision, each checked against its digest."
    )


class Health(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"status": "ok"}})

    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, str] = Field(
        examples=[{"engine": "ok", "ledger": "ok", "tokens": "ok"}],
        description="Each dependency: `ok`; when it is not, what is wrong with it to the "
        "holder of a valid token of any role, else `unavailable`.",
    )
    policy_revision: str | None = None


class ReplayedDecision(BaseModel):
    """One recorded decision whose outcome or reasons the replayed policies change."""

    seq: int
    decision_id: str
    gate: str
    model: str = Field(description="`name@version`.")
    stage: str
    recorded_at: str
    recorded_revision: str
    recorded_outcome: str
    outcome: str = Field(description="What the replayed policies decide on the same input.")
    reasons_added: list[str]
    reasons_removed: list[str]
    warnings_added: list[str]
    warnings_removed: list[str]


class ReplayProblem(BaseModel):
    seq: int
    decision_id: str
    problem: str = Field(description="Why it could not be judged again (input gone, altered).")


class ReplayResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "revision": EXAMPLE_REVISION,
                "policies": "an uploaded policy archive",
                "replayed": 240,
                "flipped": 1,
                "changed": 0,
                "unchanged": 239,
                "unreplayable": 0,
                "transitions": {"allow -> deny": 1},
                "flips": [],
                "changes": [],
                "problems": [],
            }
        }
    )

    revision: str = Field(description="The revision the decisions were judged again under.")
    policies: str = Field(description="Where that revision came from.")
    replayed: int
    flipped: int = Field(description="Decisions whose outcome would change.")
    changed: int = Field(description="Decisions keeping their outcome with other reasons.")
    unchanged: int
    unreplayable: int
    transitions: dict[str, int] = Field(description='"recorded -> now": how many.')
    flips: list[ReplayedDecision]
    changes: list[ReplayedDecision]
    problems: list[ReplayProblem]


class ReplayRevision(BaseModel):
    """The JSON body of POST /v1/replay naming a revision the ledger keeps."""

    model_config = ConfigDict(extra="forbid")

    revision: str = Field(description="`sha256:<hex>`, a revision on record in the ledger.")
