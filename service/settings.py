"""Runtime settings, read once from MLGATE_* environment variables and an optional settings file.

The settings file is MLGATE_ENV_FILE if set, else settings.env in MLGATE_HOME (default
.mlgate), and never a `.env` that happens to be in the working directory: a command run inside
a checked-out model repository must not take its policies or ledger from that repository.
Variables in the environment win over the file.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.errors import UsageError

# The repository root: policies/, schemas/ and fixtures/ live beside the package.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MLGATE_", extra="ignore")

    policy_dir: Path = Field(default=PROJECT_ROOT / "policies", description="Rego and data files")
    schema_dir: Path = Field(default=PROJECT_ROOT / "schemas", description="JSON Schemas")
    home: Path = Field(
        default=Path(".mlgate"),
        description="State of the embedded defaults: ledger, inputs, signing key",
    )
    ledger_url: str = Field(
        default="",
        description="sqlite:///path or postgresql://...; empty means <home>/ledger.sqlite3",
    )
    signing_key: Path | None = Field(default=None, description="Ed25519 private key (PEM)")
    keyring: Path | None = Field(default=None, description="Public keys with validity windows")
    checkpoint_every: int = Field(default=1000, ge=1)
    caller_id: str = Field(default="", description="Caller id recorded for CLI decisions")
    url: str = Field(default="", description="Remote mlgate service for `decide --url`")
    token: str = Field(default="", description="Bearer token for the remote mlgate service")
    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = 1024 * 1024
    decision_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long the service waits for the policy engine before it denies",
    )
    ready_min_free_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="Below this much free space on the ledger's disk, /readyz says unavailable",
    )
    tokens_file: Path | None = Field(default=None, description="Token hashes and roles (JSON)")
    mlflow_tracking_uri: str = Field(
        default="",
        validation_alias=AliasChoices("MLGATE_MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI"),
        description="The MLflow registry evidence comes from (MLFLOW_TRACKING_URI works too); "
        "empty means the local store <home>/mlflow.db",
    )
    mlflow_request_retries: int = Field(
        default=1,
        ge=0,
        description="Retries of a failed request to an MLflow server (MLflow's own default is "
        "7, with backoff: a gate waiting minutes on an unreachable registry helps nobody)",
    )
    mlflow_request_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Timeout of one request to an MLflow server"
    )
    opa_url: str = Field(
        default="",
        description="An OPA server (http://host:port or https://...) that decides instead of "
        "the embedded engine; empty means the embedded engine",
    )
    opa_token: str = Field(default="", description="Bearer token for the OPA server")
    opa_timeout_seconds: float = Field(
        default=2.0, gt=0, description="How long one request to the OPA server may take"
    )
    opa_ca_file: Path | None = Field(
        default=None, description="CA bundle (PEM) that signed the OPA server's certificate"
    )
    opa_client_cert: Path | None = Field(
        default=None, description="Client certificate (PEM) for mutual TLS with the OPA server"
    )
    opa_client_key: Path | None = Field(
        default=None, description="Private key (PEM) of the client certificate"
    )
    review_session_minutes: int = Field(
        default=480,
        ge=1,
        le=7 * 24 * 60,
        description="How long a review page sign-in lasts (minutes); signing in again renews it",
    )
    fast_path: bool = Field(
        default=True,
        description="Answer valid decision requests without FastAPI's per-request work "
        "(service/api/fastpath.py); false sends every request through the FastAPI route",
    )

    @property
    def resolved_ledger_url(self) -> str:
        return self.ledger_url or f"sqlite:///{self.home / 'ledger.sqlite3'}"

    @property
    def sqlite_ledger(self) -> Path | None:
        """The ledger's SQLite file as given (`sqlite:///PATH`), or None for a database server."""
        url = self.resolved_ledger_url
        return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None

    @property
    def resolved_signing_key(self) -> Path:
        return self.signing_key or self.home / "keys" / "signing.pem"

    @property
    def resolved_keyring(self) -> Path:
        return self.keyring or self.home / "keys" / "keyring.json"

    @property
    def resolved_tokens_file(self) -> Path:
        return self.tokens_file or self.home / "tokens.json"

    @property
    def local_mlflow_store(self) -> Path:
        return self.home / "mlflow.db"

    @property
    def resolved_mlflow_uri(self) -> str:
        """The registry `mlgate demo` builds and a command asked for the registry reads: the
        configured one, else the local store under home."""
        return self.mlflow_tracking_uri or f"sqlite:///{self.local_mlflow_store.resolve()}"

    @property
    def registry_configured(self) -> bool:
        """A registry is configured (MLGATE_MLFLOW_TRACKING_URI or MLFLOW_TRACKING_URI): the
        service then reads evidence from it for requests that name a model version. A local
        store that merely exists (`mlgate demo` leaves one) configures nothing."""
        return bool(self.mlflow_tracking_uri)

    def asked_registry_uri(self) -> str:
        """The registry a command that asks for one (`mlgate decide --model`) reads: the
        configured one, else the local store under home when it exists. UsageError when
        there is neither: the store is not created by a read."""
        if self.mlflow_tracking_uri or self.local_mlflow_store.is_file():
            return self.resolved_mlflow_uri
        raise UsageError(
            "--model and --version read the MLflow registry, and there is none: "
            "MLGATE_MLFLOW_TRACKING_URI (or MLFLOW_TRACKING_URI) is not set and the local "
            f"store {self.local_mlflow_store} does not exist (`mlgate demo` builds one). "
            "To decide on evidence files alone, run `mlgate decide` without --model and "
            "--version: the model card's name and version are used"
        )


def settings_file() -> Path:
    """MLGATE_ENV_FILE, else settings.env in MLGATE_HOME: the one settings file read."""
    named = os.environ.get("MLGATE_ENV_FILE")
    if named:
        return Path(named)
    return Path(os.environ.get("MLGATE_HOME") or ".mlgate") / "settings.env"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings the environment gives; a value that does not parse is a UsageError naming
    its variable."""
    env_file = settings_file()
    if os.environ.get("MLGATE_ENV_FILE") and not env_file.is_file():
        raise UsageError(f"MLGATE_ENV_FILE names {env_file}, which is not a file")
    try:
        return Settings(_env_file=env_file if env_file.is_file() else None)  # type: ignore[call-arg]
    except ValidationError as exc:
        problems = "; ".join(
            f"MLGATE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']} (found {e['input']!r})"
            for e in exc.errors()
        )
        raise UsageError(f"a setting is not valid: {problems}") from None
