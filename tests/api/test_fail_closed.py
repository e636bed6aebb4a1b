"""When the ledger cannot record, no decision leaves: 503, counted, and not ready."""

from __future__ import annotations

import warnings
from pathlib import Path

from service.api.app import create_app
from service.api.auth import add_token
from service.settings import Settings
from tests.api.conftest import request_body

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_a_decision_that_cannot_be_recorded_is_a_503_and_never_an_allow(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    token = add_token(settings.resolved_tokens_file, "ci", "gate")
    app = create_app(settings, engines=1)
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        assert (
            client.post("/v1/decisions/promotion", json=request_body(), headers=headers).json()[
                "outcome"
            ]
            == "allow"
        )
        settings.resolved_signing_key.unlink()

        response = client.post("/v1/decisions/promotion", json=request_body(), headers=headers)

        assert response.status_code == 503
        assert response.json()["error"] == "audit_key_missing"
        assert "outcome" not in response.json()
        assert 'mlgate_ledger_errors_total{gate="promotion"} 1.0' in client.get("/metrics").text
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["ledger"].startswith("no signing key at")
    app.state.runtime.close()
