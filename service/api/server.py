"""`mlgate serve`: the app under uvicorn, with first-run tokens and a ready curl line."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import socket
import sys
from pathlib import Path

import uvicorn

from service.api.app import create_app
from service.api.auth import ROLES, add_token, read_tokens
from service.api.logs import log_config
from service.errors import UsageError
from service.evidence.base import RECORDED_ONLY
from service.evidence.files import read_evidence_dir
from service.redactedurl import redacted_url
from service.settings import PROJECT_ROOT, Settings, get_settings, settings_file
from service.statefiles import private_directory

EXAMPLE_EVIDENCE = PROJECT_ROOT / "fixtures" / "evidence" / "approved"
EXAMPLE_NAME = "example-request.json"
# The first-run approver signs as the role the shipped high-risk thresholds ask for.
LOCAL_APPROVER_ROLES = ("model-risk-officer",)


def serve(host: str | None = None, port: int | None = None, workers: int | None = None) -> int:
    """Serve until interrupted; decisions run in `workers` processes (default_workers())."""
    settings = get_settings()
    host = host or settings.host
    port = settings.port if port is None else port
    private_directory(settings.home)
    new_tokens = first_run_tokens(settings)
    example = example_request(settings)
    # First-use notices (a new signing key) belong with the banner on stdout: stderr is the
    # JSON log, one object per line.
    with contextlib.redirect_stderr(sys.stdout):
        app = create_app(settings, workers=workers or default_workers())
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    # What is loaded now lives as long as the server: keep the collector off it, so that its
    # full collections, which stop every request in flight, stay short.
    gc.collect()
    gc.freeze()
    print(how_to_call(settings, host, bound_port, new_tokens, example), flush=True)
    config = uvicorn.Config(
        app,
        log_config=log_config(),
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        app.state.runtime.close()
    return 0


def default_workers() -> int:
    """One decision worker per CPU. The workers are the busiest processes (an OPA evaluation is
    most of a decision's CPU), and with one per CPU a decision never waits for a worker while
    a core is free. On 2 CPUs, twelve pairs of 10 s runs at 300 requests/s, alternated in one
    sitting, gave two workers the lower p99 in eight of them; the median p99 was 53 ms with two
    workers and 82 ms with one (`bench/http.py --workers N` measures the same)."""
    return max(1, os.cpu_count() or 1)


def first_run_tokens(settings: Settings) -> dict[str, str]:
    """With no tokens file yet, one token per role (id `local-<role>`); the clear tokens are
    returned to be shown once, and only their hashes are written."""
    path = settings.resolved_tokens_file
    if path.exists() or read_tokens(path):
        return {}
    return {
        role: add_token(
            path, f"local-{role}", role, LOCAL_APPROVER_ROLES if role == "approver" else ()
        )
        for role in ROLES
    }


def example_request(settings: Settings) -> Path | None:
    """A promotion request built from the repository's approved fixture, for the curl line."""
    target = settings.home / EXAMPLE_NAME
    if not EXAMPLE_EVIDENCE.is_dir():
        return None
    evidence = read_evidence_dir(EXAMPLE_EVIDENCE)
    body = {  # sign-offs and history come from the service's own records, never a request
        "target": {"stage": "staging"},
        "evidence": {k: v for k, v in evidence.items() if k not in RECORDED_ONLY},
    }
    target.write_text(json.dumps(body, indent=2, default=str) + "\n", encoding="utf-8")
    return target


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns Nagle off only on sockets that say they are TCP, and
    # with it on, a response written in two parts waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port} ({exc.strerror}); pass --port or set MLGATE_PORT"
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def how_to_call(
    settings: Settings, host: str, port: int, tokens: dict[str, str], example: Path | None
) -> str:
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    env_file = settings_file()
    lines = [
        f"mlgate is serving on {base} (OpenAPI at {base}/docs)",
        f"  review    {base}/review (sign in with an auditor token)",
        f"  policies  {settings.policy_dir}",
        f"  ledger    {redacted_url(settings.resolved_ledger_url)}",
        f"  settings  {env_file if env_file.is_file() else 'none (' + str(env_file) + ' absent)'}",
    ]
    if tokens:
        lines.append(
            f"First run: one token per role was created. They are shown only now; "
            f"{settings.resolved_tokens_file} keeps only their SHA-256 hashes."
        )
        lines += [f"  {role:<9} {token}" for role, token in tokens.items()]
        lines.append(f"export MLGATE_TOKEN={tokens['gate']}")
    else:
        lines.append(
            f"Tokens: {settings.resolved_tokens_file} keeps only hashes; a lost token is not "
            "recovered but replaced: mlgate tokens add NAME gate (prints a new one once)"
        )
    evidence = EXAMPLE_EVIDENCE if EXAMPLE_EVIDENCE.is_dir() else "DIR"
    data = f"@{example}" if example else '\'{"target": {...}, "evidence": {...}}\''
    lines += [
        "Ask for a decision:",
        f"  curl -sS -X POST {base}/v1/decisions/promotion \\",
        '    -H "Authorization: Bearer $MLGATE_TOKEN" -H "Content-Type: application/json" \\',
        f"    --data {data}",
        f"or: mlgate decide promotion --url {base} --evidence {evidence} --to staging",
    ]
    return "\n".join(lines)
