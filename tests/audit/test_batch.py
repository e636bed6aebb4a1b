"""Group commit: several decisions recorded in one transaction, all or nothing."""

from __future__ import annotations

import hashlib

from service.audit.keys import Keyring
from service.audit.ledger import Ledger
from service.audit.records import PendingRecord
from service.canonical import canonical_json
from service.decision.model import AuditReceipt, Decision
from service.decision.recording import decision_record
from service.errors import AuditWriteFailed
from tests.audit.factory import StoreFactory, make_decision, record_many


def records(entries: list[tuple[Decision, bytes]]) -> list[PendingRecord]:
    return [decision_record(decision, document) for decision, document in entries]


def judged(n: int) -> tuple[Decision, bytes]:
    decision, doc = make_decision(n=n)
    return decision, canonical_json(doc)


def test_a_batch_is_chained_in_order_after_what_was_there(ledger: Ledger, keyring: Keyring) -> None:
    record_many(ledger, 2)
    batch = [judged(n) for n in range(10, 15)]

    receipts = ledger.record_batch(records(batch))

    assert [r.seq for r in receipts if isinstance(r, AuditReceipt)] == [3, 4, 5, 6, 7]
    for (decision, _), receipt in zip(batch, receipts, strict=True):
        stored = ledger.get(decision.decision_id)
        assert isinstance(receipt, AuditReceipt)
        assert stored.seq == receipt.seq
        assert receipt.envelope_digest == "sha256:" + hashlib.sha256(stored.envelope).hexdigest()
        assert stored.predicate()["prev"] == ledger.get_seq(stored.seq - 1).envelope_digest[7:]
    report = ledger.verify(keyring)
    assert (report.ok, report.records) == (True, 7)


def test_a_mismatched_entry_fails_alone(ledger: Ledger) -> None:
    good, other = judged(1), judged(2)
    wrong = (judged(3)[0], other[1])  # the bytes of another decision's input

    results = ledger.record_batch(records([good, wrong, other]))

    assert isinstance(results[0], AuditReceipt) and isinstance(results[2], AuditReceipt)
    assert isinstance(results[1], AuditWriteFailed)
    assert "input digest" in results[1].message
    assert (results[0].seq, results[2].seq) == (1, 2)
    assert ledger.last_seq() == 2


def test_when_the_transaction_fails_every_entry_fails_and_nothing_is_stored(
    stores: StoreFactory, ledger: Ledger
) -> None:
    record_many(ledger, 1)
    first = judged(1)
    again = (first[0].model_copy(update={}), first[1])  # the same decision id twice

    results = ledger.record_batch(records([judged(2), first, again]))

    messages = [r.message for r in results if isinstance(r, AuditWriteFailed)]
    assert len(messages) == 3
    assert all("already exists; nothing was changed" in message for message in messages)
    assert ledger.last_seq() == 1
    assert stores.execute("SELECT count(*) FROM record_inputs")[0][0] == 1
