"""`pip install .` (no extras) is the client: a fresh virtual environment gets the CLI's remote mode
and the report formats without the server's dependencies, and asks a real `mlgate serve`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.api.conftest import LiveServer
from tests.api.conftest import live_server as live_server  # a real `mlgate serve`

ROOT = Path(__file__).resolve().parents[2]
APPROVED = ROOT / "fixtures" / "evidence" / "approved"


def _server_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {Requirement(line).name.lower() for line in project["optional-dependencies"]["server"]}


@pytest.fixture(scope="module")
def client_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with `pip install <this project>`, no extras (pip's cache and
    the package index supply the wheels)."""
    home = tmp_path_factory.mktemp("client")
    # A copy of what the package is built from: the build leaves its build/ in the source.
    source = home / "source"
    shutil.copytree(
        ROOT / "service", source / "service", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    venv = home / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    installed = subprocess.run(
        [
            str(venv / "bin" / "pip"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, f"pip install of the client failed:\n{installed.stderr}"
    return venv


def _mlgate(venv: Path, *args: str, token: str = "") -> subprocess.CompletedProcess[str]:
    # Away from the checkout, so the package comes from the environment, not the source tree.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLGATE_", "PYTHON"))}
    env["MLGATE_TOKEN"] = token
    return subprocess.run(
        [str(venv / "bin" / "mlgate"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=venv.parent,
        timeout=120,
    )


def test_the_client_installs_none_of_the_servers_dependencies(client_venv: Path) -> None:
    listed = subprocess.run(
        [str(client_venv / "bin" / "pip"), "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    installed = {entry["name"].lower() for entry in json.loads(listed.stdout)}
    assert "mlgate" in installed
    assert installed & _server_distributions() == set()


def test_the_client_asks_a_service_and_exits_with_the_outcome(
    client_venv: Path, live_server: LiveServer, tmp_path: Path
) -> None:
    kept = tmp_path / "decision.json"
    allowed = _mlgate(
        client_venv,
        "decide",
        "promotion",
        "--url",
        live_server.url,
        "--evidence",
        str(APPROVED),
        "--stage",
        "staging",
        "--format",
        "markdown",
        "--output",
        str(kept),
        token=live_server.tokens["gate"],
    )
    assert allowed.returncode == 0, allowed.stderr
    decision = json.loads(kept.read_text())
    assert decision["outcome"] == "allow"
    assert f"decision `{decision['decision_id']}`" in allowed.stdout

    below_floor = tmp_path / "below-floor"
    shutil.copytree(APPROVED, below_floor)
    metrics = json.loads((below_floor / "metrics.json").read_text())
    metrics["values"]["auc"] = 0.71
    (below_floor / "metrics.json").write_text(json.dumps(metrics))
    denied = _mlgate(
        client_venv,
        "decide",
        "promotion",
        "--url",
        live_server.url,
        "--evidence",
        str(below_floor),
        "--stage",
        "staging",
        token=live_server.tokens["gate"],
    )
    assert denied.returncode == 1, denied.stderr
    assert denied.stdout.startswith("DENY  promotion of ")
    assert "METRIC_BELOW_FLOOR" in denied.stdout


def test_the_client_tells_a_refused_token_from_a_down_service(
    client_venv: Path, live_server: LiveServer
) -> None:
    ask = ("decide", "promotion", "--evidence", str(APPROVED), "--stage", "staging")
    refused = _mlgate(client_venv, *ask, "--url", live_server.url, token="mlg_not-a-token")
    assert refused.returncode == 8, refused.stderr
    down = _mlgate(client_venv, *ask, "--url", "http://127.0.0.1:9", token="mlg_x")
    assert down.returncode == 7, down.stderr


def test_a_server_command_names_the_server_install(client_venv: Path) -> None:
    served = _mlgate(client_venv, "serve")
    assert served.returncode == 2
    assert "pip install 'mlgate[server]'" in served.stderr
    assert "Traceback" not in served.stderr
    local = _mlgate(
        client_venv, "decide", "promotion", "--evidence", str(APPROVED), "--stage", "production"
    )
    assert local.returncode == 2
    assert "pip install 'mlgate[server]'" in local.stderr


def test_the_client_asks_for_a_rollback(client_venv: Path, live_server: LiveServer) -> None:
    asked = _mlgate(
        client_venv,
        "rollback",
        "--url",
        live_server.url,
        "--model",
        "client-install-model",
        "--version",
        "1",
        "--stage",
        "production",
        "--reason",
        "the client install asks",
        token=live_server.tokens["gate"],
    )
    assert asked.returncode == 1, asked.stderr  # deny: the gate never installed a version
    assert asked.stdout.startswith("DENY  rollback of client-install-model v1")


def test_the_client_verifies_a_services_ledger(client_venv: Path, live_server: LiveServer) -> None:
    verified = _mlgate(
        client_venv,
        "audit",
        "verify",
        "--url",
        live_server.url,
        token=live_server.tokens["auditor"],
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "records valid" in verified.stdout
