"""The newest record an instance appended, kept outside the database (service/audit/headmark.py):
a ledger's tail cut off in the database (a rejection that was its newest record) stops the next
append even after a restart, or when another process sharing the instance's home appended it.
The mark names one ledger one way: a home or a ledger path spelt otherwise is the same mark,
two files are two marks, and the verification the refusal sends the operator to finds the cut."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from service.audit import ledger as ledger_module
from service.audit.headmark import HeadMark
from service.audit.keys import KeyFiles, KeySource
from service.audit.ledger import Ledger, open_ledger, verify_ledger
from service.audit.stores.base import Tail
from service.errors import AuditWriteFailed
from service.settings import Settings
from service.signoffs.book import SignoffBook
from tests.audit.factory import ARTIFACT, StoreFactory, record_many

MODEL, VERSION = "fraud-detector", "7"


def _ledger(stores: StoreFactory, key_files: KeyFiles, home: Path) -> Ledger:
    store = stores.store()
    return Ledger(store, KeySource(key_files), head_mark=HeadMark(home, store.description))


def _sign(ledger: Ledger, status: str) -> None:
    SignoffBook(ledger).approve(
        model=MODEL,
        version=VERSION,
        artifact_digest=ARTIFACT,
        approver="risk-officer",
        role="model_risk",
        status=status,
    )


def _statuses(ledger: Ledger) -> list[str]:
    return [a["status"] for a in SignoffBook(ledger).approvals_for(MODEL, VERSION)]


def test_a_rejection_cut_off_the_tail_before_a_restart_stops_the_first_append(
    stores: StoreFactory, key_files: KeyFiles, tmp_path: Path
) -> None:
    """The rejection was the newest record; a restarted instance remembers no append of its
    own, and the chain without it has no gap."""
    with _ledger(stores, key_files, tmp_path / "home") as before:
        record_many(before, 3)
        _sign(before, "approved")
        _sign(before, "rejected")
    stores.execute("DELETE FROM records WHERE kind = 'approval' AND outcome = 'rejected'")

    with _ledger(stores, key_files, tmp_path / "home") as restarted:
        assert _statuses(restarted) == ["approved"]  # what the next decision would read
        with pytest.raises(AuditWriteFailed, match=r"record 5, which this instance appended last"):
            record_many(restarted, 1, start=10)
    assert stores.execute("SELECT max(seq) FROM records")[0][0] == 4


def test_a_rejection_another_process_of_the_instance_appended_cut_off_stops_the_next_append(
    stores: StoreFactory, key_files: KeyFiles, tmp_path: Path
) -> None:
    """The service appended the approval; a CLI sign-off sharing its home appended the
    rejection as the tail. The service's own last record is still there."""
    home = tmp_path / "home"
    with _ledger(stores, key_files, home) as service, _ledger(stores, key_files, home) as cli:
        _sign(service, "approved")
        _sign(cli, "rejected")
        stores.execute("DELETE FROM records WHERE kind = 'approval' AND outcome = 'rejected'")
        assert _statuses(service) == ["approved"]
        with pytest.raises(AuditWriteFailed, match="record 2, which this instance appended last"):
            record_many(service, 1)


def test_writers_sharing_a_home_and_a_ledger_are_no_cut(
    stores: StoreFactory, key_files: KeyFiles, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    with _ledger(stores, key_files, home) as first, _ledger(stores, key_files, home) as second:
        record_many(first, 2)
        record_many(second, 2, start=2)
        record_many(first, 1, start=4)
    with _ledger(stores, key_files, home) as restarted:
        record_many(restarted, 1, start=5)
    assert HeadMark(home, stores.store().description).read() == Tail(
        6, stores.execute("SELECT envelope_hash FROM records WHERE seq = 6")[0][0]
    )


def test_a_ledger_replaced_on_purpose_is_refused_until_its_mark_is_removed(
    tmp_path: Path,
) -> None:
    """A new, empty ledger where the old one was looks like a ledger that lost every record:
    refused, saying which file to remove if that was meant."""
    settings = Settings(home=tmp_path / "home")
    with open_ledger(settings) as ledger:
        record_many(ledger, 2)
    (settings.home / "ledger.sqlite3").unlink()

    with open_ledger(settings) as fresh:
        with pytest.raises(AuditWriteFailed, match="remove its head mark") as refused:
            record_many(fresh, 1, start=5)
        mark = fresh.head_mark
        assert mark is not None and str(mark.path) in str(refused.value)
        mark.path.unlink()
        record_many(fresh, 1, start=5)


def test_open_ledger_keeps_a_private_mark_under_the_home(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        settings = Settings(home=tmp_path / "home")
        with open_ledger(settings) as ledger:
            record_many(ledger, 3)
            mark = ledger.head_mark
    finally:
        os.umask(old_umask)
    assert mark is not None and mark.path.parent == settings.home / "ledger-heads"
    assert mark.read() is not None and mark.read().seq == 3  # type: ignore[union-attr]
    assert stat.S_IMODE(mark.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(mark.path.parent.stat().st_mode) == 0o700


def test_a_mark_only_moves_forward_and_an_unreadable_one_is_written_afresh(
    tmp_path: Path,
) -> None:
    mark = HeadMark(tmp_path, "SQLite ledger somewhere")
    mark.advance(Tail(5, "a" * 64))
    mark.advance(Tail(3, "b" * 64))  # another writer that committed earlier, told later
    assert mark.read() == Tail(5, "a" * 64)

    mark.path.write_bytes(b'{"seq": 7, "envelo')  # cut short by a crash
    assert mark.read() is None
    mark.advance(Tail(6, "c" * 64))
    assert mark.read() == Tail(6, "c" * 64)


def test_each_ledger_has_its_own_mark(tmp_path: Path) -> None:
    """An instance pointed at another ledger is not held to the first one's records."""
    home = tmp_path / "home"
    with open_ledger(Settings(home=home)) as first:
        record_many(first, 3)
    other = Settings(home=home, ledger_url=f"sqlite:///{tmp_path / 'other.sqlite3'}")
    with open_ledger(other) as second:
        record_many(second, 1, start=3)
        assert second.head_mark is not None and second.head_mark.read() is not None


def test_the_mark_is_written_at_the_first_append_then_at_most_each_interval_and_at_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write per append cost a fifth of SQLite's append rate (bench/ledger.py): after the
    first, the mark is written once per HEAD_MARK_SECONDS, and when the ledger closes."""
    monkeypatch.setattr(ledger_module, "HEAD_MARK_SECONDS", 3600.0)  # no second write by time
    settings = Settings(home=tmp_path / "home")
    with open_ledger(settings) as ledger:
        record_many(ledger, 3)
        mark = ledger.head_mark
        assert mark is not None and mark.read() is not None
        assert mark.read().seq == 1  # type: ignore[union-attr]
    assert mark.read().seq == 3  # type: ignore[union-attr]


def test_a_relative_ledger_path_seen_from_another_directory_is_not_called_an_edit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLGATE_LEDGER_URL=sqlite:///ledger.sqlite3 with an absolute MLGATE_HOME: the service and
    `mlgate approve` run from another directory open two different files, but both share one
    mark if it is named by the path as given, and the second file's first append would be
    refused as 'the database was edited', which nobody did."""
    home = tmp_path / "home"
    settings = Settings(home=home, ledger_url="sqlite:///ledger.sqlite3")
    (tmp_path / "service-dir").mkdir()
    (tmp_path / "cli-dir").mkdir()
    monkeypatch.chdir(tmp_path / "service-dir")
    with open_ledger(settings) as service:
        record_many(service, 2)
    monkeypatch.chdir(tmp_path / "cli-dir")
    with open_ledger(settings) as cli:
        try:
            record_many(cli, 1, start=5)
        except AuditWriteFailed as exc:
            assert "the database was edited" not in exc.message, exc.message


def test_a_cli_rejection_cut_off_is_found_when_the_home_is_spelled_another_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service runs with MLGATE_HOME=<absolute path>; `mlgate approve` in local mode is run
    from the directory above it with MLGATE_HOME=home: one home, one ledger file, but the
    path as given differs. With a mark named by it, each process kept a mark of its own, and
    the CLI's rejection cut off the tail let the service's next append through while the next
    decision read the approval alone."""
    monkeypatch.chdir(tmp_path)
    service_settings = Settings(home=tmp_path / "home")
    cli_settings = Settings(home=Path("home"))
    with open_ledger(service_settings) as service:
        _sign(service, "approved")
        with open_ledger(cli_settings) as cli:
            _sign(cli, "rejected")
        with sqlite3.connect(tmp_path / "home" / "ledger.sqlite3") as db:
            db.execute("DELETE FROM records WHERE kind = 'approval' AND outcome = 'rejected'")
        assert _statuses(service) == ["approved"]  # what the next decision reads
        with pytest.raises(AuditWriteFailed, match="the database was edited"):
            record_many(service, 1)


def test_the_verification_a_cut_refusal_sends_the_operator_to_finds_the_cut(
    tmp_path: Path,
) -> None:
    """The refusal says "run `mlgate audit verify` to see what is missing"; the chain that is
    left verifies, so verification must read the head mark to see the cut."""
    settings = Settings(home=tmp_path / "home")
    with open_ledger(settings) as ledger:
        record_many(ledger, 3)
    with sqlite3.connect(settings.home / "ledger.sqlite3") as db:
        db.execute("DELETE FROM records WHERE seq = 3")
    with (
        open_ledger(settings) as restarted,
        pytest.raises(AuditWriteFailed, match="run `mlgate audit verify`"),
    ):
        record_many(restarted, 1, start=5)

    report = verify_ledger(settings)

    assert not report.ok, report.summary
