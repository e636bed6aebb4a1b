"""`mlgate tokens`: tokens are shown once, stored as hashes, and work against the real app."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from service.api.app import create_app
from service.api.auth import token_hash
from service.settings import Settings


def mlgate(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", "tokens", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "MLGATE_HOME": str(home)},
        check=False,
    )


def test_added_token_is_stored_only_as_its_hash_and_authenticates(tmp_path: Path) -> None:
    run = mlgate(tmp_path, "add", "risk-team", "approver", "--approves-as", "model-risk-officer")

    assert run.returncode == 0, run.stderr
    token = run.stdout.splitlines()[0]
    stored = (tmp_path / "tokens.json").read_text()
    assert token not in stored
    assert json.loads(stored)["tokens"] == [
        {
            "id": "risk-team",
            "role": "approver",
            "sha256": token_hash(token),
            "approves_as": ["model-risk-officer"],
        }
    ]
    app = create_app(Settings(home=tmp_path), engines=1)
    with TestClient(app) as client:
        body = {
            "model": "fraud-detector",
            "version": "7",
            "artifact_digest": "sha256:" + "ab" * 32,
            "role": "model-risk-officer",
        }
        response = client.post(
            "/v1/approvals", json=body, headers={"Authorization": f"Bearer {token}"}
        )
    app.state.runtime.close()
    assert response.status_code == 201, response.text


def test_list_shows_holders_never_tokens(tmp_path: Path) -> None:
    token = mlgate(tmp_path, "add", "ci-pipeline", "gate").stdout.splitlines()[0]

    run = mlgate(tmp_path, "list")

    assert run.returncode == 0
    assert "ci-pipeline" in run.stdout and "gate" in run.stdout
    assert token not in run.stdout


def test_approves_as_is_refused_for_other_roles(tmp_path: Path) -> None:
    run = mlgate(tmp_path, "add", "ci-pipeline", "gate", "--approves-as", "model-risk-officer")

    assert run.returncode == 2
    assert "approver tokens only" in run.stderr
    assert not (tmp_path / "tokens.json").exists()
