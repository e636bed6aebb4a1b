"""When the ledger cannot record, no decision leaves: 503, counted, and not ready. When a
decision worker dies, it is replaced while the service goes on answering."""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings
from pathlib import Path

import httpx
import pytest

from service.api.app import create_app
from service.api.auth import add_token
from service.settings import Settings
from tests.api.conftest import request_body, serving

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.mark.parametrize("workers", [0, 1], ids=["threads", "workers"])
def test_a_decision_that_cannot_be_recorded_is_a_503_and_never_an_allow(
    tmp_path: Path, workers: int
) -> None:
    settings = Settings(home=tmp_path)
    token = add_token(settings.resolved_tokens_file, "ci", "gate")
    app = create_app(settings, engines=1, workers=workers)
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
        ready = client.get("/readyz", headers=headers)
        assert ready.status_code == 503
        assert ready.json()["checks"]["ledger"].startswith("no signing key at")
    app.state.runtime.close()


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(child) for child in (task / "children").read_text().split()}
    return found


def loaded_opa(pid: int) -> bool:
    try:
        return "libopabridge" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def test_a_worker_that_died_is_replaced_while_the_server_goes_on_answering(
    tmp_path: Path,
) -> None:
    if not Path("/proc/self/task").is_dir():
        pytest.skip("needs /proc to find the server's decision worker")
    with serving(tmp_path, "--workers", "1") as server:
        (worker,) = {child for child in children(server.pid) if loaded_opa(child)}
        os.kill(worker, signal.SIGKILL)
        before = children(server.pid) - {worker}
        gate = {"Authorization": f"Bearer {server.tokens['gate']}"}
        answered: list[httpx.Response] = []

        def decide() -> None:
            answered.append(
                httpx.post(
                    f"{server.url}/v1/decisions/promotion",
                    json=request_body(),
                    headers=gate,
                    timeout=60,
                )
            )

        asking = threading.Thread(target=decide)
        asking.start()
        deadline = time.monotonic() + 30
        while not (replacement := children(server.pid) - before - {worker}):
            assert time.monotonic() < deadline, "no replacement worker was started"
            time.sleep(0.002)  # until the request has the server start a replacement
        health = httpx.get(f"{server.url}/healthz", timeout=5)
        replacement_loading = not any(loaded_opa(child) for child in replacement)
        asking.join(timeout=60)

    assert health.status_code == 200
    # Answered before the new worker had even loaded OPA: the server did not wait for it.
    assert replacement_loading
    assert [r.status_code for r in answered] == [200]
    assert answered[0].json()["outcome"] == "allow"
