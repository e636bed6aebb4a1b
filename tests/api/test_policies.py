"""GET /v1/policies (revision, files, rule catalogue) and POST /v1/policies/reload (admin)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from service.api.app import create_app
from service.api.auth import add_token
from service.settings import Settings
from tests.api.conftest import Api, request_body

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_the_catalogue_lists_every_rule_with_its_metadata(api: Api) -> None:
    response = api.client.get("/v1/policies", headers=api.headers("gate"))

    assert response.status_code == 200
    info = response.json()
    assert info["revision"].startswith("sha256:")
    assert "promotion/promotion.rego" in info["files"]
    floors = next(r for r in info["rules"] if r["code"] == "METRIC_BELOW_FLOOR")
    assert floors == {
        "code": "METRIC_BELOW_FLOOR",
        "title": "Metric floors are met",
        "description": "Each metric with a floor for the tier and stage is at or above it.",
        "severity": "high",
        "controls": ["NIST AI RMF MEASURE 2.3", "SR 11-7 III.B"],
        "package": "mlgate.promotion",
        "rule": "data.mlgate.promotion.deny",
        "file": "promotion/metrics.rego",
        "line": floors["line"],
    }
    assert {"APPROVAL_PENDING", "STAGE_ORDER", "LINEAGE_COMMIT_MISSING"} <= {
        r["code"] for r in info["rules"]
    }
    assert {r["code"] for r in info["service_rules"]} == {
        "EVIDENCE_INVALID",
        "POLICY_ENGINE_ERROR",
        "POLICY_RESULT_INVALID",
        "REGISTRY_EVIDENCE_MISSING",
        "RUN_NOT_FINISHED",
        "EVIDENCE_CHANGED",
        "BASELINE_OF_RECORD_UNREADABLE",
        "EVIDENCE_CONFLICT",
        "DEPLOYMENT_NOT_INSTALLED_BY_GATE",
        "ROLLED_BACK",
    }
    assert [(g["gate"], g["has_policy"]) for g in info["gates"]] == [
        ("promotion", True),
        ("monitoring", True),
        ("rollback", True),
    ]


def test_every_reason_code_a_decision_gives_is_in_the_catalogue(api: Api) -> None:
    info = api.client.get("/v1/policies", headers=api.headers("auditor")).json()
    known = {r["code"] for r in info["rules"] + info["service_rules"]}

    decision = api.decide(request_body(lineage={}, baseline=None, history=None)).json()

    assert decision["reasons"]
    assert {r["code"] for r in decision["reasons"]} <= known


ReloadApp = tuple[TestClient, dict[str, str], Path]


@pytest.fixture
def reload_app(tmp_path: Path, policy_copy: Callable[[], Path]) -> Iterator[ReloadApp]:
    """An app of its own over a copy of the policies, which a test may change or break."""
    policies = policy_copy()
    settings = Settings(home=tmp_path / "home", policy_dir=policies)
    token = add_token(settings.resolved_tokens_file, "platform", "admin")
    gate = add_token(settings.resolved_tokens_file, "ci", "gate")
    app = create_app(settings, engines=1)
    with TestClient(app) as client:
        yield client, {"admin": token, "gate": gate}, policies
    app.state.runtime.close()


def test_an_admin_reload_puts_changed_thresholds_in_force(reload_app: ReloadApp) -> None:
    client, tokens, policies = reload_app
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    gate = {"Authorization": f"Bearer {tokens['gate']}"}
    before = client.post("/v1/decisions/promotion", json=request_body("staging"), headers=gate)
    assert before.json()["outcome"] == "allow"
    config = policies / "data" / "promotion.yaml"
    config.write_text(config.read_text().replace("floors: {auc: 0.85}", "floors: {auc: 0.99}"))

    response = client.post("/v1/policies/reload", headers=admin)

    assert response.status_code == 200
    assert response.json()["previous_revision"] == before.json()["policy_revision"]
    after = client.post("/v1/decisions/promotion", json=request_body("staging"), headers=gate)
    assert after.json()["policy_revision"] == response.json()["revision"]
    assert after.json()["outcome"] == "deny"


def test_a_broken_policy_fails_the_reload_and_the_old_one_stays(reload_app: ReloadApp) -> None:
    client, tokens, policies = reload_app
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    revision = client.get("/v1/policies", headers=admin).json()["revision"]
    (policies / "promotion" / "broken.rego").write_text("package mlgate.promotion\n\nx := {\n")

    response = client.post("/v1/policies/reload", headers=admin)

    assert response.status_code == 422
    assert response.json()["error"] == "policy_load_error"
    assert "broken.rego" in response.json()["message"]
    assert client.get("/v1/policies", headers=admin).json()["revision"] == revision


def test_a_thresholds_typo_fails_the_reload_and_the_old_set_stays(reload_app: ReloadApp) -> None:
    client, tokens, policies = reload_app
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    revision = client.get("/v1/policies", headers=admin).json()["revision"]
    config = policies / "data" / "promotion.yaml"
    config.write_text(config.read_text().replace("floors: {auc: 0.85}", "flors: {auc: 0.85}", 1))

    response = client.post("/v1/policies/reload", headers=admin)

    assert response.status_code == 422
    assert response.json()["error"] == "policy_load_error"
    assert "data/promotion.yaml:" in response.json()["message"]
    assert "tiers.high.stages.staging: unknown key flors" in response.json()["message"]
    assert client.get("/v1/policies", headers=admin).json()["revision"] == revision
