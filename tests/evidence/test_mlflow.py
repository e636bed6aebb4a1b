"""Evidence from a real MLflow store (sqlite, in-process) and a real `mlflow server`: the
registry is the trusted source, its aliases move only after a durable allow, and the moves are
the history MLflow lacks."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.cli.demo_registry import MODEL, build_demo_registry
from service.compose import local_path
from service.decision.request import GateRequest
from service.enact.history import alias_history
from service.errors import NotFound
from service.evidence.mlflow import VersionReader
from service.execution.inline import LocalPath
from service.registry.mlflow import MlflowRegistry, RegistryUnavailable
from service.settings import Settings
from tests.api.conftest import free_port
from tests.cli.conftest import MLFLOW_LOG_LINE, USUAL_UMASK, modes_under
from tests.conftest import POLICY_DIR

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store with the demo's four versions of a real scikit-learn model."""
    home = tmp_path_factory.mktemp("registry")
    uri = f"sqlite:///{home / 'mlflow.db'}"
    build_demo_registry(uri)
    return uri


@pytest.fixture
def pipeline(store: str, tmp_path: Path) -> Iterator[LocalPath]:
    settings = Settings(home=tmp_path / "home", mlflow_tracking_uri=store, policy_dir=POLICY_DIR)
    made = local_path(settings)
    yield made
    made.ledger.close()


def request(version: str, stage: str = "staging", **fields: Any) -> GateRequest:
    return GateRequest(
        gate="promotion",
        caller={"id": "ci-pipeline", "role": "cli"},
        evidence=fields.pop("evidence", {}),
        target={"stage": stage},
        model={"name": MODEL, "version": version},
        trusted=True,
        registry=True,
        **fields,
    )


def codes(reasons: Any) -> list[str]:
    return [r.code for r in reasons]


def test_a_version_reads_card_metrics_lineage_and_digest_from_the_registry(
    store: str, tmp_path: Path
) -> None:
    registry = VersionReader(MlflowRegistry(store, tmp_path / "cache"))

    read = registry.evidence(MODEL, "2")

    card, metrics, lineage = (read.documents[k] for k in ("model_card", "metrics", "lineage"))
    assert (card["name"], card["version"], card["risk_tier"]) == (MODEL, "2", "high")
    assert 0.95 < metrics["values"]["auc"] <= 1.0
    assert set(metrics["by_group"]) == {"age_band", "region"}
    assert set(metrics["by_group"]["age_band"]) == {"18-25", "26-40", "41-65", "65-plus"}
    assert lineage["git_commit"] == "3e9f1c27b84d5a60e2f7c91b0d4a8e6f53c1b2a7"
    assert [(d["name"], d["context"]) for d in lineage["datasets"]] == [
        ("cnp-transactions-train", "training")
    ]
    assert DIGEST.match(read.artifact_digest) and lineage["artifact_digest"] == read.artifact_digest
    assert read.missing == []


def test_the_artifact_digest_is_deterministic_and_the_version_cached(
    store: str, tmp_path: Path
) -> None:
    first = VersionReader(MlflowRegistry(store, tmp_path / "a")).evidence(MODEL, "2")
    second = VersionReader(MlflowRegistry(store, tmp_path / "b")).evidence(MODEL, "2")
    cached = VersionReader(MlflowRegistry(store, tmp_path / "a")).evidence(MODEL, "2")

    assert first.artifact_digest == second.artifact_digest == cached.artifact_digest
    assert (
        first.artifact_digest
        != VersionReader(MlflowRegistry(store, tmp_path / "a")).evidence(MODEL, "3").artifact_digest
    )
    assert list((tmp_path / "a").rglob("2.json")), "the version's evidence was not cached"


def test_each_version_gets_its_decision_from_the_registry_alone(pipeline: LocalPath) -> None:
    good, regressed, broken = (pipeline.decide(request(v)) for v in ("2", "3", "4"))

    assert good.outcome == "allow"
    assert good.provenance["metrics"] == "registry: MLflow"
    assert good.model.artifact_digest and DIGEST.match(good.model.artifact_digest)
    assert codes(regressed.reasons) == ["METRIC_BELOW_FLOOR"]
    assert codes(broken.reasons) == ["LINEAGE_COMMIT_MISSING", "LINEAGE_TRAINING_DATA_MISSING"]


def test_the_champion_alias_names_the_baseline(pipeline: LocalPath) -> None:
    doc = pipeline.gather(request("2", "production"))

    assert doc["baseline"]["version"] == "1"
    assert doc["baseline"]["metrics"]["values"]["auc"] < doc["metrics"]["values"]["auc"]


def test_caller_evidence_that_differs_from_the_registry_is_a_warning_and_not_used(
    pipeline: LocalPath,
) -> None:
    registry_metrics = pipeline.gather(request("3"))["metrics"]
    claimed = json.loads(json.dumps(registry_metrics))
    claimed["values"]["auc"] = 0.99  # the regressed version claims a passing auc

    decision = pipeline.decide(request("3", evidence={"metrics": claimed}))

    assert codes(decision.reasons) == ["METRIC_BELOW_FLOOR"]  # judged on the registry's auc
    assert decision.provenance["metrics"] == "registry: MLflow"
    good = json.loads(json.dumps(pipeline.gather(request("2"))["metrics"]))
    good["values"]["auc"] = 0.99
    warned = pipeline.decide(request("2", evidence={"metrics": good}))
    assert [(w.code, w.field, w.severity) for w in warned.warnings] == [
        ("EVIDENCE_CONFLICT", "metrics.values.auc", "low")
    ]


def test_a_request_naming_another_artifact_is_a_warning_and_the_registrys_digest_is_judged(
    pipeline: LocalPath,
) -> None:
    held = pipeline.gather(request("2"))["model"]["artifact_digest"]
    claimed = "sha256:" + "0" * 64
    asked = request("2")

    decision = pipeline.decide(
        dataclasses.replace(asked, model={**dict(asked.model or {}), "artifact_digest": claimed})
    )

    assert decision.outcome == "allow"
    assert decision.model.artifact_digest == held != claimed
    assert [(w.code, w.field, w.severity) for w in decision.warnings] == [
        ("EVIDENCE_CONFLICT", "model.artifact_digest", "low")
    ]
    assert claimed in decision.warnings[0].message and held in decision.warnings[0].message
    assert decision.provenance["model"] == "registry: MLflow"


def test_enact_moves_the_alias_after_an_allow_and_records_the_move(pipeline: LocalPath) -> None:
    registry = pipeline.context.registry
    before = registry.alias_version(MODEL, "staging")

    allowed = pipeline.decide(request("2", enact=True))
    denied = pipeline.decide(request("3", enact=True))

    assert allowed.enactment is not None and allowed.enactment.moved
    assert registry.alias_version(MODEL, "staging") == "2"
    assert denied.enactment is not None and not denied.enactment.moved
    [move, *_] = alias_history(pipeline.context.ledger, MODEL, "staging")
    assert (move["from_version"], move["to_version"]) == (before, "2")
    assert move["decision_id"] == allowed.decision_id
    assert move["record"] == allowed.enactment.record
    assert allowed.audit is not None and move["record"] > allowed.audit.seq


def test_an_alias_moved_outside_the_gate_holds_and_the_champion_of_record_stays(
    pipeline: LocalPath,
) -> None:
    pipeline.context.registry.set_alias(MODEL, "staging", "1")  # where it was before
    moved = pipeline.decide(request("2", "staging", enact=True))
    assert moved.enactment is not None and moved.enactment.moved
    pipeline.context.registry.set_alias(MODEL, "staging", "3")  # behind the gate's back

    decision = pipeline.decide(request("2", "staging"))

    assert decision.outcome == "hold"
    [reason] = [r for r in decision.reasons if r.code == "ALIAS_MOVED_OUTSIDE_GATE"]
    assert "names v3 in the registry, but the gate last installed v2" in reason.message


def test_a_version_the_registry_lacks_is_not_found(pipeline: LocalPath) -> None:
    with pytest.raises(NotFound, match="version 99 of model 'fraud-detector' is not in"):
        pipeline.decide(request("99"))


def test_an_unreachable_registry_fails_fast_and_decides_nothing(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    registry = VersionReader(MlflowRegistry(url, tmp_path / "cache", retries=0, timeout_s=2))

    started = time.monotonic()
    with pytest.raises(RegistryUnavailable, match="could not be read"):
        registry.evidence(MODEL, "2")
    assert time.monotonic() - started < 10


def cli(
    home: Path, store: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`mlgate ARGS` in a subprocess under the usual umask, MLflow's logging as an operator who
    set nothing gets it (unless `env` sets it)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", *args],
        env={
            **base,
            "MLGATE_HOME": str(home),
            "MLGATE_CALLER_ID": "ci-pipeline",
            "MLFLOW_TRACKING_URI": store,
            "MLGATE_MLFLOW_REQUEST_RETRIES": "0",
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        umask=USUAL_UMASK,
    )


def test_decide_model_version_exits_with_the_outcome_and_history_lists_the_moves(
    store: str, tmp_path: Path
) -> None:
    decide = ["decide", "promotion", "--model", MODEL, "--to", "staging", "--enact"]

    good = cli(tmp_path, store, *decide, "--version", "2", "--format", "json")
    regressed = cli(tmp_path, store, *decide, "--version", "3")
    missing = cli(tmp_path, store, *decide, "--version", "99")
    history = cli(tmp_path, store, "history", "--model", MODEL, "--format", "json")

    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["enactment"]["moved"] is True
    assert regressed.returncode == 1 and "METRIC_BELOW_FLOOR" in regressed.stdout
    assert missing.returncode == 2 and "is not in the MLflow registry" in missing.stderr
    assert "Traceback" not in missing.stderr
    [move] = json.loads(history.stdout)["moves"]
    assert (move["alias"], move["to_version"]) == ("staging", "2")


def test_a_decide_from_the_registry_leaves_nothing_open_to_others_under_its_home(
    store: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"  # mlgate creates it

    decided = cli(
        home, store, "decide", "promotion", "--model", MODEL, "--version", "2", "--to", "staging"
    )

    assert decided.returncode == 0, decided.stderr
    created = modes_under(home)
    assert any(
        path.startswith("cache/mlflow/") and kind == "f" for path, (kind, _) in created.items()
    )
    folders = {path: oct(mode) for path, (kind, mode) in created.items() if kind == "d"}
    assert {path: mode for path, mode in folders.items() if mode != oct(0o700)} == {}
    assert {path: oct(mode) for path, (_, mode) in created.items() if mode & 0o077} == {}


DECIDE_ON_V1 = ("decide", "promotion", "--model", MODEL, "--version", "1", "--to", "staging")


def test_a_new_local_store_opened_by_a_decide_logs_nothing_to_its_stderr(tmp_path: Path) -> None:
    store = tmp_path / "mlflow.db"
    store.touch()  # a store MLflow has not set up yet: opening it creates its tables

    decided = cli(tmp_path / "home", f"sqlite:///{store}", *DECIDE_ON_V1)

    assert store.stat().st_size > 0  # MLflow did set it up
    assert decided.returncode == 2
    assert decided.stderr.splitlines()[-1] == (
        f"mlgate: error: version 1 of model {MODEL!r} is not in the MLflow registry at "
        f"sqlite:///{store}"
    )
    assert MLFLOW_LOG_LINE.findall(decided.stderr) == []


def test_mlflows_own_log_level_is_kept_when_the_operator_sets_one(tmp_path: Path) -> None:
    store = tmp_path / "mlflow.db"
    store.touch()

    decided = cli(
        tmp_path / "home",
        f"sqlite:///{store}",
        *DECIDE_ON_V1,
        env={"MLFLOW_LOGGING_LEVEL": "INFO"},
    )

    assert decided.returncode == 2
    assert "INFO mlflow.store.db.utils: Creating initial MLflow database tables" in decided.stderr


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `mlflow server` on a free loopback port, with the demo's versions logged through
    it (artifacts proxied by the server); about 30 s to start here."""
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    log = (root / "server.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{root / 'mlflow.db'}",
            "--artifacts-destination",
            str(root / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=root,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert server.poll() is None, (root / "server.log").read_text()
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail(f"mlflow server not up in 120 s:\n{(root / 'server.log').read_text()}")
        build_demo_registry(url)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_through_a_real_mlflow_server(mlflow_server: str, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, mlflow_tracking_uri=mlflow_server, policy_dir=POLICY_DIR)
    pipeline = local_path(settings)

    decision = pipeline.decide(request("2", enact=True))

    assert decision.outcome == "allow", decision.reasons
    assert decision.enactment is not None and decision.enactment.moved
    assert pipeline.context.registry.alias_version(MODEL, "staging") == "2"
