"""Reading the audit trail: one decision as recorded, a filtered page of records, verification."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Header, Path, Query, Response
from starlette.convertors import Convertor, register_url_convertor

from service.api.auth import ReaderCaller
from service.api.jsonbody import UniqueNamesRoute
from service.api.links import (
    AUDIT_FILTERS,
    AUDIT_PAGE_LINKS,
    LIST_AUDIT_RECORDS,
    READ_DECISION,
    READ_MODEL_HISTORY,
    VERIFY_LEDGER,
)
from service.api.models import (
    AUTH_ERRORS,
    DATE_TIME,
    EXAMPLE_DECISION,
    EXAMPLE_DECISION_ID,
    UNAVAILABLE,
    AliasMove,
    AuditPage,
    AuditRecord,
    ModelHistory,
    ModelName,
    RecordKind,
    StoredDecision,
    TierChange,
    VerifyResult,
    check_text_params,
    problem_example,
    rfc3339,
)
from service.api.queryparams import UNKNOWN_QUERY, known_gate, only_query
from service.api.runtime import RuntimeDep
from service.audit.clock import format_time, parse_time
from service.audit.keys import load_keyring
from service.audit.ledger import Ledger
from service.audit.records import LedgerRecord
from service.decision.model import DecisionAnswer, Outcome, Stage
from service.enact.history import alias_history
from service.errors import InvalidField, NotFound
from service.review.table import audit_csv
from service.signoffs.tiers import TierBook

router = APIRouter(route_class=UniqueNamesRoute, tags=["audit"])
MAX_PAGE = 500
MAX_SEQ = 2**63 - 1  # the largest seq either store can hold
_DECISION_FIELDS = set(DecisionAnswer.model_fields) - {"audit", "enactment"}
_VALIDATION: dict[int | str, Any] = {
    422: problem_example(422, "invalid_request", "limit: must be at most 500", "limit")
}


@router.get(
    "/v1/decisions/{decision_id}",
    operation_id=READ_DECISION,
    response_model=StoredDecision,
    response_model_exclude_none=True,
    summary="A recorded decision, with its signed record",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "decision": EXAMPLE_DECISION,
                        "recorded_at": "2026-11-21T12:00:00.004211Z",
                        "keyid": "ed25519:5b0c…",
                        "envelope": {
                            "payloadType": "application/vnd.in-toto+json",
                            "payload": "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQv…",
                            "signatures": [{"keyid": "ed25519:5b0c…", "sig": "MEUCIQ…"}],
                        },
                    }
                }
            }
        },
        **AUTH_ERRORS,
        404: problem_example(404, "not_found", f"no decision '{EXAMPLE_DECISION_ID}' in …"),
        **_VALIDATION,
        **UNAVAILABLE,
    },
)
def read_decision(
    caller: ReaderCaller,
    _: Annotated[None, only_query("include")],
    decision_id: str,
    runtime: RuntimeDep,
    include: Annotated[
        Literal["input"] | None,
        Query(description="`input` adds the input document the decision was made on."),
    ] = None,
) -> StoredDecision:
    check_text_params(decision_id=decision_id)
    record = runtime.ledger.get(decision_id)
    if record.kind != "decision":
        raise NotFound(
            f"{decision_id!r} is a record of kind {record.kind}, not a decision; "
            f"GET /v1/audit?kind={record.kind} lists them"
        )
    predicate = record.predicate()
    decision = DecisionAnswer.model_validate(
        {
            **{k: v for k, v in predicate.items() if k in _DECISION_FIELDS},
            "audit": {"seq": record.seq, "envelope_digest": record.envelope_digest},
        }
    )
    return StoredDecision(
        decision=decision,
        recorded_at=record.recorded_at,
        keyid=record.keyid,
        envelope=json.loads(record.envelope),
        input=(runtime.ledger.input_document(record.seq, record.input_digest) if include else None),
    )


@router.get(
    "/v1/audit",
    operation_id=LIST_AUDIT_RECORDS,
    response_model=AuditPage,
    response_model_exclude_none=True,
    summary="Audit records, newest first, filtered and paginated",
    description=(
        "`include=reasons,warnings,signoffs` adds to each decision its reasons, its warnings "
        "(a waived rule carries its waiver) and the sign-off records it relied on. The same "
        "page as CSV, one row per record, with `format=csv` or `Accept: text/csv`; the "
        '`Link` header (rel="next") then gives the next page of the same query: its '
        "filters, limit and include, `format=csv` and the `before` cursor."
    ),
    responses={
        200: {
            "links": AUDIT_PAGE_LINKS,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **AUTH_ERRORS,
        **_VALIDATION,
        **UNAVAILABLE,
    },
)
def list_records(
    caller: ReaderCaller,
    _: Annotated[
        None,
        only_query(*AUDIT_FILTERS, "before", "limit", "include", "format"),
    ],
    runtime: RuntimeDep,
    kind: Annotated[
        RecordKind | None,
        Query(description="Only records of this kind (decisions and what they rely on)."),
    ] = None,
    model: Annotated[ModelName | None, Query(description="Model name.")] = None,
    version: Annotated[str | None, Query(description="Model version.", examples=["7"])] = None,
    gate: Annotated[
        str | None, Query(description="A gate this service knows.", examples=["promotion"])
    ] = None,
    outcome: Annotated[Outcome | None, Query(examples=["deny"])] = None,
    stage: Annotated[
        Stage | None,
        Query(description="Only records about this stage (a decision's target, a snapshot's)."),
    ] = None,
    since: Annotated[
        str | None,
        Query(description="Recorded at or after this RFC 3339 time.", json_schema_extra=DATE_TIME),
    ] = None,
    until: Annotated[
        str | None,
        Query(description="Recorded before this RFC 3339 time.", json_schema_extra=DATE_TIME),
    ] = None,
    before: Annotated[
        int | None,
        Query(ge=1, le=MAX_SEQ, description="Only records with a lower seq: the page cursor."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    include: Annotated[
        str | None,
        Query(
            description="Comma-separated, for decisions: `reasons`, `warnings` (waived rules "
            "among them, with their waiver), `signoffs` (the sign-off records relied on).",
            examples=["reasons,warnings,signoffs"],
        ),
    ] = None,
    format: Annotated[
        Literal["json", "csv"] | None,
        # Out of the document's parameters: the document promises JSON (its links read the
        # body), and CSV is the same page for a spreadsheet (the description says so).
        Query(include_in_schema=False),
    ] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> AuditPage | Response:
    check_text_params(version=version, gate=gate)
    included = _included(include)
    bounds = {name: time_bound(name, value) for name, value in (("since", since), ("until", until))}
    records = runtime.ledger.find(
        kind=kind,
        model=model,
        version=version,
        gate=known_gate(runtime.gates, gate),
        outcome=outcome,
        stage=stage,
        since=bounds["since"],
        until=bounds["until"],
        before_seq=before,
        limit=limit + 1,
    )
    page = records[:limit]
    next_before = page[-1].seq if len(records) > limit else None
    wants_csv = format == "csv" or (format is None and "text/csv" in (accept or ""))
    if wants_csv:
        rows = [record_summary(r, INCLUDES, runtime.ledger) for r in page]
        query = {
            "kind": kind,
            "model": model,
            "version": version,
            "gate": gate,
            "outcome": outcome,
            "stage": stage,
            "since": since,
            "until": until,
            "limit": limit,
            "include": include,
            "format": "csv",
        }
        headers = {"Link": next_link(query, next_before)} if next_before else {}
        return Response(audit_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)
    return AuditPage(
        records=[record_summary(r, included, runtime.ledger) for r in page],
        next_before=next_before,
    )


def next_link(query: dict[str, Any], before: int) -> str:
    """The `Link` header value (RFC 8288) to the page after one ending before `before`: the
    same query (parameters that are None left out) with `before` as the cursor, as a relative
    reference (RFC 3986 section 4.2) that a client resolves against the URL it asked."""
    given = {name: value for name, value in query.items() if value is not None}
    return f'<?{urlencode({**given, "before": before})}>; rel="next"'


INCLUDES = frozenset({"reasons", "warnings", "signoffs"})


def _included(include: str | None) -> frozenset[str]:
    if include is None:
        return frozenset()
    asked = {part.strip() for part in include.split(",") if part.strip()}
    unknown = sorted(asked - INCLUDES)
    if unknown:
        raise InvalidField(
            "include",
            f"{', '.join(unknown)} is not one of {', '.join(sorted(INCLUDES))} (comma-separated)",
        )
    return frozenset(asked)


def time_bound(name: str, value: str | None) -> str | None:
    """The RFC 3339 time of query parameter `name` (since, until), checked; InvalidField if
    it is not one this service can compare."""
    if value is None:
        return None
    try:
        checked = rfc3339(value)
    except ValueError as exc:
        raise InvalidField(name, str(exc)) from None
    try:
        format_time(parse_time(checked))
    except (ValueError, OverflowError):
        # RFC 3339 allows a leap second, which Python's clock lacks, and an offset that takes
        # 0001-01-01 or 9999-12-31 out of the years it holds once in UTC.
        raise InvalidField(
            name,
            f"{value} is not a time this service can compare (seconds 00 to 59, years 0001 to "
            "9999 in UTC)",
        ) from None
    return checked


def record_summary(
    record: LedgerRecord, include: frozenset[str] = frozenset(), ledger: Ledger | None = None
) -> AuditRecord:
    """The listing's row for `record`: a decision's fields, or another kind's `content`; for a
    decision, the parts `include` names (reasons, warnings, signoffs: read from `ledger`)."""
    predicate: dict[str, Any] = record.predicate()
    common = {
        "seq": record.seq,
        "kind": record.kind,
        "id": record.decision_id,
        "recorded_at": record.recorded_at,
        "envelope_digest": record.envelope_digest,
        "keyid": record.keyid,
    }
    if record.kind == "decision":
        row = {**predicate, **common}
        for part in ("reasons", "warnings"):
            if part not in include:
                row.pop(part, None)
        if "signoffs" in include and ledger is not None:
            row["signoffs"] = [
                record_summary(ledger.get(i)).model_dump(exclude_none=True)
                for i in predicate.get("signoff_records", [])
            ]
        return AuditRecord.model_validate(row)
    content = {k: v for k, v in predicate.items() if k not in ("seq", "prev", "recorded_at")}
    model = None
    if content.get("model"):
        # A record about a whole model (a tier change) names no version.
        model = {"name": content["model"], "version": str(content.get("version", ""))}
    return AuditRecord.model_validate({**common, "model": model, "content": content})


@router.get(
    "/v1/audit/verify",
    operation_id=VERIFY_LEDGER,
    response_model=VerifyResult,
    summary="Verify the whole ledger: signatures, hash chain, sequence, checkpoints",
    description=(
        "200 with `ok: false` and the problems when the ledger does not verify. One "
        "verification runs at a time: a request arriving while one runs gets its report, "
        "which covers the records up to its `last_seq`."
    ),
    responses={**AUTH_ERRORS, **UNKNOWN_QUERY, **UNAVAILABLE},
)
def verify(
    caller: ReaderCaller, _: Annotated[None, only_query()], runtime: RuntimeDep
) -> VerifyResult:
    keyring = load_keyring(runtime.settings.resolved_keyring)
    report = runtime.verification.verify(keyring).to_json()
    redact = runtime.private_paths.redact  # a problem may name the keyring or the ledger file
    report["summary"] = redact(report["summary"])
    for problem in report["problems"]:
        problem["message"] = redact(problem["message"])
    return VerifyResult.model_validate(report)


class _WholeName(Convertor[str]):
    """A path parameter that may hold "/" (Starlette's `path` may not hold a newline), so that
    such a name reaches the route, to be refused naming `name`, rather than match no endpoint
    (404). The document shows the template as /v1/models/{name}/history."""

    regex = "(?s:.+)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("whole_name", _WholeName())


@router.get(
    "/v1/models/{name:whole_name}/history",
    operation_id=READ_MODEL_HISTORY,
    response_model=ModelHistory,
    summary="The alias moves the gate made for a model and its risk tier changes, newest first",
    description=(
        "MLflow keeps no history of aliases; every move the gate made (or failed to make) is a "
        "signed ledger record: which alias, from which version to which, the decision it rests "
        "on and who asked. Every change of the model's risk tier (POST /v1/tiers) is listed "
        "too, with who changed it, as what, from which tier and why; `alias` filters only the "
        "moves. A name not in the one form of a model name is a 422."
    ),
    responses={**AUTH_ERRORS, **_VALIDATION, **UNAVAILABLE},
)
def model_history(
    caller: ReaderCaller,
    _: Annotated[None, only_query("alias")],
    name: Annotated[ModelName, Path()],
    runtime: RuntimeDep,
    alias: Annotated[str | None, Query(description="Only this alias.")] = None,
) -> ModelHistory:
    check_text_params(alias=alias)
    moves = alias_history(runtime.ledger, name, alias)
    changes = TierBook(runtime.ledger).changes(name)
    return ModelHistory(
        model=name,
        moves=[AliasMove.model_validate(m) for m in moves],
        tier_changes=[TierChange.model_validate(c) for c in changes],
    )
