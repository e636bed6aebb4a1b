"""`mlgate tokens`: tokens are shown once, stored as hashes, and work against the real app."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.api.auth import token_hash
from service.settings import Settings


def mlgate(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", "tokens", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "MLGATE_HOME": str(home), **(env or {})},
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


def test_an_approver_role_no_policy_asks_for_is_refused_naming_the_likely_one(
    tmp_path: Path,
) -> None:
    run = mlgate(tmp_path, "add", "risk-team", "approver", "--approves-as", "risk-oficer")

    assert run.returncode == 2
    assert run.stderr.splitlines()[-1] == (
        "mlgate: error: --approves-as: no policy asks a sign-off as 'risk-oficer' (did you "
        "mean model-risk-officer?), so one would never count; the policies ask for "
        "model-risk-officer (approver_roles, waivers.roles and tier_changes.allowed_roles in "
        "the promotion data)"
    )
    assert not (tmp_path / "tokens.json").exists()


def test_a_role_the_changed_policies_ask_for_is_accepted_under_them(
    tmp_path: Path, policy_copy: Callable[[], Path]
) -> None:
    policies = policy_copy()
    data = policies / "data" / "promotion.yaml"
    config = yaml.safe_load(data.read_text())
    config["waivers"]["roles"] = {"METRIC_BELOW_FLOOR": ["data-steward"]}
    data.write_text(yaml.safe_dump(config))
    home = tmp_path / "home"

    shipped = mlgate(home, "add", "steward", "approver", "--approves-as", "data-steward")
    changed = mlgate(
        home,
        "add",
        "steward",
        "approver",
        "--approves-as",
        "data-steward",
        env={"MLGATE_POLICY_DIR": str(policies)},
    )

    assert shipped.returncode == 2
    assert "no policy asks a sign-off as 'data-steward'" in shipped.stderr
    assert changed.returncode == 0, changed.stderr
    stored = json.loads((home / "tokens.json").read_text())["tokens"]
    assert [(t["id"], t["approves_as"]) for t in stored] == [("steward", ["data-steward"])]


def audit_status(client: TestClient, token: str) -> int:
    return client.get("/v1/audit", headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_revoked_token_is_refused_by_the_running_service(tmp_path: Path) -> None:
    token = mlgate(tmp_path, "add", "auditor-1", "auditor").stdout.splitlines()[0]
    kept = mlgate(tmp_path, "add", "auditor-2", "auditor").stdout.splitlines()[0]
    app = create_app(Settings(home=tmp_path), engines=1)
    with TestClient(app) as client:
        assert audit_status(client, token) == 200

        run = mlgate(tmp_path, "revoke", "auditor-1")

        assert run.returncode == 0, run.stderr
        assert "revoked the auditor token of auditor-1" in run.stdout
        assert audit_status(client, token) == 401
        assert audit_status(client, kept) == 200
    app.state.runtime.close()


def test_revoking_a_holder_without_tokens_is_a_usage_error(tmp_path: Path) -> None:
    run = mlgate(tmp_path, "revoke", "nobody")

    assert run.returncode != 0
    assert "has no a token" not in run.stderr
    assert "no token for 'nobody'" in run.stderr


def test_a_rotated_token_replaces_the_old_one(tmp_path: Path) -> None:
    old = mlgate(tmp_path, "add", "ci", "gate").stdout.splitlines()[0]
    mlgate(tmp_path, "add", "ci", "auditor")
    app = create_app(Settings(home=tmp_path), engines=1)
    with TestClient(app) as client:
        run = mlgate(tmp_path, "rotate", "ci", "gate")
        new = run.stdout.splitlines()[0]

        status = {
            t: client.post(
                "/v1/decisions/promotion", json={}, headers={"Authorization": f"Bearer {t}"}
            ).status_code
            for t in (old, new)
        }
    app.state.runtime.close()
    assert status[old] == 401
    assert status[new] == 422  # authenticated; the empty body is the caller's mistake


def test_a_hand_edit_keeping_size_and_mtime_still_revokes(tmp_path: Path) -> None:
    token = mlgate(tmp_path, "add", "auditor-1", "auditor").stdout.splitlines()[0]
    path = tmp_path / "tokens.json"
    app = create_app(Settings(home=tmp_path), engines=1)
    with TestClient(app) as client:
        assert audit_status(client, token) == 200
        before = path.stat()
        text = path.read_text()
        digest = token_hash(token)
        path.write_text(text.replace(digest, "0" * 64))  # same size
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert path.stat().st_size == before.st_size

        assert audit_status(client, token) == 401
    app.state.runtime.close()


def test_state_files_and_directories_are_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # the usual umask: what the service does, not the umask, is tested
    try:
        _check_state_files_are_private(tmp_path)
    finally:
        os.umask(previous)


def _check_state_files_are_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    token = mlgate(home, "add", "ci", "gate").stdout.splitlines()[0]
    app = create_app(Settings(home=home), engines=1)
    with TestClient(app) as client:
        client.post(
            "/v1/decisions/promotion",
            json={"target": {"stage": "staging"}, "evidence": {}},
            headers={"Authorization": f"Bearer {token}"},
        )
    app.state.runtime.close()
    modes = {
        p.name: p.stat().st_mode & 0o777
        for p in [home, *home.rglob("*")]
        if not p.name.endswith(".json.tmp")
    }
    assert modes["home"] == 0o700
    assert modes["ledger.sqlite3"] == 0o600
    assert modes["tokens.json"] == 0o600
    assert modes["keys"] == 0o700
    open_to_others = {name: oct(mode) for name, mode in modes.items() if mode & 0o077}
    assert open_to_others == {}
