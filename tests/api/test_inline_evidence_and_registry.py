"""Registry mode is asked for or configured, never inferred from a local MLflow store's
existence; reading never creates a store; a version the registry lacks is a 404 that says how
to decide on the evidence sent. A real MLflow sqlite store, `mlgate serve` over HTTP, the CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from service.audit.ledger import open_ledger
from service.cli.demo_registry import MODEL, build_demo_registry
from service.errors import UsageError
from service.evidence.context import EvidenceContext
from service.settings import Settings
from tests.api.conftest import evidence, serving
from tests.cli.test_local_mode import mlgate
from tests.conftest import EVIDENCE_DIR

APPROVED = str(EVIDENCE_DIR / "approved")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real MLflow sqlite store holding versions 1 to 4 of the model the fixtures' card names
    (the fixtures' version 7 is not in it), built as `make demo` builds its store."""
    path = tmp_path_factory.mktemp("mlflow") / "mlflow.db"
    build_demo_registry(f"sqlite:///{path}")
    assert evidence()["model_card"]["name"] == MODEL
    return path


def _decide(url: str, token: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/decisions/promotion",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def _inline(model: dict[str, str] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"target": {"stage": "staging"}, "evidence": evidence()}
    if model is not None:
        body["model"] = model
    return body


def test_a_local_store_does_not_turn_inline_evidence_into_a_registry_lookup(
    tmp_path: Path, store: Path
) -> None:
    """`make demo` leaves <home>/mlflow.db: a request naming its model with the evidence
    inline is still decided on that evidence while no registry is configured."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "mlflow.db").write_bytes(store.read_bytes())
    with serving(home) as server:
        response = _decide(
            server.url, server.tokens["gate"], _inline({"name": MODEL, "version": "7"})
        )

    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["outcome"] == "allow", decision
    assert (decision["model"]["name"], decision["model"]["version"]) == (MODEL, "7")
    assert decision["provenance"]["model_card"] == "request"


def test_a_failed_cli_lookup_creates_no_store_and_changes_no_later_request(
    tmp_path: Path,
) -> None:
    """The CLI asked for the registry with --model: with none configured and no local store,
    it says so (exit 2) without creating one, so a later request is not switched over."""
    home = tmp_path / "home"
    home.mkdir()
    lookup = mlgate(
        home,
        *("decide", "promotion", "--model", MODEL, "--version", "7"),
        *("--evidence", APPROVED, "--to", "staging"),
    )

    assert lookup.returncode == 2, lookup.stderr
    assert "MLGATE_MLFLOW_TRACKING_URI" in lookup.stderr
    assert "without --model and --version" in lookup.stderr
    assert not (home / "mlflow.db").exists()
    with serving(home) as server:
        response = _decide(
            server.url, server.tokens["gate"], _inline({"name": MODEL, "version": "7"})
        )
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "allow"


def test_a_configured_store_that_does_not_exist_is_not_created(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    absent = tmp_path / "absent.db"

    lookup = mlgate(
        home,
        *("decide", "promotion", "--model", MODEL, "--version", "2", "--to", "staging"),
        MLGATE_MLFLOW_TRACKING_URI=f"sqlite:///{absent}",
    )

    assert lookup.returncode == 2, lookup.stderr
    assert f"no MLflow store at {absent}" in lookup.stderr
    assert not absent.exists()


def test_the_404_of_a_configured_registry_says_how_to_decide_on_the_evidence_sent(
    tmp_path: Path, store: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    # The first read imports MLflow in the decision worker: slow on a loaded machine.
    uri = f"sqlite:///{store}"
    with serving(
        home, MLGATE_MLFLOW_TRACKING_URI=uri, MLGATE_DECISION_TIMEOUT_SECONDS="120"
    ) as server:
        token = server.tokens["gate"]
        missing = _decide(server.url, token, _inline({"name": MODEL, "version": "7"}))
        followed = _decide(server.url, token, _inline(None))

    assert missing.status_code == 404, missing.text
    message = missing.json()["message"]
    assert "version 7 of model 'fraud-detector' is not in the MLflow registry" in message
    assert "to decide on the evidence sent, leave `model` out of the request" in message
    assert followed.status_code == 200, followed.text
    assert followed.json()["outcome"] == "allow"


def test_the_cli_lookup_of_a_missing_version_says_how_to_decide_on_the_files(
    tmp_path: Path, store: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    lookup = mlgate(
        home,
        *("decide", "promotion", "--model", MODEL, "--version", "7"),
        *("--evidence", APPROVED, "--to", "staging"),
        MLGATE_MLFLOW_TRACKING_URI=f"sqlite:///{store}",
    )

    assert lookup.returncode == 2, lookup.stderr
    assert "is not in the MLflow registry" in lookup.stderr
    assert "without --model and --version" in lookup.stderr


def test_the_services_evidence_context_reads_no_unconfigured_store(
    tmp_path: Path, store: Path
) -> None:
    """Every gate the service runs (rollback's candidates too) reads the registry through its
    evidence context: a local store that exists is the CLI's to ask for, not the service's."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "mlflow.db").write_bytes(store.read_bytes())
    settings = Settings(home=home)
    ledger = open_ledger(settings)
    try:
        with pytest.raises(UsageError, match="no model registry is configured"):
            _ = EvidenceContext(ledger, settings).registry
        asked = EvidenceContext(ledger, settings, local_store=True).versions
        assert asked.evidence(MODEL, "2").documents["model_card"]["name"] == MODEL
    finally:
        ledger.close()
