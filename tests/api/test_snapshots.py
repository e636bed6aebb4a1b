"""POST /v1/snapshots: a reporter's token records a snapshot; anything else stores nothing."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Api
from tests.monitoring.conftest import snapshot

_versions = itertools.count(100)


def deployment_snapshot(index: int = 0, **changes: Any) -> dict[str, Any]:
    """A snapshot of a deployment no other test of the module reports on."""
    version = str(next(_versions))
    deployment = {"model": "fraud-detector", "version": version, "stage": "canary"}
    return snapshot(index, deployment=deployment, **changes)


def post(api: Api, body: Any, role: str = "reporter") -> Any:
    return api.client.post("/v1/snapshots", json=body, headers=api.headers(role))


def stored(api: Api) -> int:
    listing = api.client.get(
        "/v1/audit",
        params={"kind": "metric_snapshot", "limit": 500},
        headers=api.headers("auditor"),
    )
    assert listing.status_code == 200, listing.text
    return len(listing.json()["records"])


def test_a_reporter_records_a_snapshot_listed_in_the_audit_ledger(api: Api) -> None:
    before = stored(api)
    sent = deployment_snapshot()

    response = post(api, sent)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["deployment"] == sent["deployment"]
    assert body["reported_by"] == "prometheus-monitor"
    assert isinstance(body["record"], int) and body["received_at"].endswith("Z")
    assert stored(api) == before + 1


@pytest.mark.parametrize("role", ["gate", "approver", "auditor", "admin"])
def test_only_a_reporter_token_may_report(api: Api, role: str) -> None:
    before = stored(api)

    response = post(api, deployment_snapshot(), role=role)

    assert response.status_code == 403
    assert "reporter" in response.json()["message"]
    assert stored(api) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sample_count": -1}, "sample_count"),
        (
            {"interval": {"start": "2026-11-18T14:05:00Z", "end": "2026-11-18T14:00:00Z"}},
            "interval.end",
        ),
        (
            {"interval": {"start": "2026-11-18T14:05:00Z", "end": "2999-01-01T00:00:00Z"}},
            "interval.end",
        ),
        ({"reported_from": {"evidently": "sha256:" + "0" * 64}}, "reported_from"),
        ({"operational": {"error_rate": "low"}}, "operational.error_rate"),
    ],
    ids=["negative-samples", "end-before-start", "end-in-the-future", "reported-from", "text-rate"],
)
def test_a_bad_snapshot_is_a_422_naming_the_field_and_stores_nothing(
    api: Api, changes: dict[str, Any], field: str
) -> None:
    before = stored(api)

    response = post(api, deployment_snapshot(**changes))

    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert stored(api) == before


def test_an_overlapping_interval_is_a_422_and_the_first_stays(api: Api) -> None:
    first = deployment_snapshot(0)
    assert post(api, first).status_code == 201
    before = stored(api)
    overlapping = {**first, "interval": snapshot(0, minutes=7)["interval"]}

    response = post(api, overlapping)

    assert response.status_code == 422
    assert response.json()["field"] == "interval.start"
    assert "may not overlap" in response.json()["message"]
    assert stored(api) == before


def test_a_body_that_is_not_an_object_is_a_422(api: Api) -> None:
    response = api.client.post(
        "/v1/snapshots",
        content=b"[1, 2]",
        headers={**api.headers("reporter"), "Content-Type": "application/json"},
    )

    assert response.status_code == 422


def test_a_gate_request_may_not_carry_snapshots(api: Api) -> None:
    body = {
        "model": {"name": "fraud-detector", "version": "7"},
        "stage": "canary",
        "evidence": {"snapshots": [deployment_snapshot()]},
    }

    response = api.decide(body, gate="monitoring")

    assert response.status_code == 422
    assert response.json()["field"] == "evidence.snapshots"


def test_a_monitors_own_reports_become_the_snapshots_parts(api: Api) -> None:
    """An Evidently report and a Great Expectations result, sent as the monitor wrote them,
    are stored as the drift and data-quality parts, with the digest of each report."""
    reports = Path(__file__).parents[1] / "monitoring" / "reports"
    sent = deployment_snapshot(
        reports={
            "evidently": json.loads((reports / "evidently_0.7_value_drift_tests.json").read_text()),
            "great_expectations": json.loads(
                (reports / "gx_1x_validation_result.json").read_text()
            ),
        }
    )

    response = post(api, sent)

    assert response.status_code == 201, response.text
    stored = response.json()
    assert "reports" not in stored
    assert stored["drift"]["source"] == "evidently" and stored["drift"]["features"]
    assert stored["data_quality"]["expectations"]["evaluated"] > 0
    assert set(stored["reported_from"]) == {"evidently", "great_expectations"}


def test_a_report_with_an_errored_drift_test_is_a_422_naming_it(api: Api) -> None:
    reports = Path(__file__).parents[1] / "monitoring" / "reports"
    report = json.loads((reports / "evidently_0.7_value_drift_error.json").read_text())

    response = post(api, deployment_snapshot(reports={"evidently": report}))

    assert response.status_code == 422
    assert response.json()["field"].startswith("reports.evidently.tests[")


# --- A snapshot repeated (a monitor's retry after a lost answer) ------------------------------


def test_the_same_snapshot_again_answers_200_with_the_one_kept(served: Api) -> None:
    """A retry was refused 422 (an overlap with itself), so a monitor could not tell a lost
    answer from a refusal. Over HTTP to `mlgate serve` too."""
    sent = deployment_snapshot()
    first = post(served, sent)
    assert first.status_code == 201, first.text
    before = stored(served)

    again = post(served, sent)

    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert stored(served) == before


def test_the_same_interval_with_other_figures_is_a_422_naming_each_difference(
    served: Api,
) -> None:
    sent = deployment_snapshot()
    first = post(served, sent).json()
    before = stored(served)
    corrected = {**sent, "sample_count": 1841, "operational": {"error_rate": 0.004}}

    response = post(served, corrected)

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["field"] == "operational.latency_p99_ms"
    assert (
        f"is recorded already (snapshot {first['id']}, seq {first['record']})"
        in (problem["message"])
    )
    for difference in (
        "operational.latency_p99_ms: recorded 182.0, sent (absent)",
        "operational.throughput_rps: recorded 6.1, sent (absent)",
        "sample_count: recorded 1840, sent 1841",
    ):
        assert difference in problem["message"]
    assert "operational.error_rate" not in problem["message"]
    assert stored(served) == before
