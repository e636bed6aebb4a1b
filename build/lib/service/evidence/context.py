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
    `settings`."""

    def __init__(self, ledger: Ledger, settings: Settings | None = None) -> None:
        self.ledger = ledger
        self.book = SignoffBook(ledger)
        self.snapshots = SnapshotBook(ledger)
        self.settings = settings
        self._registry: MlflowRegistry | None = None

    @property
    def registry(self) -> MlflowRegistry:
        """The MLflow registry of the settings; UsageError if this context has none."""
        if self.settings is None:
            raise UsageError("this pipeline reads no model registry")
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
