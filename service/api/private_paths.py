"""What the service tells a client never names its own files, nor where its database is.

Messages from the core name the paths they are about ("no record 'x' in the SQLite ledger
/var/lib/mlgate/ledger.sqlite3"): right for the operator at a terminal, but over HTTP any token
holder would learn where the service keeps its state. The API and the review page pass every
error message through PrivatePaths.redact, which puts the setting's name in place of each path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from service.redactedurl import redacted_url
from service.settings import Settings


@dataclass(frozen=True)
class PrivatePaths:
    """(path, what a client is shown instead) pairs, longest path first."""

    pairs: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, settings: Settings) -> PrivatePaths:
        """The paths of `settings` a message may name, each as given and resolved: the
        ledger file and its folder, the signing key, keyring and tokens file, the MLflow store
        (local, or a file or sqlite tracking URI), the OPA server's certificate files, the
        policy and schema directories and MLGATE_HOME; and a database server's ledger URL, as
        configured and as the store names it (without its password, service/redactedurl.py)."""
        named: dict[str, str] = {}
        ledger_file = settings.sqlite_ledger
        if ledger_file is not None:
            _name(named, ledger_file, "<the ledger file>")
        else:
            url = settings.resolved_ledger_url
            for form in (url, redacted_url(url)):
                named.setdefault(form, "$MLGATE_LEDGER_URL")
        _name(named, settings.resolved_signing_key, "$MLGATE_SIGNING_KEY")
        _name(named, settings.resolved_keyring, "$MLGATE_KEYRING")
        _name(named, settings.resolved_tokens_file, "$MLGATE_TOKENS_FILE")
        _name(named, settings.local_mlflow_store, "<the MLflow store>")
        tracking = settings.mlflow_tracking_uri
        for scheme in ("sqlite:///", "file://"):
            if tracking.startswith(scheme):
                _name(named, Path(tracking.removeprefix(scheme)), "$MLGATE_MLFLOW_TRACKING_URI")
        for setting in ("opa_ca_file", "opa_client_cert", "opa_client_key"):
            if (path := getattr(settings, setting)) is not None:
                _name(named, path, f"$MLGATE_{setting.upper()}")
        _name(named, settings.policy_dir, "$MLGATE_POLICY_DIR")
        _name(named, settings.schema_dir, "$MLGATE_SCHEMA_DIR")
        _name(named, settings.home, "$MLGATE_HOME")
        if ledger_file is not None:  # after the home: the default ledger is in it
            _name(named, ledger_file.parent, "<the ledger's folder>")
        pairs = sorted(named.items(), key=lambda pair: len(pair[0]), reverse=True)
        return cls(tuple(pairs))

    def redact(self, message: str) -> str:
        """`message` with each private path replaced by what a client is shown instead."""
        for path, shown in self.pairs:
            if path in message:
                message = message.replace(path, shown)
        return message


def _name(named: dict[str, str], path: Path, shown: str) -> None:
    for form in {str(path), str(path.resolve())}:
        if len(form) > 1:  # never "/" alone
            named.setdefault(form, shown)
