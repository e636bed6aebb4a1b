"""Sign-offs are signed ledger records, read back per model version and artifact."""

from __future__ import annotations

import pytest

from service.audit.keys import KeyFiles, load_keyring
from service.audit.ledger import Ledger
from service.decision.recording import pending_decision
from service.signoffs.book import SelfSignoff, SignoffBook
from tests.audit.factory import make_decision

DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32


def _approve(book: SignoffBook, approver: str, status: str, **kw: str) -> dict[str, object]:
    fields = {"model": "m", "version": "7", "artifact_digest": DIGEST, **kw}
    return book.approve(approver=approver, role="model-risk-officer", status=status, **fields)


def _waive(book: SignoffBook, by: str = "ann", version: str = "7") -> dict[str, object]:
    return book.waive(
        model="m",
        version=version,
        artifact_digest=DIGEST,
        rule_code="STAGE_ORDER",
        approved_by=by,
        role="model-risk-officer",
        reason="hotfix",
        expires_at="2099-01-01T00:00:00Z",
    )


def test_the_latest_word_of_each_approver_role_and_artifact_is_kept(ledger: Ledger) -> None:
    book = SignoffBook(ledger)
    _approve(book, "ann", "rejected", comment="needs MRV")
    _approve(book, "bob", "pending")
    _approve(book, "ann", "approved")
    _approve(book, "ann", "rejected", artifact_digest=OTHER)
    _approve(book, "ann", "rejected", version="8")

    approvals = book.approvals_for("m", "7")

    assert [(a["approver"], a["status"], a["artifact_digest"]) for a in approvals] == [
        ("bob", "pending", DIGEST),
        ("ann", "approved", DIGEST),
        ("ann", "rejected", OTHER),
    ]
    assert all(a["decided_at"].endswith("Z") and isinstance(a["record"], int) for a in approvals)


def test_each_sign_off_is_a_signed_record_that_verifies(
    ledger: Ledger, key_files: KeyFiles
) -> None:
    book = SignoffBook(ledger)
    approval = _approve(book, "ann", "approved")
    waiver = _waive(book)
    withdrawal = book.withdraw(str(waiver["id"]), "bob", "fixed in v8")

    kinds = [(r.kind, r.decision_id) for r in ledger.find(limit=10)]
    assert kinds == [
        ("waiver_withdrawal", withdrawal["id"]),
        ("waiver", waiver["id"]),
        ("approval", approval["id"]),
    ]
    assert ledger.get(str(waiver["id"])).statement()["predicateType"] == (
        "https://mlgate.dev/waiver/v1"
    )
    report = ledger.verify(load_keyring(key_files.keyring))
    assert report.ok and report.records == 3


def test_a_withdrawn_waiver_is_no_longer_read(ledger: Ledger) -> None:
    book = SignoffBook(ledger)
    kept, withdrawn = _waive(book), _waive(book, by="bob")
    first = book.withdraw(str(withdrawn["id"]), "carol", "risk no longer accepted")

    assert [w["id"] for w in book.waivers_for("m", "7")] == [kept["id"]]
    assert book.withdraw(str(withdrawn["id"]), "carol", "again") == first  # changes nothing


def test_withdrawing_what_is_not_a_waiver_is_not_found(ledger: Ledger) -> None:
    book = SignoffBook(ledger)
    approval = _approve(book, "ann", "approved")
    with pytest.raises(Exception, match="no waiver"):
        book.withdraw(str(approval["id"]), "bob", "oops")
    with pytest.raises(Exception, match="no waiver"):
        book.withdraw("no-such-id", "bob", "oops")


def test_whoever_asked_for_a_decision_on_a_version_may_not_sign_it_off(ledger: Ledger) -> None:
    decision, doc = make_decision()
    ledger.record(pending_decision(decision, doc))
    requester, name, version = decision.caller.id, decision.model.name, decision.model.version
    book = SignoffBook(ledger)

    with pytest.raises(SelfSignoff, match=f"{requester} requested a decision on {name}"):
        book.approve(
            model=name,
            version=version,
            artifact_digest=DIGEST,
            approver=requester,
            role="model-risk-officer",
            status="approved",
        )
    with pytest.raises(SelfSignoff):
        book.waive(
            model=name,
            version=version,
            artifact_digest=DIGEST,
            rule_code="STAGE_ORDER",
            approved_by=requester,
            role="model-risk-officer",
            reason="hotfix",
            expires_at="2099-01-01T00:00:00Z",
        )
    assert book.approvals_for(name, version) == [] and book.waivers_for(name, version) == []
