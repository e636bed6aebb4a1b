"""What a CI job needs from one decision: the format for people printed and the JSON kept
(--output) from one recorded decision, --fail-on-warn, warnings and waivers shown apart."""

from __future__ import annotations

import json
from pathlib import Path

from service.settings import PROJECT_ROOT
from tests.cli.test_local_mode import mlgate

EVIDENCE = PROJECT_ROOT / "fixtures" / "evidence"


def test_output_keeps_the_json_of_the_very_decision_printed(tmp_path: Path) -> None:
    kept = tmp_path / "decision.json"

    run = mlgate(
        tmp_path / "home",
        "decide",
        "promotion",
        "--evidence",
        str(EVIDENCE / "regressed"),
        "--to",
        "production",
        "--format",
        "markdown",
        "--output",
        str(kept),
    )

    assert run.returncode == 1, run.stderr
    decision = json.loads(kept.read_text())
    assert decision["outcome"] == "deny"
    assert f"decision `{decision['decision_id']}`" in run.stdout  # one decision, not two
    ledger = mlgate(tmp_path / "home", "audit", "verify")
    assert "2/2 records valid (1 policy revision, 1 decision)" in ledger.stdout, ledger.stdout


def test_an_unwritable_output_says_the_decision_was_recorded(tmp_path: Path) -> None:
    run = mlgate(
        tmp_path / "home",
        "decide",
        "promotion",
        "--evidence",
        str(EVIDENCE / "approved"),
        "--to",
        "staging",
        "--output",
        str(tmp_path / "no-such-dir" / "d.json"),
    )

    assert run.returncode == 2
    assert "the decision was made and recorded" in run.stderr
    assert "ALLOW" in run.stdout


def test_fail_on_warn_fails_an_allow_with_warnings_only(tmp_path: Path) -> None:
    waived = ["decide", "promotion", "--evidence", str(EVIDENCE / "waived"), "--to", "production"]
    clean = ["decide", "promotion", "--evidence", str(EVIDENCE / "approved"), "--to", "production"]

    assert mlgate(tmp_path / "a", *waived).returncode == 0
    assert mlgate(tmp_path / "b", *waived, "--fail-on-warn").returncode == 1
    assert mlgate(tmp_path / "c", *clean, "--fail-on-warn").returncode == 0


def test_markdown_shows_waivers_apart_from_other_warnings(tmp_path: Path) -> None:
    run = mlgate(
        tmp_path,
        "decide",
        "promotion",
        "--evidence",
        str(EVIDENCE / "waived"),
        "--to",
        "production",
        "--format",
        "markdown",
    )

    assert "**Waived**" in run.stdout
    assert "**Warnings**" not in run.stdout  # its one warning is a waiver


def test_markdown_files_a_warning_that_waives_nothing_under_warnings(tmp_path: Path) -> None:
    series = PROJECT_ROOT / "fixtures" / "snapshots" / "healthy-canary"
    files = sorted(str(p) for p in series.glob("0*.json"))
    assert mlgate(tmp_path, "snapshot", "add", *files).returncode == 0

    run = mlgate(
        tmp_path,
        "decide",
        "monitoring",
        "--model",
        "fraud-detector",
        "--version",
        "7",
        "--stage",
        "canary",
        "--format",
        "markdown",
    )

    assert run.returncode == 0, run.stderr
    assert "**Warnings**" in run.stdout and "DEPLOYMENT_NOT_INSTALLED_BY_GATE" in run.stdout
    assert "**Waived**" not in run.stdout


def test_github_format_annotates_each_reason_escaped(tmp_path: Path) -> None:
    run = mlgate(
        tmp_path,
        "decide",
        "promotion",
        "--evidence",
        str(EVIDENCE / "missing-lineage"),
        "--to",
        "production",
        "--format",
        "github",
    )

    assert run.returncode == 1
    errors = [line for line in run.stdout.splitlines() if line.startswith("::error title=")]
    assert len(errors) == 4, run.stdout
    assert any(line.startswith("::error title=LINEAGE_COMMIT_MISSING::") for line in errors)
    assert all("\n" not in line.partition("::")[2] for line in errors)
    assert run.stdout.splitlines()[-1].startswith("DENY  promotion of fraud-detector v")
