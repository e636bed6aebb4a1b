"""Findings of an attack review of the monitoring gate and the rollback gate, each now a test
of its fix: each failed on the code before it. Its docstring says which promise was broken,
what was done, what was seen and what is expected. The app runs in-process with a temporary
MLGATE_HOME; a policy set is copied (and, where a test says so, broken) under it.
"""

from __future__ import annotations

import contextlib
import shutil
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from service.api.app import create_app
from service.settings import PROJECT_ROOT, Settings
from tests.api.conftest import make_tokens

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
from fastapi.testclient import TestClient  # noqa: E402

MODEL = "fraud-detector"


@dataclass
class App:
    client: TestClient
    tokens: dict[str, str]

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def report(self, body: Any) -> Any:
        return self.client.post("/v1/snapshots", json=body, headers=self.headers("reporter"))

    def monitor(self, version: str, stage: str) -> Any:
        body = {"model": {"name": MODEL, "version": version}, "stage": stage}
        return self.client.post("/v1/decisions/monitoring", json=body, headers=self.headers("gate"))


@contextlib.contextmanager
def served(home: Path, mutate: Callable[[Path], None] | None = None) -> Iterator[App]:
    """The real app on a copy of the project's policies (changed by `mutate`), answering a
    server error as a 500 instead of raising it into the test."""
    policies = home / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", policies)
    if mutate is not None:
        mutate(policies)
    settings = Settings(home=home / "home", policy_dir=policies)
    tokens = make_tokens(settings)
    app = create_app(settings, engines=1, workers=0)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield App(client, tokens)
    finally:
        app.state.runtime.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with served(tmp_path_factory.mktemp("attack")) as made:
        yield made


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


NOW = datetime.now(UTC).replace(microsecond=0)


def snapshot(version: str, index: int = 0, stage: str = "production", **changes: Any) -> dict:
    """The `index`th five-minute interval of the last hour: a healthy interval of `version`."""
    start = NOW - timedelta(hours=1) + timedelta(minutes=5 * index)
    document: dict[str, Any] = {
        "deployment": {"model": MODEL, "version": version, "stage": stage},
        "interval": {"start": stamp(start), "end": stamp(start + timedelta(minutes=5))},
        "sample_count": 1000,
        "operational": {"latency_p99_ms": 100.0, "error_rate": 0.001},
        "drift": {"features": [{"name": "amount", "drifted": False}]},
    }
    document.update(changes)
    return document


def reasons(answer: Any) -> list[tuple[str, str]]:
    return [(r["code"], r["message"]) for r in answer.json().get("reasons", [])]


# --- 1. numbers the ingestion accepts and the decision path cannot carry ---------------------


def test_a_huge_integer_metric_is_refused_and_the_deployment_is_still_judged(
    app: App,
) -> None:
    """Promises 2 and 5 (and 4: the deployment can no longer be rolled back by monitoring).

    Did: a reporter posts a snapshot of fraud-detector v-bigint at production whose
    latency_p99_ms is the integer 10**400 (a valid JSON number, and >= 0 as the schema asks),
    then the pipeline asks the monitoring gate about that deployment.
    Saw: POST /v1/snapshots answers 201 and stores it; every monitoring decision on the
    deployment then fails with a 500 (OverflowError: int too large to convert to float, in
    service/monitoring/analysis.py `_values`). The snapshot is a ledger record and cannot be
    removed, so the deployment's monitoring gate is wedged for good: later bad intervals can
    never give rollback. The same happens with the number under `baseline.operational`.
    Expected: the snapshot refused at ingestion with a 422 naming
    operational.latency_p99_ms (as NaN and Infinity are), and never a 500 afterwards.
    """
    sent = snapshot("bigint", operational={"latency_p99_ms": 10**400, "error_rate": 0.001})

    posted = app.report(sent)
    decided = app.monitor("bigint", "production")

    assert (posted.status_code, decided.status_code) == (422, 200), (
        posted.status_code,
        decided.status_code,
        decided.text[:300],
    )


def test_a_year_zero_interval_start_is_a_422_not_a_500(app: App) -> None:
    """Promise 5 (never a 500 for a client's mistake) and promise 2 (a 422 naming the field).

    Did: POST /v1/snapshots with interval.start "0000-01-01T00:00:00Z", which the schema's
    timestamp pattern and date-time format let through.
    Saw: 500 (ValueError: year 0 is out of range, raised by datetime.fromisoformat in
    service/monitoring/snapshot.py `_time`).
    Expected: 422 with field interval.start, nothing stored.
    """
    sent = snapshot("year0")
    sent["interval"]["start"] = "0000-01-01T00:00:00Z"

    response = app.report(sent)

    assert response.status_code == 422, (response.status_code, response.text[:300])
    assert response.json()["field"] == "interval.start"


def test_figures_too_large_to_average_are_refused_and_the_largest_allowed_still_roll_back(
    app: App,
) -> None:
    """Promise 1/4: a canary far above its latency ceiling must roll back; promise 5: clear
    errors.

    Found: two production intervals whose latency_p99_ms was 1.6e308 (finite; a monitor that
    writes DBL_MAX for Prometheus' +Inf quantile sends 1.797e308) were stored, and the mean
    computed while gathering overflowed to inf: the decision was a deny with EVIDENCE_INVALID
    ("comparisons[1].canary.mean: null ..."), hiding the rollback.
    Now: a figure beyond 1e15 in magnitude is refused at ingestion (422 naming it, nothing
    stored), and intervals at the bound itself are judged: a rollback for the ceiling.
    """
    baseline = {"version": "6", "operational": {"latency_p99_ms": 1.5e308, "error_rate": 0.001}}
    refused = app.report(
        snapshot(
            "overflow",
            0,
            operational={"latency_p99_ms": 1.6e308, "error_rate": 0.001},
            baseline=baseline,
        )
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == "operational.latency_p99_ms"

    largest = {"version": "6", "operational": {"latency_p99_ms": 9e14, "error_rate": 0.001}}
    for i in range(2):
        posted = app.report(
            snapshot(
                "overflow",
                i,
                operational={"latency_p99_ms": 1e15, "error_rate": 0.001},
                baseline=largest,
            )
        )
        assert posted.status_code == 201, posted.text

    decided = app.monitor("overflow", "production")

    assert decided.status_code == 200, decided.text
    assert decided.json()["outcome"] == "rollback", reasons(decided)


# --- 2. what counts as data about now, and as enough of it ---------------------------------


def test_an_old_interval_reported_now_is_judged_with_the_warning_that_says_why(app: App) -> None:
    """Promise 1: stale data never gives allow, within what the gate can know.

    Found: one snapshot of v-old at production whose interval is 2026-01-01 00:00-00:05,
    posted now, gave a bare allow: freshness was measured by the record's received_at only.
    Now: for a deployment the gate installed, the newest interval must also have ended within
    max_age (policies/monitoring/freshness_test.rego pins it at the boundaries). This
    deployment was not installed by the gate, so nothing dates its intervals: it is judged by
    when its snapshots arrived (the fixture series under fixtures/snapshots/ are such
    deployments, and must keep their outcome whatever day they are added), and the decision
    says so with DEPLOYMENT_NOT_INSTALLED_BY_GATE, which a pipeline can fail on.
    """
    sent = snapshot(
        "old", interval={"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:05:00Z"}
    )
    assert app.report(sent).status_code == 201

    decided = app.monitor("old", "production")

    warnings = {w["code"] for w in decided.json()["warnings"]}
    assert "DEPLOYMENT_NOT_INSTALLED_BY_GATE" in warnings, decided.text


def test_a_canary_is_not_allowed_on_a_fifth_of_a_second_of_measurement(app: App) -> None:
    """Promise 1: insufficient data never gives allow.

    Did: four canary intervals of v-blink, each 50 ms long (100 ms apart), 1000 samples each,
    healthy figures and a baseline; then asked the monitoring gate at canary (warm-up 1,
    three consecutive successes needed: with the 5-minute intervals of the fixtures, a
    15-minute soak).
    Saw: allow, 0.35 s after the first interval began. The gate counts intervals, never
    their length nor the gaps between them, so the canary soak is whatever the monitor's
    interval length makes it (the same holds for a years-long interval, and for one that
    starts before the installation and ends just after it: it counts as this deployment's).
    Expected: hold until the judged intervals cover a minimum time (or intervals of an
    expected length), or a 422 for an interval too short to judge.
    """
    started = datetime.now(UTC)
    time.sleep(0.5)
    baseline = {"version": "6", "operational": {"latency_p99_ms": 100.0, "error_rate": 0.001}}
    for i in range(4):
        begin = started + timedelta(milliseconds=100 * i)
        interval = {"start": stamp(begin), "end": stamp(begin + timedelta(milliseconds=50))}
        sent = snapshot("blink", stage="canary", interval=interval, baseline=baseline)
        assert app.report(sent).status_code == 201

    decided = app.monitor("blink", "canary")

    assert decided.json()["outcome"] != "allow", reasons(decided)


def test_a_feature_named_twice_is_refused_so_it_cannot_dilute_the_drift_share(app: App) -> None:
    """Promise 1/2: a drift report must not be made to pass by repeating a feature.

    Did: a production snapshot of v-dup whose drift lists amount (not drifted), a and b
    (drifted): 2 of 3 features drifted, above max_share_drifted 0.3 (alone this interval
    fails, as checked with v-nodup). The same snapshot with amount repeated five more times.
    Saw: v-nodup holds (a failed interval); v-dup allows: the share is counted over list
    entries (2 of 8 = 0.25), and the schema and ingestion accept the same feature name many
    times.
    Expected: a 422 naming drift.features for a repeated feature name (or the share counted
    over distinct features), so the outcome is the same as without the repeats.
    """
    features = [
        {"name": "amount", "drifted": False},
        {"name": "a", "drifted": True},
        {"name": "b", "drifted": True},
    ]
    assert app.report(snapshot("nodup", drift={"features": features})).status_code == 201
    padded = features + [{"name": "amount", "drifted": False}] * 5
    posted = app.report(snapshot("dup", drift={"features": padded}))

    plain = app.monitor("nodup", "production").json()["outcome"]
    decided = app.monitor("dup", "production")

    assert plain != "allow"
    assert posted.status_code == 422 or decided.json()["outcome"] == plain, reasons(decided)


# --- 3. a policy set that lost a file, or a setting that means "no data is enough" ----------


def _without(name: str) -> Callable[[Path], None]:
    def remove(policies: Path) -> None:
        (policies / "monitoring" / name).unlink()
        (policies / "monitoring" / name.replace(".rego", "_test.rego")).unlink()

    return remove


ZERO_TRAFFIC = {
    "sample_count": 0,
    "operational": {"latency_p99_ms": 0.0, "error_rate": 0.0},
}


@pytest.mark.parametrize(
    ("missing", "snapshots"),
    [("freshness.rego", 0), ("budgets.rego", 1)],
    ids=["freshness-missing-no-snapshot", "budgets-missing-zero-samples"],
)
def test_a_policy_set_missing_a_monitoring_file_never_allows(
    tmp_path: Path, missing: str, snapshots: int
) -> None:
    """Promise 4: a missing policy file never allows.

    Did: the project's policies copied with policies/monitoring/<file> (and its test) removed;
    the service started on them; then, for freshness.rego, a monitoring decision on a
    deployment with no snapshot at all; for budgets.rego, on one with a single interval of 0
    samples.
    Saw: the set loads (each remaining file compiles on its own, by design, for OPA's Policy
    API), and the answer is allow: without freshness.rego nothing says "no data"; without
    budgets.rego nothing counts inconclusive intervals nor asks for a success. No check that a
    gate's package holds the rules it needs.
    Expected: the set refused at load (or reload), or the decision never allow.
    """
    with served(tmp_path, _without(missing)) as made:
        if snapshots:
            assert made.report(snapshot("7", **ZERO_TRAFFIC)).status_code == 201

        decided = made.monitor("7", "production")

    assert decided.json()["outcome"] != "allow", reasons(decided)


def test_min_samples_zero_is_refused_by_the_config_check(
    tmp_path: Path,
) -> None:
    """Promise 1 (sample_count 0 never allows) and promise 4 (a monitoring.yaml that the
    schema accepts must not make no data enough).

    Did: monitoring.yaml with stages.default.min_samples: 0 (the schema's minimum is 0); one
    production interval with sample_count 0 and figures of 0.
    Saw: the set loads and the decision is allow on an interval in which nothing was served.
    Expected: min_samples at least 1 in monitoring_config.schema.json (as consecutive_successes
    is), or sample_count 0 always inconclusive.
    """

    def zero(policies: Path) -> None:
        path = policies / "data" / "monitoring.yaml"
        path.write_text(path.read_text().replace("min_samples: 100", "min_samples: 0", 1))

    try:
        with served(tmp_path, zero) as made:
            assert made.report(snapshot("7", **ZERO_TRAFFIC)).status_code == 201
            decided = made.monitor("7", "production")
    except Exception as refused:  # the set refused at load: what is expected
        assert "min_samples" in str(refused)
        return

    assert decided.json()["outcome"] != "allow", reasons(decided)


# --- 4. the ledger's own history read with fixed limits --------------------------------------


def test_after_a_hundred_moves_of_other_aliases_the_gate_still_knows_it_installed_the_deployment(
    tmp_path: Path,
) -> None:
    """Promise 1 ("snapshots of another deployment / older than the installation") and the
    rollback gate's word that the deployment is the gate's.

    Did: on a real MLflow store, the gate installs v2 in production (staging, canary,
    production with enact). Then 100 alias moves of the same model's staging alias are
    recorded, as the gate records them (here failed ones, as a conflicting enact records;
    nightly staging promotions produce the same). Then a monitoring decision on v2 in
    production.
    Saw: the decision warns DEPLOYMENT_NOT_INSTALLED_BY_GATE and its input says
    installed_by_gate false, installed_at null: service/evidence/registry.py
    `last_alias_move` reads only the newest 100 alias_move records of the model (every
    alias, failed moves included) before filtering by alias. With installed_at null, no
    snapshot is filtered as older than the installation, so another deployment's intervals of
    the same version (before a rollback and a reinstall) are judged as this one's. (The
    rollback gate reads 10,000 moves and the ROLLED_BACK check 1,000: three different
    horizons over the same history; past 1,000, a rolled-back version's old allows count
    again.)
    Expected: installed_by_gate true with the production move's time, however many moves of
    other aliases came after it.
    """
    import uuid

    from service.cli.demo_registry import build_demo_registry
    from service.compose import local_path
    from service.decision.request import GateRequest
    from service.enact.history import alias_history
    from tests.conftest import POLICY_DIR
    from tests.evidence.test_registry_trust import copy_model, install

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    build_demo_registry(store)
    path = local_path(
        Settings(home=tmp_path / "home", mlflow_tracking_uri=store, policy_dir=POLICY_DIR)
    )
    try:
        name = copy_model(store, ["1", "2"], champion="1")
        install(path, name, "2")
        assert alias_history(path.ledger, name, "champion")[0]["to_version"] == "2"
        for _ in range(100):
            move_id = str(uuid.uuid4())
            path.ledger.record_event(
                "alias_move",
                move_id,
                {
                    "id": move_id,
                    "model": name,
                    "version": "2",
                    "artifact_digest": None,
                    "alias": "staging",
                    "from_version": "1",
                    "to_version": "2",
                    "moved": False,
                    "outcome": "failed",
                    "error": "conflict: the alias moved since the decision; decide again",
                    "decision_id": "d",
                    "decision_seq": 1,
                    "requested_by": "ci-pipeline",
                    "moved_at": stamp(datetime.now(UTC)),
                },
                model=(name, "2", None),
                outcome="failed",
                by="ci-pipeline",
            )
        request = GateRequest(
            gate="monitoring",
            caller={"id": "argo-rollouts", "role": "cli"},
            evidence={},
            target={"stage": "production"},
            model={"name": name, "version": "2"},
            trusted=True,
        )
        document = path.gather(request)
    finally:
        path.ledger.close()

    assert document["deployment"]["installed_by_gate"] is True, document.get("evidence_notes")
