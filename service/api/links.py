"""Operation ids and OpenAPI links: which values of one answer a client can send on.

A decision's id reads it back, a waiver's id withdraws it, a sign-off's model version is
decided on again, an audit page's cursor fetches the next page. The links are part of the
OpenAPI document, so clients and test generators can chain the operations; the ids are fixed
here rather than derived from function names and paths, so renaming a handler does not change
them.
"""

from __future__ import annotations

from typing import Any

DECIDE = "decide"
FLAGGER_WEBHOOK = "answer_flagger_webhook"
READ_DECISION = "read_decision"
LIST_AUDIT_RECORDS = "list_audit_records"
VERIFY_LEDGER = "verify_ledger"
EXPORT_AUDIT = "export_audit"
READ_KEYRING = "read_keyring"
READ_CHECKPOINTS = "read_checkpoints"
READ_AUDIT_RECORD = "read_audit_record"
LIST_DEPLOYMENTS = "list_deployments"
READ_MODEL_HISTORY = "read_model_history"
RECORD_APPROVAL = "record_approval"
RECORD_WAIVER = "record_waiver"
RECORD_SNAPSHOT = "record_snapshot"
WITHDRAW_WAIVER = "withdraw_waiver"
RECORD_TIER_CHANGE = "record_tier_change"
READ_POLICIES = "read_policies"
READ_POLICY_REVISION = "read_policy_revision"
READ_REQUIREMENTS = "read_promotion_requirements"
RELOAD_POLICIES = "reload_policies"
REPLAY = "replay_decisions"
HEALTHZ = "healthz"
READYZ = "readyz"
METRICS = "metrics"


def _link(operation_id: str, description: str, **parameters: str) -> dict[str, Any]:
    link: dict[str, Any] = {"operationId": operation_id, "description": description}
    if parameters:
        link["parameters"] = parameters
    return link


def _records_of(kind: str, model: str, version: str) -> dict[str, Any]:
    return _link(
        LIST_AUDIT_RECORDS,
        f"The {kind} records of this model version, newest first.",
        kind=kind,
        model=model,
        version=version,
    )


def _decide_on(signed: str, signoff: str) -> dict[str, Any]:
    return {
        "operationId": DECIDE,
        "description": f"Ask the promotion gate again about the {signed} model version and "
        "artifact (a service with a model registry reads the evidence from it); the decision "
        f"reads the {signoff} from the ledger.",
        "parameters": {"gate": "promotion"},
        "requestBody": {
            "model": {
                "name": "$response.body#/model",
                "version": "$response.body#/version",
                "artifact_digest": "$response.body#/artifact_digest",
            }
        },
    }


_VERIFY = _link(VERIFY_LEDGER, "Verify the ledger the record was signed into.")

DECISION_LINKS: dict[str, Any] = {
    "ReadDecision": _link(
        READ_DECISION,
        "The decision as recorded, with its signed envelope.",
        decision_id="$response.body#/decision_id",
    ),
    "ListModelVersionRecords": _link(
        LIST_AUDIT_RECORDS,
        "The audit records of the decided model version from this gate, newest first.",
        model="$response.body#/model/name",
        version="$response.body#/model/version",
        gate="$request.path.gate",
    ),
    "ReadModelHistory": _link(
        READ_MODEL_HISTORY,
        "The alias moves the gate made for the decided model.",
        name="$response.body#/model/name",
    ),
    "VerifyLedger": _VERIFY,
}

APPROVAL_LINKS: dict[str, Any] = {
    "ListApprovals": _records_of("approval", "$response.body#/model", "$response.body#/version"),
    "DecideOnApprovedVersion": _decide_on("approved", "approval"),
}

WAIVER_LINKS: dict[str, Any] = {
    "WithdrawWaiver": _link(
        WITHDRAW_WAIVER, "Withdraw the waiver just recorded.", waiver_id="$response.body#/id"
    ),
    "ListWaivers": _records_of("waiver", "$response.body#/model", "$response.body#/version"),
    "DecideOnWaivedVersion": _decide_on("waived", "waiver"),
}

WITHDRAWAL_LINKS: dict[str, Any] = {
    "WithdrawAgain": _link(
        WITHDRAW_WAIVER,
        "Withdrawing the same waiver again records nothing and answers this withdrawal (200).",
        waiver_id="$response.body#/waiver_id",
    ),
    "ListWithdrawals": _records_of(
        "waiver_withdrawal", "$response.body#/model", "$response.body#/version"
    ),
    "VerifyLedger": _VERIFY,
}

TIER_CHANGE_LINKS: dict[str, Any] = {
    "ReadModelHistory": _link(
        READ_MODEL_HISTORY,
        "The model's history, with this tier change.",
        name="$response.body#/model",
    ),
    "VerifyLedger": _VERIFY,
}

# The audit listing's filters (GET /v1/audit): its next page keeps them.
AUDIT_FILTERS = ("kind", "model", "version", "gate", "outcome", "stage", "since", "until")

AUDIT_PAGE_LINKS: dict[str, Any] = {
    "NextPage": _link(
        LIST_AUDIT_RECORDS,
        "The next (older) page under the same filters; absent on the last page.",
        before="$response.body#/next_before",
        **{name: f"$request.query.{name}" for name in (*AUDIT_FILTERS, "limit", "include")},
    ),
    "ReadFirstDecision": _link(
        READ_DECISION,
        "The first record on the page, when it is a decision.",
        decision_id="$response.body#/records/0/decision_id",
    ),
}
