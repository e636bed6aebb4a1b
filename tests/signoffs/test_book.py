"""Sign-offs are signed ledger records, read back per model version and artifact."""

from __future__ import annotations

import threading

import pytest

from service.audit.keys import KeyFiles, load_keyring
from service.audit.ledger import Ledger
from service.audit.recorded import Recorded
from service.decision.recording import pending_decision
from service.signoffs.book import SelfSignoff, SignoffBook
from tests.audit.conftest import StoreFactory
from tests.audit.factory import make_decision

DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32


def _approve(book: SignoffBook, approver: str, status: str, **kw: str) -> dict[str, object]:
    fields = {"model": "m", "version": "7", "artifact_digest": DIGEST, **kw}
    return book.approve(
        approver=approver, role="model-risk-officer", status=status, **fields
    ).content


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
    ).content


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
    withdrawal = book.withdraw(str(waiver["id"]), "bob", "fixed in v8").content

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
    book.withdraw(str(withdrawn["id"]), "carol", "risk no longer accepted")

    assert [w["id"] for w in book.waivers_for("m", "7")] == [kept["id"]]


def test_one_read_puts_each_waiver_in_force_or_withdrawn(ledger: Ledger) -> None:
    book = SignoffBook(ledger)
    kept, withdrawn = _waive(book), _waive(book, by="bob")
    withdrawal = book.withdraw(str(withdrawn["id"]), "carol", "risk no longer accepted")

    standing, gone = book.waivers_by_state("m", "7")

    assert [w["id"] for w in standing] == [kept["id"]]
    assert [w["id"] for w in gone] == [withdrawn["id"]]
    assert gone[0]["withdrawal"]["id"] == withdrawal.content["id"]
    assert (standing, gone) == (book.waivers_for("m", "7"), book.withdrawn_waivers_for("m", "7"))


def test_withdrawing_a_waiver_again_records_nothing_and_answers_the_first_withdrawal(
    ledger: Ledger,
) -> None:
    """Whoever asks and whatever their reason: a waiver is withdrawn once, and the repeat says
    it found a withdrawal rather than made one."""
    book = SignoffBook(ledger)
    waiver = _waive(book)
    first = book.withdraw(str(waiver["id"]), "carol", "risk no longer accepted")
    seq = ledger.last_seq()

    again = book.withdraw(str(waiver["id"]), "dan", "again")

    assert first.created is True
    assert again == Recorded(first.content, created=False)
    assert ledger.last_seq() == seq
    assert len(ledger.find(kind="waiver_withdrawal", limit=10)) == 1


def test_the_same_approval_again_records_nothing_while_it_is_the_latest_word(
    ledger: Ledger,
) -> None:
    book = SignoffBook(ledger)
    fields = {"model": "m", "version": "7", "artifact_digest": DIGEST, "comment": "MRV-1"}
    first = book.approve(approver="ann", role="model-risk-officer", status="approved", **fields)
    seq = ledger.last_seq()

    again = book.approve(approver="ann", role="model-risk-officer", status="approved", **fields)

    assert again == Recorded(first.content, created=False)
    assert ledger.last_seq() == seq


@pytest.mark.parametrize(
    "changed",
    [
        {"status": "rejected"},
        {"comment": "MRV-2"},
        {"role": "validator"},
        {"artifact_digest": OTHER},
        {"version": "8"},
    ],
    ids=["status", "comment", "role", "artifact", "version"],
)
def test_an_approval_that_says_something_else_is_recorded(
    ledger: Ledger, changed: dict[str, str]
) -> None:
    book = SignoffBook(ledger)
    fields = {
        "model": "m",
        "version": "7",
        "artifact_digest": DIGEST,
        "role": "model-risk-officer",
        "status": "approved",
        "comment": "MRV-1",
    }
    book.approve(approver="ann", **fields)

    other = book.approve(approver="ann", **(fields | changed))

    assert other.created is True
    assert len(ledger.find(kind="approval", limit=10)) == 2


def test_the_same_approval_after_another_word_is_recorded_again(ledger: Ledger) -> None:
    """approve, reject, approve: the third changes the latest word back, so it is no repeat."""
    book = SignoffBook(ledger)
    _approve(book, "ann", "approved")
    _approve(book, "ann", "rejected")

    third = book.approve(
        model="m",
        version="7",
        artifact_digest=DIGEST,
        approver="ann",
        role="model-risk-officer",
        status="approved",
    )

    assert third.created is True
    assert [a["status"] for a in book.approvals_for("m", "7")] == ["approved"]


def test_the_same_waiver_again_records_nothing_while_it_is_in_force(ledger: Ledger) -> None:
    """A retried waiver used to be a second waiver: withdrawing the one its approver was
    answered with left the other in force."""
    book = SignoffBook(ledger)
    first = _waive(book)
    seq = ledger.last_seq()

    again = book.waive(
        model="m",
        version="7",
        artifact_digest=DIGEST,
        rule_code="STAGE_ORDER",
        approved_by="ann",
        role="model-risk-officer",
        reason="hotfix",
        expires_at="2099-01-01T00:00:00Z",
    )

    assert again == Recorded(first, created=False)
    assert ledger.last_seq() == seq
    book.withdraw(str(first["id"]), "ann", "fixed")
    assert book.waivers_for("m", "7") == []


def test_the_same_waiver_after_its_withdrawal_is_a_new_waiver(ledger: Ledger) -> None:
    book = SignoffBook(ledger)
    first = _waive(book)
    book.withdraw(str(first["id"]), "ann", "too early")

    second = _waive(book)

    assert second["id"] != first["id"]
    assert [w["id"] for w in book.waivers_for("m", "7")] == [second["id"]]


def test_a_waiver_that_differs_in_any_field_is_another_waiver(ledger: Ledger) -> None:
    book = SignoffBook(ledger)
    _waive(book)

    longer = book.waive(
        model="m",
        version="7",
        artifact_digest=DIGEST,
        rule_code="STAGE_ORDER",
        approved_by="ann",
        role="model-risk-officer",
        reason="hotfix",
        expires_at="2099-02-01T00:00:00Z",
    )

    assert longer.created is True
    assert len(book.waivers_for("m", "7")) == 2


def test_two_withdrawals_of_one_waiver_at_once_record_one(
    ledger: Ledger, stores: StoreFactory, key_files: KeyFiles
) -> None:
    """A request and its retry arriving together, on two ledger connections: the sign-offs'
    lock lets one in, and the other finds its withdrawal."""
    waiver = _waive(SignoffBook(ledger))
    answers: list[Recorded] = []
    barrier = threading.Barrier(2)

    def withdraw(by: str) -> None:
        with stores.ledger(key_files) as own:
            barrier.wait()
            answers.append(SignoffBook(own).withdraw(str(waiver["id"]), by, "retry"))

    threads = [threading.Thread(target=withdraw, args=(by,)) for by in ("bob", "carol")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(answer.created for answer in answers) == [False, True]
    assert answers[0].content == answers[1].content
    assert len(ledger.find(kind="waiver_withdrawal", limit=10)) == 1


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
