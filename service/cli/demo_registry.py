"""A small real MLflow registry for the demo and the tests: a scikit-learn model trained on
synthetic data, registered in three versions, each with its card, metrics and lineage logged
the way a training pipeline would.

- v1: the champion before the gate came (five of the six features; the `champion` alias);
- v2: good (all six features: AUC ~0.97 on a holdout, small fairness gaps, git commit and
  datasets recorded), better than the champion;
- v3: regressed (the three weakest features: AUC well under the floors);
- v4: broken lineage (no git commit tag, no dataset inputs).

Every metric is computed from the model's predictions on the holdout; per-group true-positive
rates are logged as `group/<attribute>/<group>/tpr` (service/evidence/mlflow.py). A local store
is made private (folders 0700, files 0600) like everything else under MLGATE_HOME, and MLflow's
progress lines stay off the demo's stderr.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import yaml

from service.registry.mlflow import quiet_mlflow_logs
from service.settings import PROJECT_ROOT
from service.statefiles import private_umask

MODEL = "fraud-detector"
GIT_COMMIT = "3e9f1c27b84d5a60e2f7c91b0d4a8e6f53c1b2a7"
CARD = PROJECT_ROOT / "fixtures" / "evidence" / "approved" / "model_card.yaml"
VERSIONS: dict[str, dict[str, Any]] = {
    "1": {"features": [0, 1, 2, 3, 4], "lineage": True, "note": "champion"},
    "2": {"features": [0, 1, 2, 3, 4, 5], "lineage": True, "note": "good"},
    "3": {"features": [3, 4, 5], "lineage": True, "note": "regressed"},
    "4": {"features": [0, 1, 2, 3, 4, 5], "lineage": False, "note": "broken lineage"},
}
CHAMPION = "1"  # set as `champion` when the store is built, as if deployed before mlgate


def build_demo_registry(tracking_uri: str, model: str = MODEL) -> dict[str, str]:
    """Register the four versions of `model` in the store at `tracking_uri`; returns
    {version: note}. Idempotent per store: versions already there are kept. A local store is
    created private (private_umask: MLflow makes its own files and folders)."""
    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    try:
        with private_umask():
            return _build(tracking_uri, model)
    finally:  # mlflow.set_tracking_uri exports its URI to the process environment: undo it
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _build(tracking_uri: str, model: str) -> dict[str, str]:
    import mlflow
    import mlflow.data.numpy_dataset
    import numpy as np
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    quiet_mlflow_logs()  # before the store is opened: a new one logs its migrations at INFO
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    existing = {str(v.version) for v in client.search_model_versions(f"name = '{model}'")}
    if len(existing) < len(VERSIONS):
        _register_name(client, model)
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    experiment = f"{model}-training"
    if client.get_experiment_by_name(experiment) is None:
        # A local store keeps its artifacts beside it, not in ./mlruns of whatever folder the
        # command runs in; a server decides for itself.
        location = None
        if tracking_uri.startswith("sqlite:///"):
            store = Path(tracking_uri.removeprefix("sqlite:///"))
            location = (store.parent / "mlartifacts").resolve().as_uri()
        client.create_experiment(experiment, artifact_location=location)
    mlflow.set_experiment(experiment)
    rng = np.random.RandomState(7)
    rows = 20_000
    features = rng.randn(rows, 6)
    labels = features @ np.array([2.0, -1.5, 1.0, 0.8, 0.5, 0.3]) + rng.randn(rows) > 1.5
    groups = {
        # MLflow metric names allow no "+": the card's 65+ band is logged as 65-plus
        "age_band": rng.choice(["18-25", "26-40", "41-65", "65-plus"], rows),
        "region": rng.choice(["uk", "eu-west", "eu-central"], rows),
    }
    train, test = slice(0, 15_000), slice(15_000, rows)
    card = yaml.safe_load(CARD.read_text(encoding="utf-8"))
    for version, spec in VERSIONS.items():
        if version in existing:
            continue
        columns = spec["features"]
        with mlflow.start_run(run_name=f"{model}-v{version}") as run:
            if spec["lineage"]:
                mlflow.set_tag("mlflow.source.git.commit", GIT_COMMIT)
                mlflow.log_input(
                    mlflow.data.numpy_dataset.from_numpy(
                        features[train], name="cnp-transactions-train", source="s3://risk/train"
                    ),
                    context="training",
                )
            fitted = LogisticRegression().fit(features[train][:, columns], labels[train])
            scores = fitted.predict_proba(features[test][:, columns])[:, 1]
            info = mlflow.sklearn.log_model(fitted, name="model")
            # The client's registration, not log_model's registered_model_name: the same
            # version (source models:/m-<id>, this run), without the lines MLflow prints.
            client.create_model_version(
                model, info.model_uri, run_id=run.info.run_id, model_id=info.model_id
            )
            metrics: dict[str, Any] = {
                "auc": float(roc_auc_score(labels[test], scores)),
                "recall_at_1pct_fpr": _recall_at_fpr(labels[test], scores, 0.01),
                "calibration_ece": _ece(labels[test], scores),
                "latency_p99_ms": 12.0,
            }
            for attribute, values in groups.items():
                for group in sorted(set(values)):
                    chosen = values[test] == group
                    metrics[f"group/{attribute}/{group}/tpr"] = _tpr(
                        labels[test][chosen], scores[chosen]
                    )
            for key, value in metrics.items():
                mlflow.log_metric(key, round(value, 4), model_id=info.model_id)
            mlflow.log_text(
                yaml.safe_dump({**card, "version": version}, sort_keys=False), "model_card.yaml"
            )
    if CHAMPION not in existing:
        client.set_registered_model_alias(model, "champion", CHAMPION)
    return {version: str(spec["note"]) for version, spec in VERSIONS.items()}


def _register_name(client: Any, model: str) -> None:
    """Register the model's name in the store, unless it is there already."""
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(model)
    except MlflowException as exc:
        if exc.error_code not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
            raise


def register_copy(tracking_uri: str, model: str, of_version: str) -> str:
    """A new version of `model` made of `of_version`'s artifacts and run (a rebuild that
    changed nothing); its version number."""
    from mlflow import MlflowClient

    quiet_mlflow_logs()
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    with private_umask():
        original = client.get_model_version(model, of_version)
        made = client.create_model_version(model, str(original.source), run_id=original.run_id)
    return str(made.version)


def _tpr(labels: Any, scores: Any) -> float:
    positives = labels.sum()
    return float(((scores >= 0.5) & labels).sum() / positives) if positives else 0.0


def _recall_at_fpr(labels: Any, scores: Any, fpr: float) -> float:
    import numpy as np

    threshold = float(np.quantile(scores[~labels], 1 - fpr))
    return float(((scores > threshold) & labels).sum() / labels.sum())


def _ece(labels: Any, scores: Any, bins: int = 10) -> float:
    import numpy as np

    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for low, high in itertools.pairwise(edges):
        chosen = (scores >= low) & (scores < high)
        if chosen.any():
            total += chosen.mean() * abs(labels[chosen].mean() - scores[chosen].mean())
    return float(total)


def demo_store(home: Path) -> str:
    """The tracking URI of the demo's local store under `home`."""
    return f"sqlite:///{(home / 'mlflow.db').resolve()}"
