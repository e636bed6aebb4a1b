"""Evidence documents from an MLflow 3 model registry: the trusted source of a model version's card,
metrics, lineage and artifact digest, and of the champion it is compared against.

For (name, version) the registry gives:

- the model version: its run, its `models:/m-<id>` source (a LoggedModel), tags and aliases;
- metrics: the logged model's (MLflow 3 keeps them there), else the run's. A metric named
  `group/<attribute>/<group>/<metric>` is a per-group metric (`metrics.by_group`);
- lineage: the run id, the `mlflow.source.git.commit` tag, the run's dataset inputs (name,
  digest, source, context) and the artifact digest;
- the artifact digest: sha256 over the sorted (path, sha256 of content) pairs of the logged
  model's artifacts, so it is the same wherever the store is;
- the model card, in one of the forms service/evidence/cards.py reads, from the logged model's
  artifacts or the run's;
- the baseline: the version an alias names (read fresh: aliases move), with its metrics.

Versions are immutable, so what is read of one is cached under MLGATE_HOME (keyed by the store,
the version and its source, so a version deleted and registered again is read again), in
folders 0700 and files 0600.
Reading has no side effects on the registry.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.evidence.cards import CARD_FORMS, read_card
from service.registry.mlflow import MlflowRegistry
from service.statefiles import private_directory

GIT_COMMIT_TAG = "mlflow.source.git.commit"
GROUP_PREFIX = "group/"


@dataclass(frozen=True)
class VersionEvidence:
    """What the registry holds for one model version (immutable, so cacheable)."""

    documents: dict[str, Any]  # model_card, metrics, lineage (each only if found)
    artifact_digest: str
    missing: list[str] = field(default_factory=list)  # what could not be found, and why
    # The status of the version's source run (MLflow's RunStatus: RUNNING, FINISHED, FAILED,
    # KILLED, SCHEDULED); None when the version has no run. Only FINISHED evidence is final.
    run_status: str | None = None


class VersionReader:
    """Builds a model version's evidence documents from what `registry` returns."""

    def __init__(self, registry: MlflowRegistry) -> None:
        self.registry = registry
        self.cache_dir = registry.cache_dir

    def evidence(self, name: str, version: str, *, fresh: bool = False) -> VersionEvidence:
        """The version's card, metrics, lineage, artifact digest and run status; from the cache
        when this version (same source and run) was read before and `fresh` is false. With
        `fresh`, everything is read from the registry again (the artifacts hashed anew): the
        model's owner can overwrite a finished run's artifacts and log to it, so a decision
        that can enact or reach production never takes them from a cache.
        NotFound, RegistryUnavailable."""
        model_version = self.registry.version(name, version)
        key = f"{model_version.source}|{model_version.run_id}"
        cached = self.cache_dir / _safe(name) / f"{_safe(str(version))}.json"
        if not fresh and cached.is_file():
            stored = json.loads(cached.read_text(encoding="utf-8"))
            if stored.get("key") == key and "run_status" in stored:
                return VersionEvidence(
                    stored["documents"], stored["digest"], stored["missing"], stored["run_status"]
                )
        read = self._read_version(model_version)
        if read.run_status not in (None, "FINISHED"):  # its run may still change: no cache
            return read
        stored_text = json.dumps(
            {
                "key": key,
                "documents": read.documents,
                "digest": read.artifact_digest,
                "missing": read.missing,
                "run_status": read.run_status,
            }
        )
        private_directory(cached.parent)  # evidence read for a decision: 0700, as the ledger
        with tempfile.NamedTemporaryFile(
            "w", dir=cached.parent, suffix=".tmp", delete=False, encoding="utf-8"
        ) as partial:
            partial.write(stored_text)
        os.replace(partial.name, cached)  # readers see the old file or the new, never half
        return read

    def artifact_digest_now(self, name: str, version: str) -> str:
        """The digest of the version's model artifacts as the registry holds them now, read
        and hashed anew (never cached): what an alias move checks just before it moves."""
        model_version = self.registry.version(name, version)
        source = str(model_version.source or "")
        location = source
        if source.startswith("models:/m-"):
            location = self.registry.logged_model(source.removeprefix("models:/")).artifact_location
        with tempfile.TemporaryDirectory(prefix="mlgate-artifacts-") as tmp:
            return artifact_digest(self.registry.download(location, Path(tmp) / "model"))

    def _read_version(self, model_version: Any) -> VersionEvidence:
        """The version's evidence as the registry holds it now."""
        name, version = model_version.name, str(model_version.version)
        source = str(model_version.source or "")
        logged = None
        if source.startswith("models:/m-"):
            logged = self.registry.logged_model(source.removeprefix("models:/"))
        run = self.registry.run(model_version.run_id) if model_version.run_id else None
        with tempfile.TemporaryDirectory(prefix="mlgate-artifacts-") as tmp:
            artifacts = self.registry.download(
                logged.artifact_location if logged is not None else source, Path(tmp) / "model"
            )
            digest = artifact_digest(artifacts)
            run_files = (
                self.registry.download(f"runs:/{model_version.run_id}/", Path(tmp) / "run")
                if run is not None
                else None
            )
            card, card_problem = find_card([artifacts, run_files])
        documents: dict[str, Any] = {}
        missing: list[str] = []
        if card is not None:
            documents["model_card"] = {"name": name, "version": version, **card}
        else:
            missing.append(f"model_card: {card_problem}")
        metrics = _metrics(logged, run)
        if metrics is not None:
            documents["metrics"] = metrics
        else:
            missing.append(f"metrics: {name} v{version} has no metrics in the registry")
        documents["lineage"] = _lineage(run, digest)
        status = None if run is None else str(run.info.status)
        return VersionEvidence(documents, digest, missing, status)

    def metrics_of(self, name: str, version: str) -> dict[str, Any] | None:
        """The metric set of a version (for the baseline), or None if it has none."""
        return self.evidence(name, version).documents.get("metrics")


def artifact_digest(root: Path) -> str:
    """sha256:<hex> over the sorted `<relative path>\\0<sha256 of content>\\n` lines of every
    file under `root`: the same bytes give the same digest wherever they are stored."""
    lines = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        content = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.update(f"{path.relative_to(root).as_posix()}\0{content}\n".encode())
    return "sha256:" + lines.hexdigest()


def find_card(roots: list[Path | None]) -> tuple[dict[str, Any] | None, str]:
    """The first card found among `roots` (service/evidence/cards.py), or None and why."""
    for root in roots:
        if root is None:
            continue
        card = read_card(root)
        if card is not None:
            return card, ""
    return None, (
        "no model card among the logged model's or the run's artifacts; accepted forms: "
        + ", ".join(CARD_FORMS)
    )


def _metrics(logged: Any, run: Any) -> dict[str, Any] | None:
    values: dict[str, float] = {}
    if run is not None:
        values.update({k: float(v) for k, v in run.data.metrics.items()})
    if logged is not None:
        values.update({m.key: float(m.value) for m in logged.metrics or []})
    if not values:
        return None
    metrics: dict[str, Any] = {"values": {}}
    by_group: dict[str, dict[str, dict[str, float]]] = {}
    for key, value in sorted(values.items()):
        parts = key.split("/")
        if key.startswith(GROUP_PREFIX) and len(parts) == 4:
            _, attribute, group, metric = parts
            by_group.setdefault(attribute, {}).setdefault(group, {})[metric] = value
        else:
            metrics["values"][key] = value
    if by_group:
        metrics["by_group"] = by_group
    if run is not None:
        metrics["run_id"] = run.info.run_id
    return metrics


def _lineage(run: Any, digest: str) -> dict[str, Any]:
    lineage: dict[str, Any] = {"artifact_digest": digest}
    if run is None:
        return lineage
    lineage["run_id"] = run.info.run_id
    commit = run.data.tags.get(GIT_COMMIT_TAG)
    if commit:
        lineage["git_commit"] = commit
    datasets = []
    for dataset_input in run.inputs.dataset_inputs if run.inputs else []:
        dataset = dataset_input.dataset
        contexts = [t.value for t in dataset_input.tags if t.key == "mlflow.data.context"]
        entry = {"name": dataset.name, "digest": dataset.digest, "source": dataset.source}
        if contexts:
            entry["context"] = contexts[0]
        datasets.append(entry)
    lineage["datasets"] = datasets
    return lineage


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
