"""`mlgate decide` end to end: a real process, the real engine, a real ledger in a temp home."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EVIDENCE_DIR, POLICY_DIR

EXPECTED_EXIT = {
    "approved": 0,
    "regressed": 1,
    "incomplete-card": 1,
    "missing-lineage": 1,
    "high-risk-pending-approval": 4,
    "waived": 0,
    "expired-waiver": 1,
}


def mlgate(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "MLGATE_HOME": str(home), "MLGATE_CALLER_ID": "ci-pipeline", **env}
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", *args],
        capture_output=True,
        text=True,
        env=environ,
        check=False,
    )


def decide(home: Path, fixture: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    evidence = str(EVIDENCE_DIR / fixture)
    return mlgate(
        home, "decide", "promotion", "--evidence", evidence, "--to", "production", *args, **env
    )


@pytest.mark.parametrize("fixture", sorted(EXPECTED_EXIT))
def test_each_fixture_exits_with_its_outcome_code(tmp_path: Path, fixture: str) -> None:
    run = decide(tmp_path, fixture, "--format", "json")

    assert run.returncode == EXPECTED_EXIT[fixture], run.stderr
    decision = json.loads(run.stdout)
    assert decision["audit"]["seq"] == 2  # after its policy revision's record
    assert decision["caller"] == {"id": "ci-pipeline", "role": "cli"}


def test_text_output_names_metric_values_and_threshold(tmp_path: Path) -> None:
    run = decide(tmp_path, "regressed")

    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert lines[0] == "DENY  promotion of fraud-detector v7 to production"
    assert "METRIC_REGRESSION_ABSOLUTE: auc 0.9318 against the champion v5's 0.9357" in lines[1]
    assert lines[-2].startswith("decision ") and "audit seq 2" in lines[-2]
    assert (
        lines[-1] == "what the gate needs: mlgate explain promotion --tier high --stage production"
    )


def test_markdown_output_is_a_table_for_job_summaries(tmp_path: Path) -> None:
    run = decide(tmp_path, "missing-lineage", "--format", "markdown")

    assert run.returncode == 1
    assert run.stdout.startswith("### ⛔ DENY: promotion of fraud-detector v7 to production")
    assert "| `LINEAGE_COMMIT_MISSING` | high |" in run.stdout


def test_hold_names_the_missing_approval(tmp_path: Path) -> None:
    run = decide(tmp_path, "high-risk-pending-approval")

    assert run.returncode == 4
    assert "awaits approval by a model-risk-officer (pending)" in run.stdout


def test_waiver_is_shown_as_a_warning(tmp_path: Path) -> None:
    run = decide(tmp_path, "waived")

    assert run.returncode == 0
    assert "! METRIC_REGRESSION_ABSOLUTE (waived)" in run.stdout
    assert "c.lindqvist@example.com" in run.stdout


def test_every_decision_is_recorded_in_sequence(tmp_path: Path) -> None:
    seqs = [
        json.loads(decide(tmp_path, f, "--format", "json").stdout)["audit"]["seq"]
        for f in EXPECTED_EXIT
    ]

    # After the policy revision's record, which the first decision under it wrote (seq 1).
    assert seqs == list(range(2, len(EXPECTED_EXIT) + 2))


def test_policy_syntax_error_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, policies)
    rego = policies / "promotion" / "promotion.rego"
    lines = rego.read_text().splitlines()
    at = lines.index("stage := input.target.stage")
    lines[at] = "stage := input.target.stage )"
    rego.write_text("\n".join(lines) + "\n")

    run = decide(tmp_path, "approved", MLGATE_POLICY_DIR=str(policies))

    assert run.returncode == 2
    assert run.stdout == ""
    assert f"policies/promotion/promotion.rego:{at + 1}: rego_parse_error" in run.stderr
    assert "Traceback" not in run.stderr


def test_unparseable_evidence_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    shutil.copytree(EVIDENCE_DIR / "approved", evidence)
    (evidence / "metrics.json").write_text('{"values": {"auc": 0.94,}}')

    run = mlgate(tmp_path, "decide", "promotion", "--evidence", str(evidence), "--to", "staging")

    assert run.returncode == 2
    assert f"{evidence / 'metrics.json'}:1:" in run.stderr and "invalid JSON" in run.stderr
    assert "Traceback" not in run.stderr


def test_missing_evidence_directory_exits_2(tmp_path: Path) -> None:
    run = mlgate(
        tmp_path, "decide", "promotion", "--evidence", str(tmp_path / "nope"), "--to", "staging"
    )

    assert run.returncode == 2
    assert "does not exist" in run.stderr


def test_missing_target_stage_is_a_usage_error(tmp_path: Path) -> None:
    run = mlgate(tmp_path, "decide", "promotion", "--evidence", str(EVIDENCE_DIR / "approved"))

    assert run.returncode == 2
    assert "--stage STAGE" in run.stderr


def test_unwritable_ledger_never_allows(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the ledger's directory should be")

    run = decide(tmp_path, "approved", MLGATE_LEDGER_URL=f"sqlite:///{blocker}/ledger.sqlite3")

    assert run.returncode == 5
    assert run.stdout == ""
    assert "Traceback" not in run.stderr
    assert "audit" in run.stderr.lower() or "ledger" in run.stderr.lower()


def test_missing_embedded_engine_is_a_clear_error_that_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    # The engine package is hidden from this one process; it stays installed for the rest.
    script = (
        "import sys; sys.modules['opa_bindings'] = None\n"
        "from service.cli.main import main\n"
        f"sys.exit(main(['decide', 'promotion', '--evidence', {str(EVIDENCE_DIR / 'approved')!r},"
        " '--to', 'staging']))\n"
    )
    home = tmp_path / "home"
    run = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "MLGATE_HOME": str(home)},
        check=False,
    )

    assert run.returncode == 6
    assert "the embedded OPA engine is not installed: run `make install`" in run.stderr
    assert "Traceback" not in run.stderr
    assert not home.exists()


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        (
            "metrics.yaml",
            "values:\n  auc: .nan\n  latency_p99_ms: 31.4\n",
            "metrics.yaml: values.auc: nan is not a finite number",
        ),
        (
            "metrics.yaml",
            "values:\n  auc: 0.95\nmeasured: 2026-11-01\n",
            "metrics.yaml: measured: 2026-11-01 is a date, not a JSON value; in YAML, quote it",
        ),
        (
            "metrics.json",
            '{"values": {"auc": 0.9}, "deep": ' + nested(100) + "}",
            "metrics.json: deep" + "[0]" * 63 + ": arrays and objects nest deeper than 64 levels",
        ),
        (
            "metrics.json",
            '{"values": {"auc": ' + "9" * 5000 + "}}",
            "metrics.json: a number has more than 4300 digits",
        ),
        (
            "metrics.yaml",
            "values:\n  auc: 0.95\nmeasured: 2026-13-45\n",
            "metrics.yaml: a value cannot be converted: month must be in 1..12",
        ),
        (  # past what the parser itself takes
            "metrics.json",
            '{"values": {"auc": 0.9}, "deep": ' + nested(5000) + "}",
            "metrics.json: arrays and objects nest too deeply to read",
        ),
    ],
)
def test_evidence_canonical_json_cannot_carry_exits_2_naming_the_field(
    tmp_path: Path, name: str, text: str, problem: str
) -> None:
    evidence = tmp_path / "evidence"
    shutil.copytree(EVIDENCE_DIR / "approved", evidence)
    (evidence / "metrics.json").unlink()
    (evidence / name).write_text(text)

    run = mlgate(tmp_path, "decide", "promotion", "--evidence", str(evidence), "--to", "staging")

    assert run.returncode == 2
    assert problem in run.stderr
    assert "Traceback" not in run.stderr


def test_a_setting_that_does_not_parse_exits_2_naming_its_variable(tmp_path: Path) -> None:
    run = decide(tmp_path, "approved", MLGATE_DECISION_TIMEOUT_SECONDS="ten")

    assert run.returncode == 2
    assert "MLGATE_DECISION_TIMEOUT_SECONDS: Input should be a valid number" in run.stderr
    assert "(found 'ten')" in run.stderr
    assert "Traceback" not in run.stderr


def test_an_engine_that_cannot_decide_exits_6_with_the_deny_it_recorded(tmp_path: Path) -> None:
    """The OPA server backend down: the gate denies and records it (fail closed), and the exit
    code is the engine's, so a pipeline can retry rather than treat it as the policy's deny."""
    with socket.socket() as closed:  # a loopback port nothing listens on
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"

    run = decide(tmp_path, "approved", "--format", "json", MLGATE_OPA_URL=url)

    assert run.returncode == 6, run.stderr
    decision = json.loads(run.stdout)
    assert decision["outcome"] == "deny"
    assert [r["code"] for r in decision["reasons"]] == ["POLICY_ENGINE_ERROR"]
    assert decision["audit"]["seq"] >= 1  # recorded, as every decision is
    assert "what the gate needs" not in run.stderr
