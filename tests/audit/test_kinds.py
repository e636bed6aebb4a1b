"""The table of record kinds is the one place a kind is declared: the envelope, the column
checks, the stores and the API all read it, and a kind not in it is refused everywhere."""

from __future__ import annotations

import json
from typing import Any, get_args

import pytest
from fastapi import FastAPI

from service.api.models import AuditRecord, RecordKind
from service.api.routes_audit import router as audit_router
from service.audit.columns import event_columns, expected_columns
from service.audit.envelope import GENESIS_PREV, PAYLOAD_TYPE, seal, statement_payload
from service.audit.keys import Keyring, SigningKey
from service.audit.kinds import (
    DECISION,
    KIND_NAMES,
    KINDS,
    POLICY_REVISION,
    DecisionColumns,
    EventColumns,
    Field,
    Kind,
    UnknownRecordKind,
    _table,
    kind_of_predicate,
    record_kind,
)
from service.audit.ledger import Ledger
from service.audit.stores.base import ADDED_COLUMNS, RecordRow
from service.audit.verify import verify_envelopes
from service.canonical import canonical_json
from service.decision.recording import pending_decision
from tests.audit.factory import ARTIFACT, make_decision
from tests.audit.test_tampering import kinds_by_seq

# The predicate types ledgers already hold: a record is read and verified by its type, so
# changing one would make every existing record of that kind unreadable.
SIGNED_PREDICATE_TYPES = {
    "decision": "https://mlgate.dev/decision/v1",
    "approval": "https://mlgate.dev/approval/v1",
    "waiver": "https://mlgate.dev/waiver/v1",
    "waiver_withdrawal": "https://mlgate.dev/waiver-withdrawal/v1",
    "tier_change": "https://mlgate.dev/tier-change/v1",
    "policy_reload": "https://mlgate.dev/policy-reload/v1",
    "alias_move": "https://mlgate.dev/alias-move/v1",
    "policy_revision": "https://mlgate.dev/policy-revision/v1",
}
EVENT_KINDS = [name for name, kind in KINDS.items() if isinstance(kind.columns, EventColumns)]
MADE_UP = "made_up"


def event_content(name: str, n: int = 0) -> tuple[dict[str, Any], str, str]:
    """Content for a record of event kind `name`, built from its rules alone, with the outcome
    and `by` its columns must then hold."""
    rules = record_kind(name).columns
    assert isinstance(rules, EventColumns)
    content: dict[str, Any] = {
        "id": f"{name}-{n}",
        "model": "fraud-detector",
        "version": "7",
        "artifact_digest": ARTIFACT,
    }
    outcome = rules.outcome
    if isinstance(outcome, Field):
        content[outcome.name] = "approved"
    if rules.by:
        content[rules.by] = "m.okafor"
    if name == POLICY_REVISION:  # the verifier checks the files it names are kept
        content["files"] = []
    return (
        content,
        "approved" if isinstance(outcome, Field) else outcome,
        "m.okafor" if rules.by else "",
    )


def test_every_kind_has_a_versioned_predicate_type_and_column_rules() -> None:
    assert tuple(KINDS) == KIND_NAMES
    for name, kind in KINDS.items():
        assert kind.name == name
        assert kind.predicate_type.startswith("https://mlgate.dev/")
        assert kind.predicate_type.endswith("/v1")
        assert isinstance(kind.columns, DecisionColumns | EventColumns)
        assert kind_of_predicate(kind.predicate_type) is kind
    assert [n for n, k in KINDS.items() if isinstance(k.columns, DecisionColumns)] == [DECISION]


def test_the_predicate_types_already_signed_are_unchanged() -> None:
    signed = {name: KINDS[name].predicate_type for name in SIGNED_PREDICATE_TYPES if name in KINDS}
    assert signed == SIGNED_PREDICATE_TYPES


@pytest.mark.parametrize("name", KIND_NAMES)
def test_the_envelope_signs_each_kind_under_its_predicate_type(name: str) -> None:
    payload = statement_payload([], {}, seq=1, prev=GENESIS_PREV, at="t", kind=name)

    statement = json.loads(payload)

    assert statement["predicateType"] == KINDS[name].predicate_type


def test_the_api_offers_exactly_the_kinds_of_the_table() -> None:
    assert get_args(RecordKind) == KIND_NAMES
    assert AuditRecord.model_json_schema()["properties"]["kind"]["enum"] == list(KIND_NAMES)
    app = FastAPI()
    app.include_router(audit_router)
    parameters = app.openapi()["paths"]["/v1/audit"]["get"]["parameters"]
    (kind,) = [p for p in parameters if p["name"] == "kind"]
    assert kind["schema"]["anyOf"][0]["enum"] == list(KIND_NAMES)


def test_the_stores_default_kind_is_in_the_table() -> None:
    assert ADDED_COLUMNS["kind"] in KINDS
    assert RecordRow(0, "", "", "", "", "", "", "", "", "", b"").kind in KINDS


def test_every_kind_is_written_found_by_its_kind_and_verified(
    ledger: Ledger, keyring: Keyring
) -> None:
    """The columns the writer stores and the ones the verifier and the listings expect come
    from the same rules, for each kind in the table."""
    decision, document = make_decision()
    ledger.record(pending_decision(decision, document))
    for name in EVENT_KINDS:
        content, outcome, by = event_content(name)
        model = (content["model"], content["version"], ARTIFACT)
        ledger.record_event(name, content["id"], content, model=model, outcome=outcome, by=by)

    for name in KIND_NAMES:
        (found,) = ledger.find(kind=name)
        assert found.kind == name
        assert found.statement()["predicateType"] == KINDS[name].predicate_type
    report = ledger.verify(keyring)
    assert report.ok, report.problems
    assert report.kinds == dict.fromkeys(KIND_NAMES, 1)


def test_a_made_up_kind_is_refused_naming_the_kinds_there_are() -> None:
    with pytest.raises(UnknownRecordKind) as refused:
        record_kind(MADE_UP)

    message = str(refused.value)
    assert f"no record kind {MADE_UP!r}" in message
    assert all(name in message for name in KIND_NAMES)
    assert "service/audit/kinds.py" in message


def test_a_made_up_kind_is_neither_signed_nor_indexed() -> None:
    with pytest.raises(UnknownRecordKind, match=MADE_UP):
        statement_payload([], {}, seq=1, prev=GENESIS_PREV, at="t", kind=MADE_UP)
    with pytest.raises(UnknownRecordKind, match=MADE_UP):
        event_columns(MADE_UP, {"id": "x"})
    with pytest.raises(UnknownRecordKind, match=MADE_UP):
        expected_columns(MADE_UP, {"id": "x", "recorded_at": "t"}, (), "")


def test_the_ledger_records_no_made_up_kind(ledger: Ledger) -> None:
    with pytest.raises(UnknownRecordKind, match=MADE_UP):
        ledger.record_event(MADE_UP, "x1", {"id": "x1"}, outcome="", by="")

    assert ledger.last_seq() == 0


def test_a_decision_is_not_recorded_as_an_event(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="record_event takes a kind other than decision"):
        ledger.record_event(DECISION, "d1", {"id": "d1", "outcome": "allow"}, outcome="allow")

    assert ledger.last_seq() == 0


def test_a_signed_record_of_a_made_up_predicate_type_does_not_verify() -> None:
    key = SigningKey.generate()
    made_up_type = "https://mlgate.dev/made-up/v1"
    payload = canonical_json(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [],
            "predicateType": made_up_type,
            "predicate": {"seq": 1, "prev": GENESIS_PREV, "recorded_at": "2026-01-01T00:00:00Z"},
        }
    )

    report = verify_envelopes([seal(PAYLOAD_TYPE, payload, key)], Keyring([]))

    assert kinds_by_seq(report) == {1: {"malformed"}}
    assert made_up_type in report.problems[0].message


def test_a_kind_or_predicate_type_given_twice_stops_the_table_loading() -> None:
    rules = EventColumns(outcome="granted")
    with pytest.raises(RuntimeError, match="same name: waiver"):
        _table(Kind("waiver", "https://a/v1", rules), Kind("waiver", "https://b/v1", rules))
    with pytest.raises(RuntimeError, match="same predicate type: https://a/v1"):
        _table(Kind("a", "https://a/v1", rules), Kind("b", "https://a/v1", rules))
