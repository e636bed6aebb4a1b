"""Recording decisions: receipts, exact bytes, inputs by digest, reads, automatic checkpoints."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from service.audit.checkpoint import open_checkpoint
from service.audit.envelope import GENESIS_PREV
from service.audit.keys import KeyFiles, Keyring
from service.audit.ledger import Ledger, open_ledger
from service.audit.merkle import merkle_root
from service.decision.model import answered
from service.decision.recording import pending_decision, recorded_answer
from service.errors import AuditWriteFailed, NotFound, UsageError
from service.settings import Settings
from tests.audit.factory import StoreFactory, make_decision, make_input, record_many


def test_a_receipt_names_the_seq_and_the_digest_of_the_stored_bytes(ledger: Ledger) -> None:
    decision, doc = make_decision()
    receipt = ledger.record(pending_decision(decision, doc))
    stored = ledger.get(decision.decision_id)
    assert receipt.seq == stored.seq == 1
    assert receipt.envelope_digest == "sha256:" + hashlib.sha256(stored.envelope).hexdigest()
    assert stored.predicate()["prev"] == GENESIS_PREV


def test_the_recorded_decision_can_be_read_back_as_it_was_answered(ledger: Ledger) -> None:
    decision, doc = make_decision()
    receipt = ledger.record(pending_decision(decision, doc))
    assert recorded_answer(ledger.get(decision.decision_id)) == answered(decision, receipt)


def test_each_record_chains_to_the_exact_bytes_of_the_one_before(ledger: Ledger) -> None:
    record_many(ledger, 5)
    envelopes = list(ledger.envelopes())
    assert [ledger.get_seq(n).envelope for n in range(1, 6)] == envelopes
    for seq in range(2, 6):
        link = ledger.get_seq(seq).predicate()["prev"]
        assert link == hashlib.sha256(envelopes[seq - 2]).hexdigest()


def test_a_decision_whose_input_digest_does_not_match_is_not_recorded(ledger: Ledger) -> None:
    decision, doc = make_decision()
    with pytest.raises(AuditWriteFailed, match="hashes to"):
        ledger.record(pending_decision(decision, {**doc, "metrics": {"auc": 0.99}}))
    assert ledger.last_seq() == 0


def test_records_can_be_found_by_model_gate_outcome_and_time(ledger: Ledger) -> None:
    decisions = [make_decision(n=n, outcome=("allow" if n % 2 else "deny")) for n in range(6)]
    other = make_input(9, model="churn")
    decisions.append(make_decision(other))
    for decision, doc in decisions:
        ledger.record(pending_decision(decision, doc))
    assert [r.seq for r in ledger.find(model="churn")] == [7]
    assert [r.seq for r in ledger.find(model="fraud-detector", outcome="allow")] == [6, 4, 2]
    assert [r.seq for r in ledger.find(gate="promotion", limit=2)] == [7, 6]
    assert [r.seq for r in ledger.find(before_seq=3)] == [2, 1]
    since = ledger.get_seq(5).recorded_at
    assert [r.seq for r in ledger.find(since=since)] == [7, 6, 5]
    assert [r.seq for r in ledger.find(since=ledger.get_seq(2).recorded_at, until=since)] == [
        4,
        3,
        2,
    ]
    assert [r.seq for r in ledger.find(model="fraud-detector", version="8")] == []
    assert len(ledger.find(version="7")) == 7
    with pytest.raises(UsageError, match="ISO 8601"):
        ledger.find(since="yesterday")


def test_an_unknown_decision_is_not_found(ledger: Ledger) -> None:
    with pytest.raises(NotFound, match="no decision 'nope'"):
        ledger.get("nope")
    with pytest.raises(NotFound, match="no record with seq 3"):
        ledger.get_seq(3)


def test_a_signed_checkpoint_is_stored_every_n_records(
    stores: StoreFactory, key_files: KeyFiles, keyring: Keyring
) -> None:
    with stores.ledger(key_files, checkpoint_every=4) as ledger:
        record_many(ledger, 10)
        checkpoints = [open_checkpoint(raw, keyring) for raw in ledger.stored_checkpoints()]
        envelopes = list(ledger.envelopes())
    assert [c.size for c in checkpoints] == [4, 8]
    assert [c.root for c in checkpoints] == [merkle_root(envelopes[:4]), merkle_root(envelopes[:8])]


def test_checkpoints_stay_right_when_two_writers_take_turns(
    stores: StoreFactory, key_files: KeyFiles, keyring: Keyring
) -> None:
    """Each writer keeps its own Merkle frontier between checkpoints; another writer's records
    make it stale, and a stale one must never be signed."""
    with (
        stores.ledger(key_files, checkpoint_every=3) as service,
        stores.ledger(key_files, checkpoint_every=3) as cli,
    ):
        for turn in range(12):
            writer = service if turn % 4 else cli
            decision, doc = make_decision(n=turn)
            writer.record(pending_decision(decision, doc))
            if turn == 4:
                service.checkpoint()  # on demand, at a size that is no multiple of 3
        stored = [open_checkpoint(raw, keyring) for raw in service.stored_checkpoints()]
        envelopes = list(service.envelopes())
        report = service.verify(keyring)
    assert sorted(c.size for c in stored) == [3, 5, 6, 9, 12]
    assert all(c.root == merkle_root(envelopes[: c.size]) for c in stored)
    assert report.ok


def test_a_checkpoint_on_demand_covers_the_whole_ledger(ledger: Ledger, keyring: Keyring) -> None:
    record_many(ledger, 3)
    checkpoint = open_checkpoint(ledger.checkpoint(), keyring)
    assert checkpoint.size == 3
    assert checkpoint.root == merkle_root(list(ledger.envelopes()))


def test_an_idle_checkpoint_is_signed_only_when_records_were_added(
    ledger: Ledger, keyring: Keyring
) -> None:
    record_many(ledger, 2)
    first = ledger.checkpoint_if_behind()
    assert first is not None and open_checkpoint(first, keyring).size == 2
    assert ledger.checkpoint_if_behind() is None
    record_many(ledger, 1, start=2)
    later = ledger.checkpoint_if_behind()
    assert later is not None and open_checkpoint(later, keyring).size == 3


def test_open_ledger_picks_the_store_from_the_url(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", ledger_url=f"sqlite:///{tmp_path}/l.sqlite3")
    with open_ledger(settings) as ledger:
        decision, doc = make_decision()
        assert ledger.record(pending_decision(decision, doc)).seq == 1
    with pytest.raises(UsageError, match="must be sqlite:///PATH or postgresql://"):
        open_ledger(Settings(home=tmp_path, ledger_url="mysql://x"))


def test_reading_a_ledger_that_does_not_exist_says_so(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "nothing-here")
    with pytest.raises(NotFound, match="no audit ledger at"):
        open_ledger(settings, create=False)
    assert not (tmp_path / "nothing-here").exists()
