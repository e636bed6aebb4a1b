"""The real app in-process (TestClient) and under a real uvicorn on a loopback port, with real
tokens, the real embedded OPA engine, ledger and sign-off store in a temporary MLGATE_HOME."""

from __future__ import annotations

import contextlib
import copy
import os
import re
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.api.app import create_app
from service.api.auth import add_token
from service.evidence.base import RECORDED_ONLY
from service.evidence.files import read_evidence_dir
from service.settings import PROJECT_ROOT, Settings
from tests.conftest import free_port

# Starlette suggests httpx2 for its test client; httpx is what this project installs.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
from fastapi.testclient import TestClient  # noqa: E402

EVIDENCE = PROJECT_ROOT / "fixtures" / "evidence" / "approved"
ROLES = ("gate", "approver", "reporter", "auditor", "admin")
# Two identities hold two roles each, so self-approval can be tried; the others hold one.
TOKEN_IDS = {
    "gate": "ci-pipeline",
    "approver": "m.okafor",
    "reporter": "prometheus-monitor",
    "auditor": "reviewer",
    "admin": "platform",
}
# Which token each operation is called with by the generated tests: the role the operation is
# for; every other operation under /v1 reads, which an auditor's token may do.
ROLE_BY_OPERATION = {
    ("POST", "/v1/decisions/{gate}"): "gate",
    ("POST", "/v1/approvals"): "approver",
    ("POST", "/v1/waivers"): "approver",
    ("POST", "/v1/tiers"): "approver",
    ("DELETE", "/v1/waivers/{waiver_id}"): "approver",
    ("POST", "/v1/policies/reload"): "admin",
    ("POST", "/v1/replay"): "admin",
    ("POST", "/v1/snapshots"): "reporter",
}


def role_for(method: str, path: str) -> str:
    """The role whose token calls the operation `method path` (a path template)."""
    return ROLE_BY_OPERATION.get((method.upper(), path), "auditor")


@dataclass
class Api:
    """A running app: a client for it, its tokens by role, and its settings."""

    client: httpx.Client | TestClient
    tokens: dict[str, str]
    settings: Settings

    def headers(self, role: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}

    def decide(self, body: dict[str, Any], role: str = "gate", gate: str = "promotion") -> Any:
        return self.client.post(f"/v1/decisions/{gate}", json=body, headers=self.headers(role))


def make_tokens(settings: Settings) -> dict[str, str]:
    path = settings.resolved_tokens_file
    signs_as = ("model-risk-officer", "r")
    tokens = {
        role: add_token(path, TOKEN_IDS[role], role, signs_as if role == "approver" else ())
        for role in ROLES
    }
    # alice asks for promotions and approves: she may not approve what she asked for.
    tokens["alice-gate"] = add_token(path, "alice", "gate")
    tokens["alice-approver"] = add_token(path, "alice", "approver", signs_as)
    return tokens


def evidence(**changes: Any) -> dict[str, Any]:
    """The approved fixture's evidence as a caller may send it (without the approvals and
    history only the service's own records supply); a change of None removes a document."""
    docs = copy.deepcopy(read_evidence_dir(EVIDENCE))
    for key in RECORDED_ONLY:
        docs.pop(key, None)
    for key, value in changes.items():
        if value is None:
            docs.pop(key, None)
        else:
            docs[key] = value
    return docs


def request_body(stage: str = "staging", **changes: Any) -> dict[str, Any]:
    return {"target": {"stage": stage}, "evidence": evidence(**changes)}


@contextlib.contextmanager
def in_process(home: Path, fast_path: bool, workers: int = 0) -> Iterator[Api]:
    """The app in this process; with `workers`, decisions are judged in that many decision
    worker processes and recorded by the ledger writer process, as `mlgate serve` runs them;
    without, on two threads of this process."""
    settings = Settings(home=home, max_body_bytes=256 * 1024, fast_path=fast_path)
    tokens = make_tokens(settings)
    app = create_app(settings, engines=2, workers=workers)
    with TestClient(app) as client:
        yield Api(client, tokens, settings)
    app.state.runtime.close()


@pytest.fixture(scope="module")
def api_fast_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The app in this process, as `mlgate serve` builds it but with decisions on threads."""
    with in_process(tmp_path_factory.mktemp("mlgate-home"), fast_path=True) as api:
        yield api


@pytest.fixture(scope="module")
def api_route(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The same, with every request through the FastAPI route (MLGATE_FAST_PATH=false)."""
    with in_process(tmp_path_factory.mktemp("mlgate-home"), fast_path=False) as api:
        yield api


@pytest.fixture(scope="module")
def api_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The app as `mlgate serve` builds it: decisions judged in a decision worker process and
    recorded by the ledger writer process."""
    with in_process(tmp_path_factory.mktemp("mlgate-home"), fast_path=True, workers=1) as api:
        yield api


@pytest.fixture(scope="module", params=["fast-path", "route"])
def api(request: pytest.FixtureRequest) -> Api:
    """Every API test runs twice, through the decision fast path (service/api/fastpath.py)
    and through the FastAPI route, so the two give the same answer on every case. The
    decisions' and sign-offs' tests run a third time with the decision path placed in worker
    processes, as `mlgate serve` runs it (`every_decider`)."""
    return chosen_api(request)


def chosen_api(request: pytest.FixtureRequest) -> Api:
    chosen: Api = request.getfixturevalue(f"api_{request.param.replace('-', '_')}")
    return chosen


# For a test module's own `api` fixture: the fast path, the route, and the worker processes.
EVERY_DECIDER = ["fast-path", "route", "workers"]


@dataclass
class LiveServer:
    url: str
    home: Path
    banner: str
    tokens: dict[str, str]
    log: Path
    pid: int


@contextlib.contextmanager
def serving(home: Path, *options: str, **settings: str) -> Iterator[LiveServer]:
    """`mlgate serve` in a subprocess on a free loopback port, with MLGATE_HOME `home` and the
    environment variables `settings`: the first-run tokens it prints are the ones the tests
    use."""
    port = free_port()
    env = {**os.environ, "MLGATE_HOME": str(home), "PYTHONUNBUFFERED": "1", **settings}
    env.pop("MLGATE_TOKEN", None)
    log = home / "server.log"
    out = home / "server.out"
    command = [sys.executable, "-m", "service.cli.main", "serve", "--port", str(port), *options]
    with log.open("wb") as err, out.open("wb") as stdout:
        server = subprocess.Popen(command, env=env, stdout=stdout, stderr=err)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(server, url, log)
        banner = out.read_text()
        tokens = dict(
            re.findall(r"^  (gate|approver|reporter|auditor|admin)\s+(mlg_\S+)$", banner, re.M)
        )
        yield LiveServer(url, home, banner, tokens, log, server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serving(tmp_path_factory.mktemp("live-home")) as server:
        yield server


def _wait_ready(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"mlgate serve exited with {server.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"mlgate serve was not ready within 90 s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def live(live_server: LiveServer) -> Iterator[Api]:
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        yield Api(client, live_server.tokens, Settings(home=live_server.home))


@pytest.fixture(params=["fast-path", "route", "uvicorn"])
def served(request: pytest.FixtureRequest) -> Api:
    """The same test against the app in this process (both ways) and against `mlgate serve`."""
    fixture = "live" if request.param == "uvicorn" else f"api_{request.param.replace('-', '_')}"
    served: Api = request.getfixturevalue(fixture)
    return served
