"""The GitLab CI gate (examples/gitlab/gate.gitlab-ci.yml): the job's `script:` lines joined
into one script as GitLab Runner runs them, with the job's variables, under sh -e, bash -e and
bash -eo pipefail against a real `mlgate serve` reading a real MLflow registry: a deny fails
the job with its reasons in the log, an allow passes, and the JUnit report the job declares
is written from the one decision."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.api.conftest import LiveServer
from tests.examples.conftest import EXAMPLES, SHELLS, ScriptRun, run_script

PIPELINE = EXAMPLES / "gitlab" / "gate.gitlab-ci.yml"


def job() -> dict[str, Any]:
    gate: dict[str, Any] = yaml.safe_load(PIPELINE.read_text())["mlgate-gate"]
    return gate


def run_job(
    server: LiveServer, client_bin: Path, workdir: Path, shell: str, **variables: str
) -> ScriptRun:
    workdir.mkdir()
    env = {
        **{name: str(value) for name, value in job()["variables"].items()},
        "MLGATE_URL": server.url,
        "MLGATE_TOKEN": server.tokens["gate"],
        **variables,
    }
    return run_script("\n".join(job()["script"]), shell, env, workdir, client_bin)


def test_the_job_installs_only_the_client_it_is_told_to() -> None:
    assert job()["before_script"] == [
        'python -m pip install --quiet --disable-pip-version-check "$MLGATE_PIP_REQUIREMENT"'
    ]
    # mlgate is not on PyPI: never a bare name, which a stranger could publish.
    assert job()["variables"]["MLGATE_PIP_REQUIREMENT"] == "git+${CI_PROJECT_URL}@${CI_COMMIT_SHA}"


@pytest.mark.parametrize("shell", SHELLS)
def test_a_deny_fails_the_job_with_its_reasons_in_the_log(
    gate_service: LiveServer, client_bin: Path, tmp_path: Path, shell: str
) -> None:
    done = run_job(
        gate_service,
        client_bin,
        tmp_path / "job",
        shell,
        MLGATE_VERSION="3",
        MLGATE_STAGE="production",
    )

    assert done.code == 1, done.stdout + done.stderr
    decision = json.loads((tmp_path / "job" / "mlgate-reports" / "decision.json").read_text())
    assert decision["outcome"] == "deny"
    for reason in decision["reasons"]:
        assert f"{reason['code']}: {reason['message']}" in done.stdout
    assert f"decision {decision['decision_id']}" in done.stdout
    markdown = (tmp_path / "job" / "mlgate-reports" / "decision.md").read_text()
    assert f"decision `{decision['decision_id']}`" in markdown  # the same decision


@pytest.mark.parametrize("shell", SHELLS)
def test_an_allow_passes_the_job(
    gate_service: LiveServer, client_bin: Path, tmp_path: Path, shell: str
) -> None:

    done = run_job(
        gate_service,
        client_bin,
        tmp_path / "job",
        shell,
        MLGATE_VERSION="2",
        MLGATE_STAGE="staging",
    )

    assert done.code == 0, done.stdout + done.stderr
    assert "ALLOW  promotion of fraud-detector v2 to staging" in done.stdout


@pytest.mark.parametrize("shell", SHELLS)
def test_a_refused_token_fails_the_job_saying_so(
    gate_service: LiveServer, client_bin: Path, tmp_path: Path, shell: str
) -> None:
    done = run_job(gate_service, client_bin, tmp_path / "job", shell, MLGATE_TOKEN="mlg_wrong")

    assert done.code == 8, done.stdout + done.stderr
    assert "mlgate: no decision (exit 8" in done.stdout


def test_the_junit_report_the_job_declares_is_written(
    gate_service: LiveServer, client_bin: Path, tmp_path: Path
) -> None:
    declared = job()["artifacts"]["reports"]["junit"]

    done = run_job(
        gate_service,
        client_bin,
        tmp_path / "job",
        "sh -e",
        MLGATE_VERSION="2",
        MLGATE_STAGE="staging",
    )

    assert done.code == 0, done.stdout + done.stderr
    assert ET.parse(tmp_path / "job" / declared).getroot().tag in {"testsuites", "testsuite"}


def test_the_job_script_passes_shellcheck(shellcheck: Path, tmp_path: Path) -> None:
    script = tmp_path / "job.sh"
    script.write_text("\n".join(job()["before_script"] + job()["script"]) + "\n")

    checked = subprocess.run(
        [str(shellcheck), "--shell", "sh", "--severity", "style", str(script)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert checked.returncode == 0, checked.stdout
