"""Liveness, readiness and the Prometheus metrics."""

from __future__ import annotations

import json
import logging
import re
import shutil
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from service.api.app import create_app
from service.api.logs import JsonFormatter
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


@pytest.fixture
def nearly_full(tmp_path: Path) -> Iterator[Api]:
    """The app on a disk with less room than the readiness threshold, which is what a full disk
    looks like to readiness; with a token of each role."""
    settings = Settings(home=tmp_path, ready_min_free_bytes=2**62)
    tokens = make_tokens(settings)
    app = create_app(settings, engines=1)
    try:
        with TestClient(app) as client:
            yield Api(client, tokens, settings)
    finally:
        app.state.runtime.close()


NEARLY_FULL = "free on the disk holding the ledger"


def test_readyz_is_unavailable_when_the_ledger_disk_is_nearly_full(nearly_full: Api) -> None:
    response = nearly_full.client.get("/readyz", headers=nearly_full.headers("reporter"))

    assert response.status_code == 503
    assert NEARLY_FULL in response.json()["checks"]["ledger"]


def test_readyz_tells_why_a_check_fails_only_to_a_tokens_holder(nearly_full: Api) -> None:
    """/readyz needs no token, and a failing check's text can be a library's (psycopg naming
    the database server, OPA's own message): without a token it says only which check fails.
    The least role, reporter, is told why."""
    anyone = nearly_full.client.get("/readyz")
    reporter = nearly_full.client.get("/readyz", headers=nearly_full.headers("reporter"))

    assert anyone.status_code == reporter.status_code == 503
    revision = reporter.json()["policy_revision"]
    assert revision.startswith("sha256:")
    assert anyone.json() == {
        "status": "unavailable",
        "checks": {"engine": "ok", "ledger": "unavailable", "tokens": "ok"},
        "policy_revision": revision,
    }
    assert NEARLY_FULL not in anyone.text
    assert reporter.json()["status"] == "unavailable"
    assert reporter.json()["checks"]["engine"] == reporter.json()["checks"]["tokens"] == "ok"
    assert NEARLY_FULL in reporter.json()["checks"]["ledger"]


@pytest.mark.parametrize(
    "authorization",
    ["Bearer mlg_not-a-configured-token", "Bearer ", "Basic Y2k6c2VjcmV0", "mlg_no-scheme"],
    ids=["unknown token", "empty token", "basic scheme", "no scheme"],
)
def test_readyz_answers_a_bad_token_as_it_answers_none(
    nearly_full: Api, authorization: str
) -> None:
    """A probe's header is not checked like a request's: a token that matches none is no 401,
    and tells nothing more than no token."""
    anyone = nearly_full.client.get("/readyz")
    bad = nearly_full.client.get("/readyz", headers={"Authorization": authorization})

    assert bad.status_code == 503, bad.text
    assert bad.json() == anyone.json()
    assert bad.json()["checks"]["ledger"] == "unavailable"


def test_readyz_logs_why_a_check_fails_once_across_probes(
    nearly_full: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """The operator without a token reads the reason in the log; probes come every few
    seconds, so a reason is logged when it changes, not on every probe (the free space it
    quotes may move between probes: still the same reason)."""
    with caplog.at_level(logging.INFO, logger="mlgate.readiness"):
        first = nearly_full.client.get("/readyz")
        second = nearly_full.client.get("/readyz", headers=nearly_full.headers("reporter"))

    assert first.status_code == second.status_code == 503
    records = [r for r in caplog.records if r.name == "mlgate.readiness"]
    assert len(records) == 1, [r.getMessage() for r in records]
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["level"] == "warning"
    assert line["event"] == "readiness_check_failed"
    assert line["check"] == "ledger"
    assert NEARLY_FULL in line["reason"]
    # The log is the operator's: the ledger's folder is named as it is.
    assert str(nearly_full.settings.home) in line["reason"]
