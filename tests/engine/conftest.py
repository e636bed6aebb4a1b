"""The real `opa` server (make opa), started once per session on a free loopback port with the
bundle of our policies; stub servers for the ways a server can fail."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from service.engine.bundle import write_bundle
from service.engine.policyset import PolicySet, load_policy_set
from service.engine.server import ServerEngine, ServerOptions
from service.settings import PROJECT_ROOT
from tests.conftest import POLICY_DIR, free_port

OPA_BINARY = PROJECT_ROOT / ".tools" / "bin" / "opa"


def opa_binary() -> Path:
    """The opa `make opa` built; skip without it, but fail in CI (CI=true), which builds it."""
    found = OPA_BINARY if OPA_BINARY.exists() else shutil.which("opa")
    if found:
        return Path(found)
    reason = f"the opa binary is missing ({OPA_BINARY}, nor on PATH)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must run the OPA server tests (`make install` builds it)")
    pytest.skip(f"{reason}; `make opa` builds it with Go")


@dataclass
class OpaServer:
    url: str
    process: subprocess.Popen[bytes]
    policy_set: PolicySet


def start_opa(binary: Path, *args: str) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    process = subprocess.Popen(
        [str(binary), "run", "--server", "--addr", f"127.0.0.1:{port}", "--log-level=error", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return f"http://127.0.0.1:{port}", process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"opa exited: {process.stderr.read().decode()}") from None
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("opa did not listen within 20 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def opa_path() -> Path:
    return opa_binary()


@pytest.fixture(scope="session")
def opa_server(opa_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpaServer]:
    """`opa run --server --bundle` of our policies, for the whole session."""
    policy_set = load_policy_set(POLICY_DIR)
    bundle = write_bundle(policy_set, tmp_path_factory.mktemp("bundle") / "bundle.tar.gz")
    url, process = start_opa(opa_path, "--bundle", str(bundle))
    yield OpaServer(url, process, policy_set)
    stop(process)


@pytest.fixture
def server_engine(opa_server: OpaServer) -> Iterator[ServerEngine]:
    engine = ServerEngine(opa_server.policy_set, ServerOptions(opa_server.url))
    yield engine
    engine.close()


Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


@pytest.fixture
def stub_opa() -> Iterator[Callable[[Handler], str]]:
    """An HTTP server on loopback answering every POST with `handler`: a server that is slow,
    erroring or malformed in ways a healthy OPA never is."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(handler: Handler) -> str:
        class Stub(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                handler(self)

            def log_message(self, *args: Any) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def reply(handler: http.server.BaseHTTPRequestHandler, status: int, body: Any) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(raw)))
    handler.end_headers()
    handler.wfile.write(raw)
