"""Local CLI mode: the same pipeline as the service, reading sign-offs and history from the local
ledger; its settings never come from the working directory; a fresh home says what it is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from tests.api.conftest import serving
from tests.conftest import EVIDENCE_DIR, POLICY_DIR, PROJECT_ROOT

DIGEST = json.loads((EVIDENCE_DIR / "approved" / "lineage.json").read_text())["artifact_digest"]


def mlgate(
    home: Path, *args: str, cwd: Path = PROJECT_ROOT, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "MLGATE_ENV_FILE"}
    environ.update({"MLGATE_HOME": str(home), "MLGATE_CALLER_ID": "ci-pipeline", **env})
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=cwd,
        check=False,
    )


def decide(
    home: Path, fixture: str, *args: str, cwd: Path = PROJECT_ROOT, **env: str
) -> subprocess.CompletedProcess[str]:
    evidence = str(EVIDENCE_DIR / fixture)
    command = ["decide", "promotion", "--evidence", evidence, "--to", "production", *args]
    return mlgate(home, *command, cwd=cwd, **env)


def codes(run: subprocess.CompletedProcess[str]) -> list[str]:
    return [r["code"] for r in json.loads(run.stdout)["reasons"]]


def test_a_rejection_recorded_over_http_makes_the_local_cli_deny(tmp_path: Path) -> None:
    """Finding 3: the CLI ignored sign-offs recorded through the service on the same home."""
    home = tmp_path / "home"
    home.mkdir()
    assert decide(home, "approved").returncode == 0
    with serving(home) as server:
        rejected = httpx.post(
            f"{server.url}/v1/approvals",
            json={
                "model": "fraud-detector",
                "version": "7",
                "artifact_digest": DIGEST,
                "role": "model-risk-officer",
                "status": "rejected",
                "comment": "validation report missing",
            },
            headers={"Authorization": f"Bearer {server.tokens['approver']}"},
            timeout=30,
        )
        assert rejected.status_code == 201, rejected.text

    run = decide(home, "approved", "--format", "json")

    assert run.returncode == 1, run.stderr
    assert "APPROVAL_REJECTED" in codes(run)


def test_a_env_file_in_the_working_directory_changes_nothing(tmp_path: Path) -> None:
    """Finding 7: a .env in a checked-out model repository swapped the policies for lax ones."""
    lax = tmp_path / "lax"
    (lax / "promotion").mkdir(parents=True)
    (lax / "promotion" / "promotion.rego").write_text(
        'package mlgate.promotion\n\ndecision := {"outcome": "allow", "reasons": [], '
        '"warnings": []}\n'
    )
    repo = tmp_path / "model-repo"
    repo.mkdir()
    (repo / ".env").write_text(f"MLGATE_POLICY_DIR={lax}\nMLGATE_CALLER_ID=someone-else\n")

    run = decide(tmp_path / "home", "regressed", "--format", "json", cwd=repo)

    assert run.returncode == 1, run.stdout + run.stderr
    assert json.loads(run.stdout)["caller"]["id"] == "ci-pipeline"


def test_the_settings_file_is_the_one_in_mlgate_home_or_mlgate_env_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.env").write_text(
        f"MLGATE_POLICY_DIR={POLICY_DIR}\nMLGATE_CHECKPOINT_EVERY=1\n"
    )
    named = tmp_path / "named.env"
    named.write_text("MLGATE_CHECKPOINT_EVERY=abc\n")

    from_home = decide(home, "approved")
    from_named = decide(home, "approved", MLGATE_ENV_FILE=str(named))
    missing = decide(home, "approved", MLGATE_ENV_FILE=str(tmp_path / "nope.env"))

    assert from_home.returncode == 0, from_home.stderr
    verified = json.loads(mlgate(home, "audit", "verify", "--format", "json").stdout)
    assert verified["checkpoints_matched"] != []  # a checkpoint every record, as the file says
    assert from_named.returncode == 2 and "MLGATE_CHECKPOINT_EVERY" in from_named.stderr
    assert missing.returncode == 2 and "which is not a file" in missing.stderr


def test_a_fresh_home_says_its_key_and_ledger_vanish_with_the_machine(tmp_path: Path) -> None:
    first = decide(tmp_path / "home", "approved")
    second = decide(tmp_path / "home", "approved")

    assert "mlgate LOCAL MODE" in first.stderr
    assert "vanish with the machine" in first.stderr
    assert "mlgate decide --url" in first.stderr
    assert "LOCAL MODE" not in second.stderr


def test_approve_and_waive_in_local_mode_with_the_services_checks(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ident = ["--model", "fraud-detector", "--version", "7", "--digest", DIGEST]
    assert decide(home, "regressed").returncode == 1

    as_requester = mlgate(home, "approve", *ident, "--as", "model-risk-officer", "--comment", "x")
    reject = mlgate(
        home,
        "approve",
        *ident,
        "--as",
        "model-risk-officer",
        "--reject",
        "--comment",
        "no",
        MLGATE_CALLER_ID="m.okafor",
    )
    assert (
        as_requester.returncode == 2 and "ci-pipeline requested a decision" in as_requester.stderr
    )
    assert reject.returncode == 0, reject.stderr
    assert "APPROVAL_REJECTED" in codes(decide(home, "approved", "--format", "json"))

    waive = ["waive", *ident, "--as", "model-risk-officer", "--reason", "holdout overlap"]
    non_waivable = mlgate(
        home,
        *waive,
        "--code",
        "APPROVAL_REJECTED",
        "--expires",
        "2026-12-31T00:00:00Z",
        MLGATE_CALLER_ID="m.okafor",
    )
    too_long = mlgate(
        home,
        *waive,
        "--code",
        "METRIC_BELOW_FLOOR",
        "--expires",
        "2099-01-01T00:00:00Z",
        MLGATE_CALLER_ID="m.okafor",
    )
    assert non_waivable.returncode == 2 and "may not be waived" in non_waivable.stderr
    assert too_long.returncode == 2 and "days ahead" in too_long.stderr


def test_a_waiver_expiry_with_an_offset_in_seconds_is_kept_as_a_time_the_policy_reads(
    tmp_path: Path,
) -> None:
    """RFC 3339 allows no seconds in an offset, Python's parser does: such an expiry, stored as
    given, made every later decision on the version EVIDENCE_INVALID until it was withdrawn."""
    home = tmp_path / "home"
    assert decide(home, "regressed").returncode == 1
    expires = (datetime.now(UTC) + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%S+05:30:15")
    ident = ["--model", "fraud-detector", "--version", "7", "--digest", DIGEST]
    waived = mlgate(
        home,
        "waive",
        *ident,
        "--code",
        "METRIC_REGRESSION_ABSOLUTE",
        "--as",
        "model-risk-officer",
        "--reason",
        "holdout overlap",
        "--expires",
        expires,
        MLGATE_CALLER_ID="m.okafor",
    )
    assert waived.returncode == 0, waived.stderr
    assert json.loads(waived.stdout)["expires_at"].endswith("Z")

    after = decide(home, "regressed", "--format", "json")
    assert "EVIDENCE_INVALID" not in codes(after)
    assert "METRIC_REGRESSION_ABSOLUTE" in [w["code"] for w in json.loads(after.stdout)["warnings"]]
