"""A team's first model through the gate, as a data scientist would take it, on a fresh MLflow
store (SQLite) with the real pipeline: a small scikit-learn model logged with its card, metrics
and lineage; staging and canary with enact; the first production deployment decided by the
policy's first-deployment rule (hold, an approval, allow); a second version judged against the
first as the champion of record. No alias is ever set outside the gate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from service.compose import local_path
from service.decision.model import DecisionAnswer
from service.decision.request import GateRequest
from service.enact.history import alias_history
from service.execution.inline import LocalPath
from service.settings import Settings
from tests.conftest import POLICY_DIR

MODEL = "churn-scorer"
GIT_COMMIT = "9c1e5f3a7b2d4e6f8a0c1b3d5e7f9a2c4b6d8e0f"
APPROVER = ("r.okafor", "model-risk-officer")
CARD = {
    "name": MODEL,
    "owner": {"team": "retention-ds", "contact": "retention-ds@example.com"},
    "description": "Logistic regression scoring the monthly churn risk of subscribers.",
    "intended_use": "Rank subscribers for retention offers reviewed by the CRM team.",
    "limitations": "Trained on one year of subscribers; new plans are unseen.",
    "monitoring_plan": "Weekly AUC on confirmed churn labels; PSI on every feature.",
    "training_data": {"name": "subscribers-2026", "description": "synthetic subscribers"},
    "evaluation_data": {"name": "subscribers-2026-holdout", "description": "a 25% holdout"},
    "risk_tier": "medium",
    "protected_attributes": ["age_band"],
}


def log_version(store: str, features: list[int], card_file: str = "model_card.yaml") -> str:
    """Train and register a version of MODEL on the columns `features` of one synthetic data
    set, logging what a training pipeline logs: its metrics on a holdout (per age band too),
    the training data set, the git commit and the card as `card_file`. Its version number."""
    import mlflow
    import mlflow.data.numpy_dataset
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    rng = np.random.RandomState(11)
    rows = 8_000
    data = rng.randn(rows, 4)
    labels = data @ np.array([2.0, -1.5, 1.0, 0.6]) + rng.randn(rows) > 1.0
    bands = rng.choice(["18-34", "35-54", "55-plus"], rows)
    train, test = slice(0, 6_000), slice(6_000, rows)
    mlflow.set_tracking_uri(store)
    mlflow.set_registry_uri(store)
    mlflow.set_experiment(f"{MODEL}-training")
    with mlflow.start_run():
        mlflow.set_tag("mlflow.source.git.commit", GIT_COMMIT)
        mlflow.log_input(
            mlflow.data.numpy_dataset.from_numpy(
                data[train], name="subscribers-2026", source="s3://retention/train"
            ),
            context="training",
        )
        fitted = LogisticRegression().fit(data[train][:, features], labels[train])
        scores = fitted.predict_proba(data[test][:, features])[:, 1]
        info = mlflow.sklearn.log_model(fitted, name="model", registered_model_name=MODEL)
        metrics = {"auc": float(roc_auc_score(labels[test], scores)), "latency_p99_ms": 9.0}
        for band in sorted(set(bands)):
            chosen = (bands[test] == band) & labels[test]
            metrics[f"group/age_band/{band}/tpr"] = float((scores[chosen] >= 0.5).mean())
        for key, value in metrics.items():
            mlflow.log_metric(key, round(value, 4), model_id=info.model_id)
        mlflow.log_text(yaml.safe_dump(CARD, sort_keys=False), card_file)
        return str(info.registered_model_version)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh local MLflow store of the team's own; mlflow.set_tracking_uri exports its URI to
    the environment, which monkeypatch puts back afterwards."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", uri)
    return uri


@pytest.fixture
def path(store: str, tmp_path: Path) -> Iterator[LocalPath]:
    made = local_path(
        Settings(home=tmp_path / "home", mlflow_tracking_uri=store, policy_dir=POLICY_DIR)
    )
    yield made
    made.ledger.close()


def request(version: str, stage: str) -> GateRequest:
    return GateRequest(
        gate="promotion",
        caller={"id": "ci-pipeline", "role": "cli"},
        evidence={},
        target={"stage": stage},
        model={"name": MODEL, "version": version},
        trusted=True,
        registry=True,
        enact=True,
    )


def approve(path: LocalPath, version: str) -> None:
    """An approval recorded as `mlgate approve` records one, for the artifact the registry holds."""
    digest = path.gather(request(version, "production"))["model"]["artifact_digest"]
    approver, role = APPROVER
    path.context.book.approve(
        model=MODEL,
        version=version,
        artifact_digest=digest,
        approver=approver,
        role=role,
        status="approved",
        comment="first deployment reviewed: validation report VR-12",
    )


def registry_aliases(store: str) -> dict[str, str]:
    from mlflow import MlflowClient

    found = MlflowClient(tracking_uri=store, registry_uri=store).get_registered_model(MODEL)
    return {alias: str(version) for alias, version in found.aliases.items()}


def codes(answer: DecisionAnswer) -> list[str]:
    return [r.code for r in answer.reasons]


def messages(answer: DecisionAnswer) -> list[str]:
    return [r.message for r in answer.reasons]


def through_staging_and_canary(path: LocalPath, version: str) -> list[DecisionAnswer]:
    answers = [path.decide(request(version, stage)) for stage in ("staging", "canary")]
    for answer in answers:
        assert answer.outcome == "allow", messages(answer)
        assert answer.enactment is not None and answer.enactment.moved, answer.enactment
    return answers


def test_a_first_model_reaches_production_through_the_gate_alone(
    path: LocalPath, store: str
) -> None:
    answers: list[DecisionAnswer] = []
    first = log_version(store, features=[0, 1, 2])
    answers += through_staging_and_canary(path, first)

    held = path.decide(request(first, "production"))

    assert held.outcome == "hold", messages(held)
    assert codes(held) == ["FIRST_DEPLOYMENT_APPROVAL_PENDING"]
    assert messages(held) == [
        f"v{first} is the first medium-risk production deployment of {MODEL} (no champion is "
        "on record); it awaits approval by a model-risk-officer (none requested)"
    ]
    assert held.enactment is not None and not held.enactment.moved
    assert "champion" not in registry_aliases(store)

    approve(path, first)
    installed = path.decide(request(first, "production"))

    assert installed.outcome == "allow", messages(installed)
    assert installed.enactment is not None and installed.enactment.moved, installed.enactment
    assert registry_aliases(store)["champion"] == first

    second = log_version(store, features=[0, 1, 2, 3])
    answers += [held, installed, *through_staging_and_canary(path, second)]
    judged_on = path.gather(request(second, "production"))
    promoted = path.decide(request(second, "production"))
    answers.append(promoted)

    assert judged_on["baseline"]["version"] == first
    assert judged_on["provenance"]["baseline"] == "ledger: alias moves"
    assert promoted.outcome == "allow", messages(promoted)  # no first deployment: no approval
    assert promoted.enactment is not None and promoted.enactment.moved, promoted.enactment
    # Every alias the registry holds names the version the gate's last move put there.
    aliases = registry_aliases(store)
    assert aliases == {"staging": second, "canary": second, "champion": second}
    assert {
        alias: str(alias_history(path.ledger, MODEL, alias)[0]["to_version"]) for alias in aliases
    } == aliases
    assert [w.code for a in answers for w in a.warnings] == []


def test_a_first_deployment_never_needs_an_alias_set_outside_the_gate(
    path: LocalPath, store: str
) -> None:
    from mlflow import MlflowClient

    first = log_version(store, features=[0, 1, 2])
    through_staging_and_canary(path, first)
    # The old way through: set the champion by hand so there is a baseline to compare against.
    MlflowClient(tracking_uri=store, registry_uri=store).set_registered_model_alias(
        MODEL, "champion", first
    )

    answer = path.decide(request(first, "production"))

    assert answer.outcome == "hold", messages(answer)
    assert codes(answer) == ["FIRST_DEPLOYMENT_APPROVAL_PENDING"]
    [warning] = answer.warnings
    assert (warning.code, warning.field) == ("ALIAS_SET_OUTSIDE_GATE", "alias_unrecorded")
    assert warning.message == (
        f"alias champion of {MODEL} names v{first} in the registry, but the gate has never "
        f"moved it: it was set outside the gate, so v{first} is no champion of record"
    )


def test_a_misnamed_card_is_denied_and_does_not_lock_the_tier(path: LocalPath, store: str) -> None:
    misnamed = log_version(store, features=[0, 1, 2], card_file="model-card.yaml")

    denied = path.decide(request(misnamed, "staging"))

    assert denied.outcome == "deny", messages(denied)
    assert "REGISTRY_EVIDENCE_MISSING" in codes(denied), codes(denied)
    assert any("model_card" in m for m in messages(denied)), messages(denied)
    fixed = log_version(store, features=[0, 1, 2])
    answer = path.decide(request(fixed, "staging"))
    assert answer.outcome == "allow", messages(answer)
    assert answer.model.risk_tier == "medium"
