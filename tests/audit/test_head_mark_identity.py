"""The head mark (service/audit/headmark.py) names one ledger one way: a home or a ledger path
spelt otherwise is the same mark, two files are two marks, and the verification the refusal
sends the operator to finds the cut."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from service.audit.ledger import Ledger, open_ledger, verify_ledger
from service.errors import AuditWriteFailed
from service.settings import Settings
from service.signoffs.book import SignoffBook
from tests.audit.factory import ARTIFACT, record_many

MODEL, VERSION = "fraud-detector", "7"


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
