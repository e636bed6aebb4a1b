"""Records read for a decision or a listing are checked once and remembered (ReadCheck): the
remembered path gives the same evidence and decision as checking afresh, and an edit made to
the database after a record was remembered is still refused."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from service.audit.keys import KeyFiles, init_keys
from service.audit.ledger import Ledger
from service.decision.judge import Judge
from service.decision.pipeline import gather
from service.decision.recording import pending_decision
from service.errors import LedgerTampered
from service.evidence.context import EvidenceContext
from service.signoffs.book import SignoffBook
from tests.audit.factory import StoreFactory, make_decision, make_input, record_many
from tests.audit.test_tampering import flip_char
from tests.conftest import fixture_request


@pytest.fixture
def read_once(ledger: Ledger) -> Ledger:
    """Six decisions on fraud-detector v7, each read (and so remembered) once."""
    record_many(ledger, 6)
    ledger.find(model="fraud-detector", limit=10)
    return ledger


def test_a_second_read_is_served_from_what_was_remembered(read_once: Ledger) -> None:
    hits = read_once.read_check.hits
    read_once.find(model="fraud-detector", limit=10)
    assert read_once.read_check.hits == hits + 6


def test_an_envelope_edited_after_it_was_remembered_is_refused(
    read_once: Ledger, stores: StoreFactory
) -> None:
    stores.execute(
        "UPDATE records SET envelope = ? WHERE seq = 3",
        (flip_char(read_once.get_seq(3).envelope, "sig", 3),),
    )
    with pytest.raises(LedgerTampered, match=r"record seq 3 .* not validly signed"):
        read_once.find(model="fraud-detector", limit=10)
    with pytest.raises(LedgerTampered, match="not validly signed"):
        read_once.get_seq(3)


def test_a_column_edited_after_it_was_remembered_is_refused(
    read_once: Ledger, stores: StoreFactory
) -> None:
    stores.execute("UPDATE records SET outcome = 'allow' WHERE seq = 4")
    with pytest.raises(LedgerTampered, match="outcome 'allow' \\(signed: 'deny'\\)"):
        read_once.find(model="fraud-detector", outcome="allow")


def test_records_swapped_with_all_their_columns_are_refused(
    read_once: Ledger, stores: StoreFactory
) -> None:
    """Each row then lists by columns its envelope signs: only the seq it signs tells."""
    moved = ("decision_id", "recorded_at", "input_digest", "envelope_hash", "envelope")
    five, six = (
        stores.execute(f"SELECT {', '.join(moved)} FROM records WHERE seq = ?", (seq,))[0]
        for seq in (5, 6)
    )
    stores.execute("UPDATE records SET decision_id = 'moving' WHERE seq = 6")
    sets = ", ".join(f"{column} = ?" for column in moved)
    stores.execute(f"UPDATE records SET {sets} WHERE seq = 5", tuple(six))
    stores.execute(f"UPDATE records SET {sets} WHERE seq = 6", tuple(five))

    with pytest.raises(LedgerTampered, match=r"record seq 6 .* signs seq 5"):
        read_once.find(model="fraud-detector", limit=10)


def test_a_replaced_keyring_has_every_record_checked_again(
    read_once: Ledger, key_files: KeyFiles, tmp_path: Path
) -> None:
    other = KeyFiles.in_dir(tmp_path / "other")
    init_keys(other)
    shutil.copyfile(other.keyring, key_files.keyring)
    with pytest.raises(LedgerTampered, match="not validly signed \\(unknown key"):
        read_once.find(model="fraud-detector", limit=10)


def _decided(judge: Judge, ledger: Ledger) -> tuple[dict[str, Any], dict[str, Any]]:
    """The input a production promotion of the approved fixture gathers from `ledger`, and
    what the policy decides on it (without its id and time)."""
    request = fixture_request("approved")
    request.evidence.pop("approvals")  # the ledger's sign-offs, not the file's
    request.evidence.pop("history")
    document = gather(request, judge.gates.spec("promotion"), EvidenceContext(ledger))
    decided = judge.evaluate(document).model_dump(mode="json")
    return document, {k: v for k, v in decided.items() if k not in {"decision_id"}}


def test_a_remembered_read_gives_the_same_evidence_and_decision_as_a_fresh_one(
    ledger: Ledger, gatekeeper: Judge, stores: StoreFactory
) -> None:
    card_digest = "sha256:9b2f6e1c4d8a7b3e5f0c2d9a6b1e4f7c8d3a5b0e2f9c6d1a4b7e0f3c8d5a2b6e"
    approval = (
        SignoffBook(ledger)
        .approve(
            model="fraud-detector",
            version="7",
            artifact_digest=card_digest,
            approver="m.okafor@example.com",
            role="model-risk-officer",
            status="approved",
        )
        .content
    )
    for n, stage in enumerate(("staging", "canary")):
        doc = make_input(n) | {"target": {"stage": stage}}
        doc["model"] = doc["model"] | {"artifact_digest": card_digest}
        ledger.record(pending_decision(make_decision(doc, outcome="allow")[0], doc))

    ledger.read_check.clear()
    fresh = _decided(gatekeeper, ledger)
    hits = ledger.read_check.hits
    remembered = _decided(gatekeeper, ledger)

    assert ledger.read_check.hits > hits
    assert remembered == fresh
    assert [a["id"] for a in fresh[0]["approvals"]] == [approval["id"]]
    assert {h["stage"] for h in fresh[0]["history"]} == {"staging", "canary"}

    # ...and the approval, once remembered, edited in the database: refused, not relied on.
    seq = approval["record"]
    stores.execute(
        "UPDATE records SET envelope = ? WHERE seq = ?",
        (flip_char(ledger.get_seq(seq).envelope, "sig", 3), seq),
    )
    with pytest.raises(LedgerTampered, match=f"record seq {seq} .* not validly signed"):
        _decided(gatekeeper, ledger)
