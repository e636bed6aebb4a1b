"""Liveness, readiness and the Prometheus metrics."""

from __future__ import annotations

import re
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

from service.api.app import create_app
from service.settings import Settings
from tests.api.conftest import Api, make_tokens, request_body

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_healthz_says_ok(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}


def test_readyz_checks_the_engine_and_the_ledger(api: Api) -> None:
    response = api.client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["status"] == "ready"
    assert response.json()["checks"] == {"engine": "ok", "ledger": "ok", "tokens": "ok"}
    assert response.json()["policy_revision"].startswith("sha256:")


def metric(text: str, name: str, **labels: str) -> float:
    selector = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = rf"^{re.escape(name)}\{{{re.escape(selector)}\}} (\S+)$"
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else 0.0


def test_metrics_count_decisions_by_gate_and_outcome_with_latency(api: Api) -> None:
    before = api.client.get("/metrics").text

    api.decide(request_body())
    api.decide(request_body(lineage={}))
    api.decide(
        {"model": {"name": "no-snapshots", "version": "1"}, "stage": "canary"}, gate="monitoring"
    )

    after = api.client.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text
    for outcome, gate in [("allow", "promotion"), ("deny", "promotion"), ("hold", "monitoring")]:
        delta = metric(text, "mlgate_decisions_total", gate=gate, outcome=outcome) - metric(
            before, "mlgate_decisions_total", gate=gate, outcome=outcome
        )
        assert delta == 1
    count = "mlgate_decision_latency_seconds_count"
    assert metric(text, count, gate="promotion") - metric(before, count, gate="promotion") == 2
    assert "# TYPE mlgate_ledger_errors_total counter" in text


def test_a_gate_without_a_policy_denies_fail_closed_and_counts_an_engine_error(
    tmp_path: Path, policy_copy: Callable[[], Path]
) -> None:
    policies = policy_copy()
    shutil.rmtree(policies / "promotion")  # no package mlgate.promotion: no decision
    (policies / "data" / "promotion.yaml").unlink()
    app = create_app(Settings(home=tmp_path / "home", policy_dir=policies), engines=1)
    try:
        with TestClient(app) as client:
            tokens = make_tokens(app.state.runtime.settings)
            decided = client.post(
                "/v1/decisions/promotion",
                json=request_body(),
                headers={"Authorization": f"Bearer {tokens['gate']}"},
            )
            text = client.get("/metrics").text
    finally:
        app.state.runtime.close()

    assert decided.status_code == 200
    assert decided.json()["outcome"] == "deny"
    assert decided.json()["reasons"][0]["code"] == "POLICY_RESULT_INVALID"
    assert "no policy is written for the promotion gate" in decided.json()["reasons"][0]["message"]
    errors = metric(text, "mlgate_engine_errors_total", gate="promotion", kind="bad_result")
    assert errors == 1


def test_readyz_is_unavailable_when_the_ledger_disk_is_nearly_full(tmp_path: Path) -> None:
    # A disk with less room than the threshold is what a full disk looks like to readiness.
    settings = Settings(home=tmp_path, ready_min_free_bytes=2**62)
    app = create_app(settings, engines=1)
    try:
        with TestClient(app) as client:
            response = client.get("/readyz")
    finally:
        app.state.runtime.close()

    assert response.status_code == 503
    assert "free on the disk holding the ledger" in response.json()["checks"]["ledger"]
