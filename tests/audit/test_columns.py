"""Finding 1: the columns queries filter on, and the kept input documents, are verified."""

from __future__ import annotations

import base64
import json

import pytest

from service.audit.keys import Keyring
from service.audit.ledger import Ledger
from service.decision.recording import pending_decision
from service.errors import LedgerTampered
from tests.audit.factory import StoreFactory, make_decision, record_many
from tests.audit.test_tampering import kinds_by_seq

RECORDS = 6


@pytest.fixture
def filled(ledger: Ledger) -> Ledger:
    record_many(ledger, RECORDS)  # every one a deny
    return ledger


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("outcome", "allow"),
        ("model_name", "other-model"),
        ("model_version", "8"),
        ("gate", "monitoring"),
        ("kind", "approval"),
        ("caller_id", "someone-else"),
        ("artifact_digest", "sha256:" + "0" * 64),
        ("stage", "staging"),
        ("risk_tier", "low"),
        ("recorded_at", "2020-01-01T00:00:00.000000Z"),
        ("decision_id", "not-the-id"),
        ("keyid", "another-key"),
        ("input_digest", "sha256:" + "1" * 64),
    ],
)
def test_an_indexed_column_edited_in_the_database_fails_verification(
    filled: Ledger, stores: StoreFactory, keyring: Keyring, column: str, value: str
) -> None:
    stores.execute(f"UPDATE records SET {column} = ? WHERE seq = 3", (value,))
    report = filled.verify(keyring)
    assert kinds_by_seq(report) == {3: {"column mismatch"}}
    assert f"{column} {value!r}" in report.problems[0].message


def test_a_deny_hidden_from_an_outcome_query_fails_verification(
    filled: Ledger, stores: StoreFactory, keyring: Keyring
) -> None:
    stores.execute("UPDATE records SET outcome = 'allow' WHERE seq = 4")
    assert 4 not in {r.seq for r in filled.find(outcome="deny")}
    report = filled.verify(keyring)
    assert not report.ok
    assert report.problems[0].line().startswith("seq 4: column mismatch: ")
    assert "outcome 'allow' (signed: 'deny')" in report.problems[0].message


def test_a_listing_refuses_a_record_whose_filtered_column_was_edited(
    ledger: Ledger, stores: StoreFactory
) -> None:
    decision, doc = make_decision(outcome="allow")
    ledger.record(pending_decision(decision, doc))
    stores.execute("UPDATE records SET outcome = 'deny' WHERE seq = 1")
    with pytest.raises(LedgerTampered, match="outcome 'deny' \\(signed: 'allow'\\)"):
        ledger.find(outcome="deny")


def test_an_altered_input_document_fails_verification(
    filled: Ledger, stores: StoreFactory, keyring: Keyring
) -> None:
    stores.execute("UPDATE record_inputs SET document = ? WHERE seq = 2", (b'{"gate":"x"}',))
    report = filled.verify(keyring)
    assert kinds_by_seq(report) == {2: {"input altered"}}


def test_a_deleted_input_document_fails_verification_unless_inputs_are_skipped(
    filled: Ledger, stores: StoreFactory, keyring: Keyring
) -> None:
    stores.execute("DELETE FROM record_inputs WHERE seq = 5")
    assert kinds_by_seq(filled.verify(keyring)) == {5: {"input missing"}}
    assert filled.verify(keyring, inputs=False).ok


def test_sign_off_and_reload_records_verify_with_their_columns(
    ledger: Ledger, stores: StoreFactory, keyring: Keyring
) -> None:
    from service.signoffs.book import SignoffBook

    book = SignoffBook(ledger)
    approval = book.approve(
        model="m",
        version="1",
        artifact_digest="sha256:" + "a" * 64,
        approver="ann",
        role="risk",
        status="approved",
    ).content
    waiver = book.waive(
        model="m",
        version="1",
        artifact_digest="sha256:" + "a" * 64,
        rule_code="X",
        approved_by="bob",
        role="risk",
        reason="r",
        expires_at="2099-01-01T00:00:00Z",
    ).content
    book.withdraw(waiver["id"], "bob", "done")
    ledger.record_event("policy_reload", "r1", {"id": "r1", "revision": "x"}, outcome="reloaded")
    report = ledger.verify(keyring)
    assert report.ok, report.problems
    assert ledger.get(approval["id"]).kind == "approval"
    # ...and an edit to a sign-off record's column is caught like a decision's.
    stores.execute("UPDATE records SET model_version = '2' WHERE decision_id = ?", (waiver["id"],))
    assert {p.kind for p in ledger.verify(keyring).problems} == {"column mismatch"}


def test_reading_one_record_by_seq_or_id_refuses_a_payload_edited_without_the_key(
    filled: Ledger, stores: StoreFactory
) -> None:
    """The signature, not only the columns: a payload re-encoded with one byte changed keeps
    every column, so only the signature check can refuse it (mlgate audit show, GET by id)."""
    record = filled.get_seq(3)
    envelope = json.loads(record.envelope)
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["reasons"] = []
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    stores.execute(
        "UPDATE records SET envelope = ? WHERE seq = 3", (json.dumps(envelope).encode(),)
    )

    with pytest.raises(LedgerTampered, match="not validly signed"):
        filled.get_seq(3)
    with pytest.raises(LedgerTampered, match="not validly signed"):
        filled.get(record.decision_id)
    assert filled.get_seq(2).seq == 2  # the others still read
