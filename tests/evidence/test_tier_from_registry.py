"""A data scientist's first model in a fresh MLflow store: the first version's card artifact was
misnamed, so the registry held no card; that attempt is denied, and it does not fix the
model's tier at high for every later version (it used to: RISK_TIER_LOWERED, non-waivable)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from service.compose import local_path
from service.decision.request import GateRequest
from service.execution.inline import LocalPath
from service.settings import Settings
from tests.conftest import EVIDENCE_DIR, POLICY_DIR

MODEL = "churn-scorer"
# Version -> the name the card artifact was logged under.
CARD_ARTIFACTS = {"1": "modelcard.yaml", "2": "model_card.yaml", "3": "model_card.yaml"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh store with three versions of a small scikit-learn model, each logged as a
    training pipeline would: metrics on a holdout, the git commit, the training data; v1's card
    under a name no reader looks for, v2's and v3's as model_card.yaml saying medium risk."""
    import mlflow
    import mlflow.data.numpy_dataset
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    home = tmp_path_factory.mktemp("registry")
    uri = f"sqlite:///{home / 'mlflow.db'}"
    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    card = yaml.safe_load((EVIDENCE_DIR / "approved" / "model_card.yaml").read_text())
    card.update(name=MODEL, risk_tier="medium", protected_attributes=[])
    rng = np.random.RandomState(3)
    features = rng.randn(4000, 3)
    labels = features @ np.array([2.0, -1.0, 0.5]) + rng.randn(4000) > 0.5
    try:
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        # Artifacts beside the store, not in ./mlruns of whatever folder the tests run in.
        experiment = mlflow.MlflowClient(uri, uri).create_experiment(
            f"{MODEL}-training", artifact_location=(home / "mlartifacts").as_uri()
        )
        mlflow.set_experiment(experiment_id=experiment)
        for version, card_name in CARD_ARTIFACTS.items():
            with mlflow.start_run():
                mlflow.set_tag("mlflow.source.git.commit", "5a1c0e9d" * 5)
                mlflow.log_input(
                    mlflow.data.numpy_dataset.from_numpy(features[:3000], name="churn-train"),
                    context="training",
                )
                fitted = LogisticRegression().fit(features[:3000], labels[:3000])
                info = mlflow.sklearn.log_model(fitted, name="model", registered_model_name=MODEL)
                scores = fitted.predict_proba(features[3000:])[:, 1]
                auc = float(roc_auc_score(labels[3000:], scores))
                mlflow.log_metric("auc", round(auc, 4), model_id=info.model_id)
                mlflow.log_text(yaml.safe_dump({**card, "version": version}), card_name)
    finally:  # mlflow.set_tracking_uri exports its URI to the process environment: undo it
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    yield uri


@pytest.fixture
def pipeline(store: str, tmp_path: Path) -> Iterator[LocalPath]:
    settings = Settings(home=tmp_path / "home", mlflow_tracking_uri=store, policy_dir=POLICY_DIR)
    made = local_path(settings)
    yield made
    made.ledger.close()


def staging(version: str) -> GateRequest:
    return GateRequest(
        gate="promotion",
        caller={"id": "ci-pipeline", "role": "cli"},
        evidence={},
        target={"stage": "staging"},
        model={"name": MODEL, "version": version},
        trusted=True,
        registry=True,
    )


def test_a_misnamed_card_is_denied_and_the_fixed_card_decides_the_tier(
    pipeline: LocalPath,
) -> None:
    first = pipeline.decide(staging("1"))
    assert first.outcome == "deny"
    assert "REGISTRY_EVIDENCE_MISSING" in [r.code for r in first.reasons]
    assert "model_card" in " ".join(r.message for r in first.reasons)
    assert (first.model.risk_tier, first.model.records_tier) == ("high", False)

    fixed = pipeline.decide(staging("2"))

    assert [r.code for r in fixed.reasons] == [], fixed.reasons
    assert (fixed.outcome, fixed.model.risk_tier, fixed.model.records_tier) == (
        "allow",
        "medium",
        True,
    )
    assert fixed.provenance["model_card"] == "registry: MLflow"
    # The fixed card's tier is the tier of record from now on.
    assert pipeline.decide(staging("3")).model.risk_tier == "medium"
