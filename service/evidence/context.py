"""What the evidence sources read besides the request: mlgate's own records (the ledger, and
the sign-offs in it) and the model registry, when the settings name one (opened on first use).
"""

from __future__ import annotations

from service.audit.ledger import Ledger
from service.errors import UsageError
from service.evidence.mlflow import VersionReader
from service.monitoring.book import SnapshotBook
from service.registry.mlflow import MlflowRegistry
from service.settings import Settings
from service.signoffs.book import SignoffBook


class EvidenceContext:
    """The ledger (a reader is enough), its sign-off and snapshot books, and the registry of
    `settings`: the configured one, or with `local_store` (local CLI mode, whose operator
    asks for it) the local store under MLGATE_HOME when none is configured. The service
    reads a registry only when one is configured, never because a local store exists."""

    def __init__(
        self, ledger: Ledger, settings: Settings | None = None, *, local_store: bool = False
    ) -> None:
        self.ledger = ledger
        self.book = SignoffBook(ledger)
        self.snapshots = SnapshotBook(ledger)
        self.settings = settings
        self.local_store = local_store
        self._registry: MlflowRegistry | None = None

    @property
    def registry(self) -> MlflowRegistry:
        """The MLflow registry of the settings; UsageError if this context has none."""
        if self.settings is None:
            raise UsageError("this pipeline reads no model registry")
        if not (self.settings.registry_configured or self.local_store):
            raise UsageError(
                "no model registry is configured (MLGATE_MLFLOW_TRACKING_URI or "
                "MLFLOW_TRACKING_URI)"
            )
        if self._registry is None:
            self._registry = MlflowRegistry(
                self.settings.resolved_mlflow_uri,
                self.settings.home / "cache" / "mlflow",
                retries=self.settings.mlflow_request_retries,
                timeout_s=self.settings.mlflow_request_timeout_seconds,
            )
        return self._registry

    @property
    def versions(self) -> VersionReader:
        """Model versions' evidence documents from the registry (UsageError without one)."""
        return VersionReader(self.registry)
