"""What a reviewer needs to verify the ledger without trusting this server: the envelopes
exactly as stored, the keyring, the signed checkpoints, and any one record with its envelope.
`mlgate audit verify --url` fetches them and verifies on the reviewer's machine."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRouter

from service.api.auth import ReaderCaller
from service.api.jsonbody import UniqueNamesRoute
from service.api.links import (
    AUDIT_FILTERS,
    EXPORT_AUDIT,
    READ_AUDIT_RECORD,
    READ_CHECKPOINTS,
    READ_KEYRING,
)
from service.api.models import (
    AUTH_ERRORS,
    DATE_TIME,
    UNAVAILABLE,
    AuditRecordEnvelope,
    ModelName,
    RecordKind,
    check_text_params,
    problem_example,
)
from service.api.queryparams import UNKNOWN_QUERY, known_gate, only_query
from service.api.routes_audit import MAX_SEQ, record_summary, time_bound
from service.api.runtime import RuntimeDep
from service.audit.keys import load_keyring
from service.decision.model import Outcome, Stage
from service.errors import NotFound

router = APIRouter(route_class=UniqueNamesRoute, tags=["audit"])
JSON_LINES = "application/jsonl"
_LINES: dict[int | str, dict[str, Any]] = {
    200: {"content": {JSON_LINES: {"schema": {"type": "string"}}}}
}


def _lines(envelopes: Iterable[bytes]) -> Iterator[bytes]:
    for envelope in envelopes:
        yield envelope + b"\n"


@router.get(
    "/v1/audit/export",
    operation_id=EXPORT_AUDIT,
    response_class=StreamingResponse,
    summary="The ledger's envelopes exactly as stored, one per line, oldest first",
    description=(
        "JSON lines (`application/jsonl`): each line is a record's DSSE envelope byte for byte "
        "as stored, so `prev` can be recomputed from them (README, 'Checking the chain by "
        "hand'). With no filter, every record, streamed; `mlgate audit verify --file` and "
        "`--url` verify it. The filters are the listing's; a filtered export leaves gaps in "
        "the chain, so it checks signatures, not completeness."
    ),
    responses={**_LINES, **AUTH_ERRORS, **UNKNOWN_QUERY, **UNAVAILABLE},
)
def export(
    caller: ReaderCaller,
    _: Annotated[None, only_query(*AUDIT_FILTERS)],
    runtime: RuntimeDep,
    kind: Annotated[RecordKind | None, Query()] = None,
    model: Annotated[ModelName | None, Query()] = None,
    version: Annotated[str | None, Query()] = None,
    gate: Annotated[str | None, Query(description="A gate this service knows.")] = None,
    outcome: Annotated[Outcome | None, Query()] = None,
    stage: Annotated[Stage | None, Query()] = None,
    since: Annotated[str | None, Query(json_schema_extra=DATE_TIME)] = None,
    until: Annotated[str | None, Query(json_schema_extra=DATE_TIME)] = None,
) -> StreamingResponse:
    check_text_params(version=version, gate=gate)
    filters: dict[str, Any] = {
        "kind": kind,
        "model": model,
        "version": version,
        "gate": known_gate(runtime.gates, gate),
        "outcome": outcome,
        "stage": stage,
        "since": time_bound("since", since),
        "until": time_bound("until", until),
    }
    filters = {name: value for name, value in filters.items() if value is not None}
    if not filters:
        return StreamingResponse(_lines(runtime.ledger.envelopes()), media_type=JSON_LINES)
    # The listing's query reads newest first; the matches are turned oldest first here, so a
    # filtered export is held in memory while it is answered.
    matches = [record.envelope for record in runtime.ledger.iter_find(**filters)]
    return StreamingResponse(_lines(reversed(matches)), media_type=JSON_LINES)


@router.get(
    "/v1/audit/keys",
    operation_id=READ_KEYRING,
    summary="The keyring: each public key with its validity window",
    description=(
        "The keys the ledger's records and checkpoints are verified with, in the keyring file's "
        "format (`mlgate audit verify --keyring`). A reviewer who holds a copy obtained "
        "elsewhere should verify with that copy: keys served by the server being checked prove "
        "only that the server is consistent with itself."
    ),
    responses={**AUTH_ERRORS, **UNKNOWN_QUERY, **UNAVAILABLE},
)
def keys(caller: ReaderCaller, _: Annotated[None, only_query()], runtime: RuntimeDep) -> Any:
    return load_keyring(runtime.settings.resolved_keyring).to_json()


@router.get(
    "/v1/audit/checkpoints",
    operation_id=READ_CHECKPOINTS,
    response_class=StreamingResponse,
    summary="The signed checkpoints, one envelope per line, exactly as stored",
    description=(
        "Each checkpoint signs a ledger size and the RFC 6962 Merkle root of the envelopes up "
        "to it. Keep copies away from the server: a later export that no longer matches a kept "
        "checkpoint has lost or changed records (`mlgate audit verify --checkpoint FILE`)."
    ),
    responses={**_LINES, **AUTH_ERRORS, **UNKNOWN_QUERY, **UNAVAILABLE},
)
def checkpoints(
    caller: ReaderCaller, _: Annotated[None, only_query()], runtime: RuntimeDep
) -> StreamingResponse:
    return StreamingResponse(_lines(runtime.ledger.stored_checkpoints()), media_type=JSON_LINES)


@router.get(
    "/v1/audit/records/{record}",
    operation_id=READ_AUDIT_RECORD,
    response_model=AuditRecordEnvelope,
    response_model_exclude_none=True,
    summary="One record of any kind, by its id or seq, with its envelope as stored",
    description=(
        "Decisions, sign-offs, withdrawals, snapshots, alias moves, policy reloads: the "
        "listing's row and `envelope`, the stored bytes as text, whose SHA-256 is the next "
        "record's `prev`."
    ),
    responses={
        404: problem_example(404, "not_found", "no record with id 'd-…'; GET /v1/audit lists …"),
        **AUTH_ERRORS,
        **UNKNOWN_QUERY,
        **UNAVAILABLE,
    },
)
def record(
    caller: ReaderCaller,
    _: Annotated[None, only_query()],
    record: str,
    runtime: RuntimeDep,
) -> AuditRecordEnvelope:
    check_text_params(record=record)
    if record.isascii() and record.isdigit() and 0 < int(record) <= MAX_SEQ:
        stored = runtime.ledger.get_seq(int(record))
    else:
        try:
            stored = runtime.ledger.get(record)
        except NotFound:
            raise NotFound(
                f"no record with id {record!r}; GET /v1/audit lists the records (a seq works too)"
            ) from None
    return AuditRecordEnvelope.model_validate(
        {
            **record_summary(stored).model_dump(exclude_none=True),
            "envelope": stored.envelope.decode("utf-8"),
        }
    )
