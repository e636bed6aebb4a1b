"""`mlgate report FILE`: the decision `decide --output FILE` kept, printed in any format exactly
as `decide` prints it, without a second decision; a file that is not such a decision is a
usage error naming the file and the field."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from service.cli.exitcodes import EXIT_CODES
from service.cli.render import FORMATS
from tests.cli.test_local_mode import decide, mlgate

# One per outcome a promotion gives from the evidence fixtures.
FIXTURES = {"regressed": "deny", "high-risk-pending-approval": "hold", "waived": "allow"}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_report_prints_a_kept_decision_as_decide_printed_it(
    tmp_path: Path, fixture: str, fmt: str
) -> None:
    kept = tmp_path / "decision.json"
    decided = decide(tmp_path / "home", fixture, "--format", fmt, "--output", str(kept))

    reported = mlgate(tmp_path / "home", "report", str(kept), "--format", fmt)

    assert decided.returncode == EXIT_CODES[FIXTURES[fixture]], decided.stderr
    assert reported.returncode == 0, reported.stderr
    assert reported.stdout == decided.stdout
    assert reported.stderr == ""


def test_report_asks_for_no_decision_and_records_nothing(tmp_path: Path) -> None:
    kept = tmp_path / "decision.json"
    assert decide(tmp_path / "home", "regressed", "--output", str(kept)).returncode == 1

    for fmt in FORMATS:
        assert mlgate(tmp_path / "home", "report", str(kept), "--format", fmt).returncode == 0

    verified = mlgate(tmp_path / "home", "audit", "verify")
    assert "2/2 records valid (1 policy revision, 1 decision)" in verified.stdout, verified.stdout


def test_report_reads_the_decision_from_stdin(tmp_path: Path) -> None:
    kept = tmp_path / "decision.json"
    decide(tmp_path / "home", "regressed", "--output", str(kept))

    reported = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "report", "-", "--format", "json"],
        input=kept.read_text(),
        capture_output=True,
        text=True,
        check=False,
    )

    assert reported.returncode == 0, reported.stderr

    assert json.loads(reported.stdout) == json.loads(kept.read_text())


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot be read (No such file or directory)"),
        ("DENY  promotion of fraud-detector v7", "not JSON (Expecting value at line 1 column 1)"),
        ('{"outcome": "allow"}', "not a decision as `mlgate decide --output FILE` writes it: "),
        (b"\xff\xfe", "cannot be read (not UTF-8 text: invalid start byte at byte 0)"),
    ],
)
def test_a_file_that_is_not_a_kept_decision_is_a_usage_error_naming_it(
    tmp_path: Path, content: str | bytes | None, expected: str
) -> None:
    path = tmp_path / "decision.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)

    reported = mlgate(tmp_path / "home", "report", str(path))

    assert reported.returncode == 2
    assert reported.stdout == ""
    assert reported.stderr.startswith(f"mlgate: error: {path}: {expected}"), reported.stderr
    assert "Traceback" not in reported.stderr


def test_a_decision_missing_a_field_names_the_field(tmp_path: Path) -> None:
    kept = tmp_path / "decision.json"
    decide(tmp_path / "home", "regressed", "--output", str(kept))
    document = json.loads(kept.read_text())
    del document["outcome"]
    kept.write_text(json.dumps(document))

    reported = mlgate(tmp_path / "home", "report", str(kept))

    assert reported.returncode == 2
    assert "outcome: Field required" in reported.stderr, reported.stderr
