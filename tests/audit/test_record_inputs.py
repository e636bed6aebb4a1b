"""Input documents kept with their record, under its seq (service/audit/stores/reads.py), on
SQLite and PostgreSQL: each record keeps its own, a document moved to another record is
refused, and a ledger written before (its documents kept under their digest in `inputs`) still
reads and verifies, also opened for reading only before the table existed."""

from __future__ import annotations

import pytest

from service.audit.keys import KeyFiles, Keyring, KeyringSource
from service.audit.ledger import Ledger
from service.decision.recording import pending_decision
from service.errors import NotFound
from tests.audit.factory import StoreFactory, make_decision, make_input, record_many


def test_each_record_keeps_its_input_document_under_its_seq(
    ledger: Ledger, stores: StoreFactory
) -> None:
    doc = make_input(42)
    first, _ = make_decision(doc)
    second, _ = make_decision(doc, outcome="allow")
    receipts = [ledger.record(pending_decision(d, doc)) for d in (first, second)]

    assert [ledger.input_document(r.seq, first.input_digest) for r in receipts] == [doc, doc]
    kept = stores.execute("SELECT seq FROM record_inputs ORDER BY seq")
    assert [row[0] for row in kept] == [r.seq for r in receipts]
    assert stores.execute("SELECT count(*) FROM inputs")[0][0] == 0


def test_documents_moved_between_records_are_refused_and_reported(
    ledger: Ledger, stores: StoreFactory, keyring: Keyring
) -> None:
    record_many(ledger, 3)
    digest_of_2 = ledger.get_seq(2).input_digest
    stores.execute("UPDATE record_inputs SET seq = -2 WHERE seq = 2")
    stores.execute("UPDATE record_inputs SET seq = 2 WHERE seq = 3")
    stores.execute("UPDATE record_inputs SET seq = 3 WHERE seq = -2")

    with pytest.raises(NotFound, match="it was altered"):
        ledger.input_document(2, digest_of_2)
    problems = [(p.seq, p.kind) for p in ledger.verify(keyring).problems]
    assert problems == [(2, "input altered"), (3, "input altered")]


def _as_written_before(stores: StoreFactory, *, drop_table: bool) -> None:
    """The ledger as mlgate wrote it before documents were kept by seq: each input document
    under its digest in `inputs`, once per digest (and, with `drop_table`, no record_inputs)."""
    stores.execute(
        "INSERT INTO inputs (digest, document) SELECT DISTINCT r.input_digest, d.document "
        "FROM record_inputs d JOIN records r ON r.seq = d.seq"
    )
    stores.execute("DROP TABLE record_inputs" if drop_table else "DELETE FROM record_inputs")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_ledger_written_before_reads_and_verifies_and_new_records_keep_theirs_by_seq(
    stores: StoreFactory, key_files: KeyFiles, keyring: Keyring, workers: int
) -> None:
    with stores.ledger(key_files) as ledger:
        record_many(ledger, 4)
    _as_written_before(stores, drop_table=True)

    with stores.ledger(key_files) as ledger:  # opened to write: the table is added
        record_many(ledger, 2, start=4)
        documents = [ledger.input_document(n, ledger.get_seq(n).input_digest) for n in (1, 6)]
        report = ledger.verify(keyring, workers=workers)

    assert [doc["metrics"]["n"] for doc in documents] == [0, 5]
    assert report.ok, report.problems
    assert [row[0] for row in stores.execute("SELECT seq FROM record_inputs")] == [5, 6]
    stores.execute("DELETE FROM inputs")
    with stores.ledger(key_files) as ledger:
        problems = {(p.seq, p.kind) for p in ledger.verify(keyring, workers=workers).problems}
    assert problems == {(n, "input missing") for n in range(1, 5)}


def test_a_ledger_written_before_opened_for_reading_only_reads_and_verifies(
    stores: StoreFactory, key_files: KeyFiles, keyring: Keyring
) -> None:
    with stores.ledger(key_files) as ledger:
        record_many(ledger, 3)
    _as_written_before(stores, drop_table=True)

    reader = Ledger(stores.store_to_read(), keyring=KeyringSource(key_files.keyring))
    try:
        digest = reader.get_seq(2).input_digest
        assert reader.input_document(2, digest)["metrics"]["n"] == 1
        assert reader.verify(keyring).ok
    finally:
        reader.close()
    with pytest.raises(Exception, match="record_inputs"):  # read only: no table was added
        stores.execute("SELECT count(*) FROM record_inputs")
