"""Nothing the model's owner can write in MLflow lifts a deny: the owner may set or delete an
alias, log to a finished run and overwrite its artifacts. Against a real MLflow store (SQLite):
the baseline is the gate's champion of record, evidence is read afresh when a decision can
reach production and is bound to what earlier decisions saw, a run that has not finished is
not judged, and alias moves are compare-and-set under a lock in the ledger's database.

Each test registers a model of its own in one shared store, whose versions copy the demo's
(same logged models and runs), so no test sees another's aliases or records."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.cli.demo_registry import MODEL, build_demo_registry
from service.compose import local_path
from service.decision.model import DecisionAnswer, Enactment
from service.decision.request import GateRequest
from service.enact.history import alias_history
from service.execution.inline import LocalPath
from service.gates.promotion import promote
from service.settings import Settings
from tests.conftest import POLICY_DIR

APPROVER = ("r.okafor", "model-risk-officer")
_names = itertools.count(1)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    home = tmp_path_factory.mktemp("trust-registry")
    uri = f"sqlite:///{home / 'mlflow.db'}"
    build_demo_registry(uri)
    return uri


def client(store: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=store, registry_uri=store)


def copy_model(
    store: str, versions: list[str], tmp_path: Path | None = None, champion: str | None = None
) -> str:
    """A new registered model whose versions 1, 2, ... are the demo's `versions`, in order
    (same logged model and run; with `tmp_path`, each with a copy of its artifacts there, so
    they can be overwritten without touching the demo's); `champion` is set as the alias of
    a version deployed before the gate came."""
    mlflow = client(store)
    name = f"trust-{next(_names)}"
    mlflow.create_registered_model(name)
    for demo_version in versions:
        original = mlflow.get_model_version(MODEL, demo_version)
        source = original.source
        if tmp_path is not None:
            location = mlflow.get_logged_model(source.removeprefix("models:/")).artifact_location
            copied = tmp_path / f"{name}-{demo_version}-{next(_names)}"
            shutil.copytree(location.removeprefix("file://"), copied)
            source = str(copied)
        mlflow.create_model_version(name, source, run_id=original.run_id)
    if champion is not None:
        mlflow.set_registered_model_alias(name, "champion", champion)
    return name


@pytest.fixture
def path(store: str, tmp_path: Path) -> Iterator[LocalPath]:
    made = local_path(
        Settings(home=tmp_path / "home", mlflow_tracking_uri=store, policy_dir=POLICY_DIR)
    )
    yield made
    made.ledger.close()


def request(name: str, version: str, stage: str, **fields: Any) -> GateRequest:
    return GateRequest(
        gate="promotion",
        caller={"id": "ci-pipeline", "role": "cli"},
        evidence=fields.pop("evidence", {}),
        target={"stage": stage},
        model={"name": name, "version": version},
        trusted=True,
        registry=True,
        **fields,
    )


def approve(path: LocalPath, name: str, version: str) -> None:
    digest = path.gather(request(name, version, "production"))["model"]["artifact_digest"]
    approver, role = APPROVER
    path.context.book.approve(
        model=name,
        version=version,
        artifact_digest=digest,
        approver=approver,
        role=role,
        status="approved",
        comment="validation report reviewed",
    )


def install(path: LocalPath, name: str, version: str) -> DecisionAnswer:
    """Through staging and canary to production with --enact, approved on the way."""
    for stage in ("staging", "canary"):
        answer = path.decide(request(name, version, stage, enact=True))
        assert answer.outcome == "allow", [r.message for r in answer.reasons]
    approve(path, name, version)
    answer = path.decide(request(name, version, "production", enact=True))
    assert answer.outcome == "allow", [r.message for r in answer.reasons]
    assert answer.enactment is not None and answer.enactment.moved, answer.enactment
    return answer


def codes(answer: DecisionAnswer) -> list[str]:
    return [r.code for r in answer.reasons]


def test_the_legitimate_flow_installs_and_compares_against_the_champion_of_record(
    path: LocalPath, store: str
) -> None:
    name = copy_model(store, ["2", "1"], champion="2")  # v1 good; v2 the old champion
    install(path, name, "1")

    doc = path.gather(request(name, "2", "production"))

    assert doc["baseline"]["version"] == "1"
    assert doc["provenance"]["baseline"] == "ledger: alias moves"
    assert doc["alias_of_record"]["registry_version"] == "1"
    history = alias_history(path.ledger, name, "champion")
    assert history[0]["to_version"] == str(
        client(store).get_model_version_by_alias(name, "champion").version
    )


def test_an_alias_set_before_the_gate_is_reported_and_is_no_champion_of_record(
    path: LocalPath, store: str
) -> None:
    name = copy_model(store, ["2", "1"], champion="2")  # v2 deployed before the gate came

    before = path.gather(request(name, "1", "production"))
    first = path.decide(request(name, "1", "production"))

    assert before["alias_unrecorded"] == {"alias": "champion", "registry_version": "2"}
    assert before["provenance"]["alias_unrecorded"] == "registry: MLflow + ledger: alias moves"
    assert "alias_of_record" not in before
    assert [w.code for w in first.warnings] == ["ALIAS_SET_OUTSIDE_GATE"]
    install(path, name, "1")
    after = path.gather(request(name, "2", "production"))
    assert "alias_unrecorded" not in after
    assert after["alias_of_record"]["version"] == "1"


def test_a_champion_alias_moved_to_a_weak_version_is_not_the_baseline(
    path: LocalPath, store: str
) -> None:
    name = copy_model(store, ["2", "1", "3"], champion="2")  # good, old champion, regressed
    install(path, name, "1")
    client(store).set_registered_model_alias(name, "champion", "3")  # outside the gate

    for stage in ("staging", "canary"):
        path.decide(request(name, "2", stage, enact=True))
    approve(path, name, "2")
    answer = path.decide(request(name, "2", "production", enact=True))

    assert answer.outcome != "allow", "the owner chose the baseline by moving the alias"
    assert "ALIAS_MOVED_OUTSIDE_GATE" in codes(answer)
    assert answer.enactment is not None and not answer.enactment.moved
    assert str(client(store).get_model_version_by_alias(name, "champion").version) == "3"


def test_a_deleted_alias_does_not_let_the_caller_bring_a_baseline(
    path: LocalPath, store: str
) -> None:
    name = copy_model(store, ["2", "1"], champion="2")
    install(path, name, "1")
    client(store).delete_registered_model_alias(name, "champion")
    weak = {"version": "0", "metrics": {"values": {"auc": 0.5, "recall_at_1pct_fpr": 0.1}}}

    doc = path.gather(request(name, "2", "production", evidence={"baseline": weak}))

    assert doc["baseline"]["version"] == "1"
    assert doc["provenance"]["baseline"] == "ledger: alias moves"
    assert doc["alias_of_record"]["registry_version"] is None
    conflict = [n for n in doc["evidence_notes"] if n["code"] == "EVIDENCE_CONFLICT"]
    assert conflict and "is not the 'champion' of record, v1" in conflict[0]["message"]


def test_artifacts_overwritten_after_the_approval_are_not_judged_as_approved(
    path: LocalPath, store: str, tmp_path: Path
) -> None:
    name = copy_model(store, ["2", "1"], tmp_path, champion="2")
    for stage in ("staging", "canary"):
        assert path.decide(request(name, "1", stage, enact=True)).outcome == "allow"
    approve(path, name, "1")
    source = client(store).get_model_version(name, "1").source
    (Path(source) / "model.pkl").write_bytes(b"other bytes")  # the run is FINISHED

    answer = path.decide(request(name, "1", "production", enact=True))

    # New bytes are a new artifact: neither its stage history nor its approval carries over.
    assert answer.outcome == "deny", [r.message for r in answer.reasons]
    assert sorted(codes(answer)) == ["APPROVAL_PENDING", "STAGE_ORDER"]
    assert answer.enactment is not None and not answer.enactment.moved


def test_an_alias_move_checks_the_artifact_once_more_and_records_a_failed_move(
    path: LocalPath, store: str, tmp_path: Path
) -> None:
    name = copy_model(store, ["2"], tmp_path)
    judged = path.decide(request(name, "1", "staging"))
    assert judged.outcome == "allow" and judged.audit is not None
    source = client(store).get_model_version(name, "1").source
    (Path(source) / "model.pkl").write_bytes(b"swapped after the decision")

    enactment = promote(judged, judged.audit, path.context, path.policy_set.config)

    assert not enactment.moved
    assert "changed since the decision" in enactment.note
    [move] = alias_history(path.ledger, name, "staging")
    assert (move["moved"], move["decision_id"]) == (False, judged.decision_id)
    assert "changed since the decision" in move["error"]


def test_a_run_that_has_not_finished_is_not_judged(path: LocalPath, store: str) -> None:
    mlflow = client(store)
    name = copy_model(store, ["2"])
    demo = mlflow.get_model_version(MODEL, "2")
    run = mlflow.create_run(mlflow.get_run(demo.run_id).info.experiment_id)
    mlflow.set_terminated(run.info.run_id, "FAILED")
    mlflow.create_model_version(name, demo.source, run_id=run.info.run_id)

    denied = path.decide(request(name, "2", "staging"))
    mlflow.log_metric(run.info.run_id, "auc", 0.999)  # the owner improves it after the deny
    again = path.decide(request(name, "2", "staging"))

    for answer in (denied, again):
        assert answer.outcome == "deny"
        [reason] = [r for r in answer.reasons if r.code == "RUN_NOT_FINISHED"]
        assert "which is FAILED, not FINISHED" in reason.message


def test_metrics_logged_to_a_finished_run_after_a_decision_deny(
    path: LocalPath, store: str, tmp_path: Path
) -> None:
    mlflow = client(store)
    demo = mlflow.get_model_version(MODEL, "2")
    base = mlflow.get_run(demo.run_id)
    run = mlflow.create_run(base.info.experiment_id, tags=dict(base.data.tags))
    for key, value in base.data.metrics.items():
        mlflow.log_metric(run.info.run_id, key, value)
    mlflow.set_terminated(run.info.run_id, "FINISHED")
    name = copy_model(store, ["2"], tmp_path)
    mlflow.create_model_version(name, mlflow.get_model_version(name, "1").source, run.info.run_id)
    path.decide(request(name, "2", "staging"))  # recorded with the metrics' digest

    mlflow.log_metric(run.info.run_id, "auc", 0.999)
    answer = path.decide(request(name, "2", "production"))

    assert answer.outcome == "deny"
    [reason] = [r for r in answer.reasons if r.code == "EVIDENCE_CHANGED"]
    assert reason.field == "metrics" and "was changed after it was judged" in reason.message


def enact_together(paths: list[LocalPath], answers: list[DecisionAnswer]) -> list[Enactment]:
    """Each recorded allow enacted at once, on its own path (connection), on its own thread:
    both were judged against the same baseline, so at most one move may take effect."""
    start = threading.Barrier(len(answers))
    done: dict[int, Enactment] = {}

    def enact(i: int) -> None:
        path, answer = paths[i], answers[i]
        assert answer.audit is not None
        start.wait()
        done[i] = promote(answer, answer.audit, path.context, path.policy_set.config)

    threads = [threading.Thread(target=enact, args=(i,)) for i in range(len(answers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [done[i] for i in range(len(answers))]


def assert_no_move_overwrote_what_it_was_not_judged_against(
    path: LocalPath, name: str, alias: str, store: str
) -> None:
    """Every move that took effect left the version its decision was judged against, and the
    alias names the version of the last one: MLflow and the ledger agree."""
    moved = [m for m in alias_history(path.ledger, name, alias) if m["moved"]]
    for move in moved:
        record = path.ledger.get(move["decision_id"])
        judged = path.ledger.input_document(record.seq, record.input_digest)
        assert move["from_version"] == judged.get("baseline", {}).get("version"), move
    holder = str(client(store).get_model_version_by_alias(name, alias).version)
    assert moved and moved[0]["to_version"] == holder


def test_concurrent_moves_on_two_threads_never_overwrite_unseen(store: str, tmp_path: Path) -> None:
    rounds = 5
    name = copy_model(store, ["2"] * (2 * rounds))
    settings = Settings(home=tmp_path / "home", mlflow_tracking_uri=store, policy_dir=POLICY_DIR)
    paths = [local_path(settings), local_path(settings)]
    try:
        for r in range(rounds):
            versions = [str(2 * r + 1), str(2 * r + 2)]
            answers = [
                p.decide(request(name, v, "staging")) for p, v in zip(paths, versions, strict=True)
            ]
            assert [a.outcome for a in answers] == ["allow", "allow"]

            enacted = enact_together(paths, answers)

            assert sorted(e.moved for e in enacted) == [False, True], enacted
            [refused] = [e for e in enacted if not e.moved]
            assert "conflict: alias 'staging'" in refused.note and "decide again" in refused.note
            assert_no_move_overwrote_what_it_was_not_judged_against(
                paths[0], name, "staging", store
            )
        later = paths[0].decide(request(name, "1", "staging"))
        assert not any(w.code == "ALIAS_MOVED_OUTSIDE_GATE" for w in later.warnings)
        assert "ALIAS_MOVED_OUTSIDE_GATE" not in codes(later), "the gate's own moves"
    finally:
        for made in paths:
            made.ledger.close()


def test_concurrent_promotions_in_two_processes_never_overwrite_unseen(
    store: str, tmp_path: Path
) -> None:
    rounds = 2
    name = copy_model(store, ["2"] * (2 * rounds))
    home = tmp_path / "home"
    settings = Settings(home=home, mlflow_tracking_uri=store, policy_dir=POLICY_DIR)
    path = local_path(settings)  # creates the key and the ledger both processes share
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLGATE_")}
    env |= {
        "MLGATE_HOME": str(home),
        "MLGATE_MLFLOW_TRACKING_URI": store,
        "MLGATE_POLICY_DIR": str(POLICY_DIR),
    }
    try:
        for r in range(rounds):
            command = [sys.executable, "-m", "service.cli.main", "decide", "promotion"]
            runs = [
                subprocess.Popen(
                    [*command, "--model", name, "--version", v, "--to", "staging", "--enact"],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
                for v in (str(2 * r + 1), str(2 * r + 2))
            ]
            outputs = [run.communicate(timeout=300) for run in runs]
            assert [run.returncode for run in runs] == [0, 0], outputs
            assert_no_move_overwrote_what_it_was_not_judged_against(path, name, "staging", store)
    finally:
        path.ledger.close()
