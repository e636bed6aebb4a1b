"""Decisions over HTTP from the registry alone: `{"model", "target", "enact"}` and no evidence;
the alias history MLflow lacks at GET /v1/models/{name}/history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.api.app import create_app
from service.cli.demo_registry import MODEL, build_demo_registry
from service.settings import Settings
from tests.api.conftest import Api, TestClient, free_port, make_tokens


@pytest.fixture(scope="module", params=["threads", "workers"])
def with_registry(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Api]:
    """A service over a local MLflow store, deciding on a thread or, as `mlgate serve` does,
    in a decision worker process (the effect runs in the service's own process either way)."""
    home = tmp_path_factory.mktemp("registry-home")
    store = f"sqlite:///{home / 'mlflow.db'}"
    build_demo_registry(store)
    settings = Settings(home=home, mlflow_tracking_uri=store)
    tokens = make_tokens(settings)
    app = create_app(settings, engines=1, workers=1 if request.param == "workers" else 0)
    with TestClient(app) as client:
        yield Api(client, tokens, settings)
    app.state.runtime.close()


def test_a_model_version_alone_is_decided_and_enacted(with_registry: Api) -> None:
    api = with_registry
    body = {"model": {"name": MODEL, "version": "2"}, "target": {"stage": "staging"}}

    decision = api.decide({**body, "enact": True}).json()
    history = api.client.get(f"/v1/models/{MODEL}/history", headers=api.headers("auditor")).json()

    assert decision["outcome"] == "allow", decision
    assert decision["provenance"]["model_card"] == "registry: MLflow"
    assert decision["enactment"]["moved"] is True
    assert [(m["alias"], m["to_version"]) for m in history["moves"]] == [("staging", "2")]
    assert history["moves"][0]["decision_id"] == decision["decision_id"]


def test_a_denied_version_moves_nothing(with_registry: Api) -> None:
    body = {"model": {"name": MODEL, "version": "3"}, "target": {"stage": "staging"}}

    decision = with_registry.decide({**body, "enact": True}).json()

    assert decision["outcome"] == "deny"
    assert decision["enactment"]["moved"] is False


def test_a_version_the_registry_lacks_is_404(with_registry: Api) -> None:
    body = {"model": {"name": MODEL, "version": "99"}, "target": {"stage": "staging"}}

    response = with_registry.decide(body)

    assert response.status_code == 404
    assert "is not in the MLflow registry" in response.json()["message"]


def test_without_a_registry_evidence_is_required_and_enact_refused(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    tokens = make_tokens(settings)
    app = create_app(settings, engines=1)
    with TestClient(app) as client:
        api = Api(client, tokens, settings)
        body = {"model": {"name": MODEL, "version": "2"}, "target": {"stage": "staging"}}
        bare = api.decide(body)
        enacting = api.decide({**body, "evidence": {}, "enact": True})
    app.state.runtime.close()

    assert (bare.status_code, bare.json()["field"]) == (422, "evidence")
    assert (enacting.status_code, enacting.json()["field"]) == (422, "enact")


def test_enacting_a_move_made_already_moves_nothing_and_names_the_move_that_did(
    with_registry: Api,
) -> None:
    """A retried `"enact": true` finds the alias where the gate put it: nothing is moved or
    recorded, and the answer says which recorded move put it there, when and for whom."""
    api = with_registry
    body = {"model": {"name": MODEL, "version": "2"}, "target": {"stage": "staging"}}
    api.decide({**body, "enact": True})
    auditor = api.headers("auditor")
    moves = api.client.get(f"/v1/models/{MODEL}/history", headers=auditor).json()["moves"]

    again = api.decide({**body, "enact": True}).json()

    assert again["outcome"] == "allow", again
    move = moves[0]
    assert again["enactment"] == {
        "alias": "staging",
        "moved": False,
        "note": f"alias 'staging' already names v2: alias move {move['id']} (record "
        f"{move['record']}) put it there at {move['moved_at']}, on decision "
        f"{move['decision_id']} requested by {move['requested_by']}; nothing moved",
    }
    after = api.client.get(f"/v1/models/{MODEL}/history", headers=auditor).json()["moves"]
    assert after == moves


def test_the_registry_password_in_its_uri_is_never_answered(tmp_path: Path) -> None:
    """A tracking URI may carry the registry's credentials (`https://user:password@host`, or a
    database store's `postgresql://user:password@host/db`). Seen: the registry's description
    named the URI as configured, so the 503 for a registry that does not answer gave any gate
    token holder the password. Expected: the answer names the registry without it."""
    secret = "registry-password-42"
    settings = Settings(
        home=tmp_path,
        mlflow_tracking_uri=f"http://ci-bot:{secret}@127.0.0.1:{free_port()}",
        mlflow_request_retries=0,
        mlflow_request_timeout_seconds=2,
    )
    tokens = make_tokens(settings)
    app = create_app(settings, engines=1)
    with TestClient(app) as client:
        body = {"model": {"name": MODEL, "version": "2"}, "target": {"stage": "staging"}}
        response = Api(client, tokens, settings).decide(body)
    app.state.runtime.close()

    assert response.status_code == 503, response.text
    assert "MLflow registry at http://ci-bot@127.0.0.1:" in response.json()["message"]
    assert secret not in response.text
