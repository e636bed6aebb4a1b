"""The MLflow 3 registry client: model versions, runs, logged models, artifacts and aliases,
with MLflow's errors mapped to ours. It knows nothing of gates or evidence documents (those are
built by service/evidence/mlflow.py from what it returns); its one write is moving an alias,
which only an effect (service/enact/) calls.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from service.errors import MlgateError, NotFound


class RegistryUnavailable(MlgateError):
    """The model registry cannot be reached or read; nothing was decided."""

    code = "registry_unavailable"


class MlflowRegistry:
    """Reads from, and moves aliases in, the MLflow registry at `tracking_uri`. `cache_dir` is
    where readers of this registry may keep what they read of immutable versions (a folder per
    store)."""

    def __init__(
        self, tracking_uri: str, cache_dir: Path, *, retries: int = 1, timeout_s: float = 10.0
    ) -> None:
        # MLflow reads these from the environment on each request; its defaults (7 retries
        # with backoff, 120 s) would keep a gate waiting minutes on an unreachable registry.
        os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = str(retries)
        os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(int(timeout_s))
        from mlflow import MlflowClient

        self.tracking_uri = tracking_uri
        self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        store = hashlib.sha256(tracking_uri.encode()).hexdigest()[:16]
        self.cache_dir = cache_dir / store
        self.description = f"the MLflow registry at {tracking_uri}"

    def _call(self, what: str, call: Any, *args: Any) -> Any:
        """`call(*args)`, with MLflow's errors turned into ours."""
        from mlflow.exceptions import MlflowException

        try:
            return call(*args)
        except MlflowException as exc:
            if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                raise NotFound(f"{what} is not in {self.description}") from None
            raise RegistryUnavailable(
                f"{self.description} could not be read ({what}): {exc.message}"
            ) from None
        except (OSError, ValueError) as exc:
            raise RegistryUnavailable(
                f"{self.description} could not be read ({what}): {exc}"
            ) from None

    def version(self, name: str, version: str) -> Any:
        """The ModelVersion; NotFound if the registry has no such version."""
        return self._call(
            f"version {version} of model {name!r}", self.client.get_model_version, name, version
        )

    def alias_version(self, name: str, alias: str) -> str | None:
        """The version `alias` names now, or None when it names none."""
        try:
            found = self._call(
                f"alias {alias!r} of model {name!r}",
                self.client.get_model_version_by_alias,
                name,
                alias,
            )
        except NotFound:
            return None
        return str(found.version)

    def set_alias(self, name: str, alias: str, version: str) -> None:
        self._call(
            f"alias {alias!r} of model {name!r}",
            self.client.set_registered_model_alias,
            name,
            alias,
            version,
        )

    def logged_model(self, model_id: str) -> Any:
        """The LoggedModel `m-<id>` (MLflow 3); NotFound if there is none."""
        return self._call(f"logged model {model_id}", self.client.get_logged_model, model_id)

    def run(self, run_id: str) -> Any:
        """The Run with its data (metrics, tags) and inputs (datasets); NotFound if none."""
        return self._call(f"run {run_id}", self.client.get_run, run_id)

    def download(self, uri: str, target: Path) -> Path:
        """The artifacts at `uri` downloaded into `target` (created); the local path."""
        import mlflow.artifacts

        target.mkdir(parents=True)
        path = self._call(
            f"artifacts at {uri}",
            lambda: mlflow.artifacts.download_artifacts(
                artifact_uri=uri, dst_path=str(target), tracking_uri=self.tracking_uri
            ),
        )
        return Path(path)
