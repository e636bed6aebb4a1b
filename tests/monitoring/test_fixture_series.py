"""Each snapshot series under fixtures/snapshots/ gives its outcome from the two commands a
newcomer runs, in a fresh MLGATE_HOME: `mlgate snapshot add` of its files in time order, then
`mlgate decide monitoring` for the deployment its request.json names; and the same over HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from service.cli.exitcodes import EXIT_CODES
from service.settings import PROJECT_ROOT
from tests.api.conftest import in_process
from tests.cli.test_local_mode import mlgate

SERIES_DIR = PROJECT_ROOT / "fixtures" / "snapshots"
# Series -> the outcome, and the reason codes it must give (all of them, worst first).
EXPECTED: dict[str, tuple[str, set[str]]] = {
    "healthy-canary": ("allow", set()),
    "latency-regression": ("rollback", {"MONITORING_FAILURE_LIMIT"}),
    "error-spike": ("rollback", {"MONITORING_FAILURE_LIMIT"}),
    "critical-drift": ("rollback", {"MONITORING_FAILURE_LIMIT"}),
    "missing-data": ("hold", {"MONITORING_CONSECUTIVE_ERRORS"}),
    "warming-up": ("hold", {"MONITORING_WARMING_UP"}),
    "recovery": ("allow", set()),
}


def snapshot_files(series: str) -> list[Path]:
    return sorted(p for p in (SERIES_DIR / series).glob("*.json") if p.name != "request.json")


def deployment(series: str) -> dict[str, Any]:
    request: dict[str, Any] = json.loads((SERIES_DIR / series / "request.json").read_text())
    return request


def test_every_series_on_disk_is_expected() -> None:
    assert sorted(p.name for p in SERIES_DIR.iterdir() if p.is_dir()) == sorted(EXPECTED)


@pytest.mark.parametrize("series", sorted(EXPECTED))
def test_each_series_through_the_cli(tmp_path: Path, series: str) -> None:
    outcome, codes = EXPECTED[series]
    request = deployment(series)

    added = mlgate(tmp_path, "snapshot", "add", *map(str, snapshot_files(series)))
    decided = mlgate(
        tmp_path,
        "decide",
        "monitoring",
        "--model",
        request["model"]["name"],
        "--version",
        request["model"]["version"],
        "--stage",
        request["stage"],
        "--format",
        "json",
    )

    assert added.returncode == 0, added.stderr
    assert decided.returncode == EXIT_CODES[outcome], decided.stderr + decided.stdout
    decision = json.loads(decided.stdout)
    assert decision["outcome"] == outcome
    assert codes <= {reason["code"] for reason in decision["reasons"]}, decision["reasons"]
    warnings = {w["code"] for w in decision["warnings"]}
    assert "DEPLOYMENT_NOT_INSTALLED_BY_GATE" in warnings
    # An allow never hides a failure it tolerated within the budget.
    assert ("MONITORING_FAILURES_TOLERATED" in warnings) == (series == "recovery")


@pytest.mark.parametrize("series", sorted(EXPECTED))
def test_each_series_over_http(tmp_path: Path, series: str) -> None:
    outcome, codes = EXPECTED[series]
    with in_process(tmp_path, fast_path=True) as api:
        for path in snapshot_files(series):
            posted = api.client.post(
                "/v1/snapshots",
                content=path.read_bytes(),
                headers={**api.headers("reporter"), "Content-Type": "application/json"},
            )
            assert posted.status_code == 201, (path.name, posted.text)

        response = api.decide(deployment(series), gate="monitoring")

    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["outcome"] == outcome
    # The decision names every snapshot record it judged, each one the series reported.
    assert len(decision["snapshot_records"]) == len(snapshot_files(series))
    assert codes <= {reason["code"] for reason in decision["reasons"]}, decision["reasons"]
