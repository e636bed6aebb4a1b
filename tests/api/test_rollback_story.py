"""The story from promotion to rollback over HTTP, against a real `mlgate serve` and a real
MLflow store: v2 and v3 promoted to production with enact (approved on the way); v3's
snapshots go bad; the monitoring gate says rollback and, with enact, the rollback gate picks v2
and moves the alias back; the model's history and the audit listing show each step, and the
ledger verifies."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from service.cli.demo_registry import build_demo_registry
from tests.api.conftest import LiveServer, serving
from tests.evidence.test_registry_trust import client, copy_model
from tests.gates.test_rollback_story import _stamp


@pytest.fixture(scope="module")
def registry_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    home = tmp_path_factory.mktemp("story-home")
    store = f"sqlite:///{home / 'mlflow.db'}"
    build_demo_registry(store)
    (home / "settings.env").write_text(f"MLGATE_MLFLOW_TRACKING_URI={store}\n")
    with serving(home) as server:
        yield server, store


def call(server: LiveServer, role: str, method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {server.tokens[role]}"}
    response = httpx.request(method, server.url + path, json=body, headers=headers, timeout=120)
    assert response.status_code in (200, 201), (path, response.status_code, response.text)
    return response.json()


def install(server: LiveServer, name: str, version: str) -> dict[str, Any]:
    model = {"name": name, "version": version}
    for stage in ("staging", "canary"):
        decision = call(
            server,
            "gate",
            "POST",
            "/v1/decisions/promotion",
            {"model": model, "target": {"stage": stage}, "enact": True},
        )
        assert decision["outcome"] == "allow", decision["reasons"]
    call(
        server,
        "approver",
        "POST",
        "/v1/approvals",
        {
            "model": name,
            "version": version,
            "artifact_digest": decision["model"]["artifact_digest"],
            "role": "model-risk-officer",
            "status": "approved",
            "comment": "validation reviewed",
        },
    )
    decision = call(
        server,
        "gate",
        "POST",
        "/v1/decisions/promotion",
        {"model": model, "target": {"stage": "production"}, "enact": True},
    )
    assert decision["outcome"] == "allow", decision["reasons"]
    assert decision["enactment"]["moved"], decision["enactment"]
    return decision


def report_bad_intervals(server: LiveServer, name: str, version: str) -> None:
    """Three snapshots of `version` in production, after the gate installed it, with an error
    rate far above the ceiling (none in the future: it waits until they are past)."""
    moves = call(server, "auditor", "GET", f"/v1/models/{name}/history?alias=champion")["moves"]
    installed = datetime.fromisoformat(moves[0]["moved_at"].replace("Z", "+00:00"))
    time.sleep(1.5)
    for i in range(3):  # intervals after the installation, none in the future
        begin = installed + timedelta(seconds=0.5 + 0.3 * i)
        call(
            server,
            "reporter",
            "POST",
            "/v1/snapshots",
            {
                "deployment": {"model": name, "version": version, "stage": "production"},
                "interval": {
                    "start": _stamp(begin),
                    "end": _stamp(begin + timedelta(seconds=0.29)),
                },
                "sample_count": 1800,
                "operational": {"error_rate": 0.2, "latency_p99_ms": 120.0},
            },
        )


def test_from_promotion_to_rollback_over_http(registry_server: tuple[LiveServer, str]) -> None:
    server, store = registry_server
    name = copy_model(store, ["1", "2", "2"], champion="1")
    install(server, name, "2")
    install(server, name, "3")
    report_bad_intervals(server, name, "3")

    decision = call(
        server,
        "gate",
        "POST",
        "/v1/decisions/monitoring",
        {
            "model": {"name": name, "version": "3"},
            "stage": "production",
            "enact": True,
        },
    )

    assert decision["outcome"] == "rollback", decision["reasons"]
    rollback = decision["triggered"]
    assert rollback["gate"] == "rollback" and rollback["outcome"] == "rollback", rollback
    assert rollback["target_version"] == "2"
    assert rollback["caller"]["id"] == "local-gate"
    assert rollback["enactment"]["moved"] is True
    assert str(client(store).get_model_version_by_alias(name, "champion").version) == "2"
    history = call(server, "auditor", "GET", f"/v1/models/{name}/history?alias=champion")
    assert [(m.get("move", "install"), m["to_version"]) for m in history["moves"]] == [
        ("roll-back", "2"),
        ("install", "3"),
        ("install", "2"),
    ]
    assert history["moves"][0]["decision_id"] == rollback["decision_id"]
    listing = call(server, "auditor", "GET", f"/v1/audit?model={name}&limit=100")
    kinds = [(r["kind"], r.get("gate"), r.get("outcome")) for r in listing["records"]]
    assert ("decision", "rollback", "rollback") in kinds
    assert ("decision", "monitoring", "rollback") in kinds
    assert sum(1 for k in kinds if k[0] == "metric_snapshot") == 3
    assert call(server, "auditor", "GET", "/v1/audit/verify")["ok"] is True


def test_a_manual_rollback_needs_a_reason(registry_server: tuple[LiveServer, str]) -> None:
    server, _ = registry_server
    response = httpx.post(
        server.url + "/v1/decisions/rollback",
        json={"model": {"name": "fraud-detector", "version": "2"}, "stage": "production"},
        headers={"Authorization": f"Bearer {server.tokens['gate']}"},
    )

    assert response.status_code == 422
    assert response.json()["field"] == "reason"
