"""Files the service is configured with outside MLGATE_HOME (MLGATE_TOKENS_FILE,
MLGATE_SIGNING_KEY, MLGATE_KEYRING, as a deployment mounts secrets under /etc or /run) are
never named in answers to clients: PrivatePaths (service/api/private_paths.py) names each by its
setting."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from service.api.app import create_app
from service.audit.keys import KeyFiles, init_keys
from service.settings import Settings
from tests.api.conftest import make_tokens, request_body

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
from fastapi.testclient import TestClient  # noqa: E402


@dataclass
class Served:
    client: TestClient
    tokens: dict[str, str]
    secrets: Path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    secrets = tmp_path / "run-secrets"
    secrets.mkdir()
    settings = Settings(
        home=tmp_path / "home",
        tokens_file=secrets / "tokens.json",
        signing_key=secrets / "signing.pem",
        keyring=secrets / "keyring.json",
    )
    tokens = make_tokens(settings)
    init_keys(KeyFiles.from_settings(settings))
    app = create_app(settings, engines=1, workers=0)
    with TestClient(app) as client:
        yield Served(client, tokens, secrets)
    app.state.runtime.close()


def test_a_broken_tokens_file_outside_home_is_not_named_by_readyz(served: Served) -> None:
    """/readyz needs no token: anyone who reaches the port learns where the secrets live."""
    (served.secrets / "tokens.json").write_text("{not json")

    answer = served.client.get("/readyz")

    assert answer.status_code == 503
    assert str(served.secrets) not in answer.text, answer.text


def test_a_broken_signing_key_outside_home_is_not_named_to_a_gate_caller(served: Served) -> None:
    (served.secrets / "signing.pem").write_text("not a key")

    answer = served.client.post(
        "/v1/decisions/promotion",
        json=request_body(),
        headers={"Authorization": f"Bearer {served.tokens['gate']}"},
    )
    ready = served.client.get(
        "/readyz", headers={"Authorization": f"Bearer {served.tokens['reporter']}"}
    )

    assert answer.status_code == 503
    assert ready.json()["checks"]["ledger"] != "unavailable", ready.text  # the reason is given
    assert str(served.secrets) not in answer.text, answer.text
    assert str(served.secrets) not in ready.text, ready.text


def test_the_directory_of_a_ledger_file_outside_home_is_not_named_by_readyz(
    tmp_path: Path,
) -> None:
    """MLGATE_LEDGER_URL=sqlite:////<data disk>/ledger.sqlite3: PrivatePaths hides the file's
    path, but the disk-space check named its directory. A token's holder, the one caller told
    why a check fails, is not told the directory either."""
    data = tmp_path / "data-disk"
    settings = Settings(
        home=tmp_path / "home",
        ledger_url=f"sqlite:///{data / 'ledger.sqlite3'}",
        ready_min_free_bytes=2**62,  # more than any disk holds: the check speaks
    )
    reporter = make_tokens(settings)["reporter"]
    app = create_app(settings, engines=1, workers=0)
    with TestClient(app) as client:
        answer = client.get("/readyz", headers={"Authorization": f"Bearer {reporter}"})
    app.state.runtime.close()

    assert answer.status_code == 503
    assert "MiB free" in answer.text, answer.text
    assert str(data) not in answer.text, answer.text


def test_a_registry_store_outside_home_is_not_named_to_a_gate_caller(tmp_path: Path) -> None:
    """MLGATE_MLFLOW_TRACKING_URI=sqlite:////<registry disk>/mlflow.db: PrivatePaths knows only
    <home>/mlflow.db, so the registry's errors name the configured store's path."""
    registry = tmp_path / "registry-disk"
    settings = Settings(
        home=tmp_path / "home", mlflow_tracking_uri=f"sqlite:///{registry / 'mlflow.db'}"
    )
    tokens = make_tokens(settings)
    app = create_app(settings, engines=1, workers=0)
    with TestClient(app) as client:
        answer = client.post(
            "/v1/decisions/promotion",
            json={
                "model": {"name": "fraud-detector", "version": "2"},
                "target": {"stage": "staging"},
            },
            headers={"Authorization": f"Bearer {tokens['gate']}"},
        )
    app.state.runtime.close()

    assert answer.status_code >= 400, answer.text
    assert str(registry) not in answer.text, answer.text
