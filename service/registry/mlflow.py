"""The MLflow 3 registry client: model versions, runs, logged models, artifacts and aliases,
with MLflow's errors mapped to ours. It knows nothing of gates or evidence documents (those are
built by service/evidence/mlflow.py from what it returns); its one write is moving an alias,
which only an effect (service/enact/) calls.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from service.errors import MlgateError, NotFound
from service.redactedurl import redacted_url, without_url_secrets


class RegistryUnavailable(MlgateError):
    """The model registry cannot be reached or read; nothing was decided."""

    code = "registry_unavailable"


def quiet_mlflow_logs() -> None:
    """Raise MLflow's and alembic's loggers to WARNING, unless the operator chose MLflow's
    logging: MLFLOW_LOGGING_LEVEL set (then MLflow's own levels stand), or
    MLFLOW_CONFIGURE_LOGGING=false (then MLflow leaves its loggers to the application).

    MLflow configures its loggers when imported (`_configure_mlflow_loggers` in
    mlflow/utils/logging_utils.py): `mlflow` at MLFLOW_LOGGING_LEVEL, default INFO, with a
    handler writing to stderr, and `alembic` at WARNING or above. At INFO, opening a new local
    store writes "Creating initial MLflow database tables..." and its migrations to the
    stderr of a gate, where only mlgate's own lines belong. It imports MLflow (which sets its
    loggers up then) before it raises them; call it before a store is opened. Calling it again
    changes nothing. Sources:
    https://github.com/mlflow/mlflow/blob/master/mlflow/utils/logging_utils.py and
    https://mlflow.org/docs/latest/api_reference/python_api/mlflow.environment_variables.html
    """
    import mlflow.environment_variables

    variables: Any = mlflow.environment_variables  # untyped: MLflow ships no annotations here
    if variables.MLFLOW_LOGGING_LEVEL.defined or not variables.MLFLOW_CONFIGURE_LOGGING.get():
        return
    for name in ("mlflow", "alembic"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)


def absent_local_store(tracking_uri: str) -> Path | None:
    """The path of the local store `tracking_uri` names when that store does not exist, else
    None (a server's URI, or a store that exists). Local stores are SQLAlchemy's `sqlite:///`
    URIs (a relative path after three slashes, an absolute one after four) and `file:` URIs
    (https://mlflow.org/docs/latest/ml/tracking/backend-stores/)."""
    if tracking_uri.startswith("sqlite:///"):
        path = Path(tracking_uri.removeprefix("sqlite:///").split("?")[0])
        return None if path.is_file() else path
    if tracking_uri.startswith("file:"):
        path = Path(urlparse(tracking_uri).path)
        return None if path.is_dir() else path
    return None


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
        self.tracking_uri = tracking_uri
        self._client: Any = None
        store = hashlib.sha256(tracking_uri.encode()).hexdigest()[:16]
        self.cache_dir = cache_dir / store
        self.description = f"the MLflow registry at {redacted_url(tracking_uri)}"

    def _call(self, what: str, method: str, *args: Any) -> Any:
        """MLflow's client method `method` called with `args`, with its errors turned into
        ours."""
        return self._guarded(what, lambda: getattr(self._opened(), method)(*args))

    def _guarded(self, what: str, call: Callable[[], Any]) -> Any:
        """`call()`, when the store exists, with MLflow's errors turned into ours."""
        from mlflow.exceptions import MlflowException

        quiet_mlflow_logs()
        absent = absent_local_store(self.tracking_uri)
        if absent is not None:
            # MLflow creates a local store when its client first opens it, reads included.
            raise RegistryUnavailable(
                f"no MLflow store at {absent} ({what} cannot be read): a read never creates "
                "one; check MLGATE_MLFLOW_TRACKING_URI"
            )
        try:
            return call()
        except MlflowException as exc:
            if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                raise NotFound(f"{what} is not in {self.description}") from None
            raise RegistryUnavailable(
                f"{self.description} could not be read ({what}): {self._said(exc.message)}"
            ) from None
        except (OSError, ValueError) as exc:
            raise RegistryUnavailable(
                f"{self.description} could not be read ({what}): {self._said(str(exc))}"
            ) from None

    def _said(self, message: str) -> str:
        """MLflow's `message`, which may quote the tracking URI, without its credentials."""
        return without_url_secrets(message, self.tracking_uri)

    def _opened(self) -> Any:
        """MLflow's client, opened by the first call that found its store."""
        if self._client is None:
            from mlflow import MlflowClient

            self._client = MlflowClient(
                tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri
            )
        return self._client

    def version(self, name: str, version: str) -> Any:
        """The ModelVersion; NotFound if the registry has no such version."""
        return self._call(
            f"version {version} of model {name!r}", "get_model_version", name, version
        )

    def alias_version(self, name: str, alias: str) -> str | None:
        """The version `alias` names now, or None when it names none."""
        try:
            found = self._call(
                f"alias {alias!r} of model {name!r}",
                "get_model_version_by_alias",
                name,
                alias,
            )
        except NotFound:
            return None
        return str(found.version)

    def set_alias(self, name: str, alias: str, version: str) -> None:
        self._call(
            f"alias {alias!r} of model {name!r}",
            "set_registered_model_alias",
            name,
            alias,
            version,
        )

    def logged_model(self, model_id: str) -> Any:
        """The LoggedModel `m-<id>` (MLflow 3); NotFound if there is none."""
        return self._call(f"logged model {model_id}", "get_logged_model", model_id)

    def run(self, run_id: str) -> Any:
        """The Run with its data (metrics, tags) and inputs (datasets); NotFound if none."""
        return self._call(f"run {run_id}", "get_run", run_id)

    def download(self, uri: str, target: Path) -> Path:
        """The artifacts at `uri` downloaded into `target` (created 0700); the local path."""
        import mlflow.artifacts

        target.mkdir(mode=0o700, parents=True)
        path = self._guarded(
            f"artifacts at {uri}",
            lambda: mlflow.artifacts.download_artifacts(
                artifact_uri=uri, dst_path=str(target), tracking_uri=self.tracking_uri
            ),
        )
        return Path(path)
