"""`mlgate serve` under a real uvicorn on a loopback port: first run, every endpoint, the logs,
and `mlgate decide --url` against it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.api.server import first_run_tokens
from service.settings import Settings
from tests.api.conftest import (
    EVIDENCE,
    Api,
    LiveServer,
    evidence,
    free_port,
    request_body,
    serving,
)


def test_first_run_shows_one_token_per_role_once_and_stores_only_hashes(
    live_server: LiveServer,
) -> None:
    assert set(live_server.tokens) == {"gate", "approver", "reporter", "auditor", "admin"}
    stored = (live_server.home / "tokens.json").read_text()
    for token in live_server.tokens.values():
        assert token not in stored
    assert f"mlgate is serving on {live_server.url}" in live_server.banner
    assert first_run_tokens(Settings(home=live_server.home)) == {}  # never again


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_printed_curl_line_gets_a_decision(live_server: LiveServer) -> None:
    lines = live_server.banner.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("curl "))
    command = " ".join(line.strip().rstrip("\\") for line in lines[start : start + 3])
    env = {**os.environ, "MLGATE_TOKEN": live_server.tokens["gate"]}

    done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, timeout=60)

    assert done.returncode == 0, done.stderr
    decision = json.loads(done.stdout)
    assert decision["outcome"] == "allow"
    assert decision["caller"] == {"id": "local-gate", "role": "gate"}


def test_decisions_over_http(live: Api) -> None:
    allow = live.decide(request_body())
    deny = live.decide(request_body(metrics="nonsense"))
    assert (allow.status_code, allow.json()["outcome"]) == (200, "allow")
    assert (deny.status_code, deny.json()["outcome"]) == (200, "deny")
    assert live.decide(request_body(), gate="shipping").status_code == 404
    assert live.decide({"evidence": []}).status_code == 422
    assert live.decide(request_body(), role=None).status_code == 401
    assert live.decide(request_body(), role="auditor").status_code == 403
    big = request_body(metrics={"padding": "x" * (live.settings.max_body_bytes + 1)})
    assert live.decide(big).status_code == 413
    not_json = live.client.post(
        "/v1/decisions/promotion",
        content=b"{",
        headers={**live.headers("gate"), "Content-Type": "application/json"},
    )
    assert not_json.status_code == 422


def test_reads_signoffs_and_policies_over_http(live: Api) -> None:
    decision = live.decide(request_body()).json()
    auditor = live.headers("auditor")
    digest = evidence()["lineage"]["artifact_digest"]

    stored = live.client.get(f"/v1/decisions/{decision['decision_id']}", headers=auditor)
    listed = live.client.get("/v1/audit", params={"model": "fraud-detector"}, headers=auditor)
    verified = live.client.get("/v1/audit/verify", headers=auditor)
    approval = live.client.post(
        "/v1/approvals",
        json={
            "model": "fraud-detector",
            "version": "9",
            "artifact_digest": digest,
            "role": "model-risk-officer",
        },
        headers=live.headers("approver"),
    )
    waiver = live.client.post(
        "/v1/waivers",
        json={
            "rule_code": "STAGE_ORDER",
            "model": "fraud-detector",
            "version": "9",
            "artifact_digest": digest,
            "role": "model-risk-officer",
            "reason": "hotfix",
            "expires_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
        },
        headers=live.headers("approver"),
    )
    policies = live.client.get("/v1/policies", headers=live.headers("gate"))
    reloaded = live.client.post("/v1/policies/reload", headers=live.headers("admin"))

    assert stored.json()["decision"]["decision_id"] == decision["decision_id"]
    assert listed.json()["records"][0]["decision_id"] == decision["decision_id"]
    assert verified.json()["ok"] is True
    assert (approval.status_code, waiver.status_code) == (201, 201), waiver.json()
    assert policies.json()["revision"] == reloaded.json()["revision"]
    assert live.decide(request_body()).json()["outcome"] == "allow"  # workers reloaded too


def test_the_promotion_flow_end_to_end_with_a_fresh_home(tmp_path: Path) -> None:
    """Canary allowed, an approver approves over HTTP, production allowed naming the approval;
    decisions made in the worker processes read the sign-off and the history from the ledger,
    and `mlgate audit verify` counts every record."""
    home = tmp_path / "home"
    home.mkdir()
    with serving(home, "--workers", "2") as server, httpx.Client(base_url=server.url) as client:
        api = Api(client, server.tokens, Settings(home=home))
        body: dict[str, Any] = {"model": {"name": "fraud-detector", "version": "11"}}
        for stage in ("staging", "canary"):
            decided = api.decide({**body, **request_body(stage)}).json()
            assert decided["outcome"] == "allow", decided
        production = {**body, **request_body("production")}
        assert api.decide(production).json()["outcome"] == "hold"

        approval = client.post(
            "/v1/approvals",
            json={
                "model": "fraud-detector",
                "version": "11",
                "artifact_digest": evidence()["lineage"]["artifact_digest"],
                "role": "model-risk-officer",
            },
            headers=api.headers("approver"),
        ).json()
        client.post("/v1/policies/reload", headers=api.headers("admin"))
        allowed = api.decide(production).json()

    assert allowed["outcome"] == "allow"
    assert allowed["signoff_records"] == [approval["id"]]
    verified = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "audit", "verify", "--format", "json"],
        env={**os.environ, "MLGATE_HOME": str(home)},
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(verified.stdout)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # 4 decisions, 1 approval, 1 reload, and the revision in force (kept at start-up; the
    # reload found the same files, so no second one).
    assert report["valid"] == report["records"] == 7
    assert report["kinds"] == {
        "decision": 4,
        "approval": 1,
        "policy_reload": 1,
        "policy_revision": 1,
    }


def test_probes_and_metrics(live: Api) -> None:
    live.decide(request_body())

    assert live.client.get("/healthz").json() == {"status": "ok"}
    checks = live.client.get("/readyz").json()["checks"]
    assert checks == {"engine": "ok", "ledger": "ok", "tokens": "ok"}
    metrics = live.client.get("/metrics").text
    assert 'mlgate_decisions_total{gate="promotion",outcome="allow"}' in metrics
    assert "mlgate_decision_latency_seconds_bucket" in metrics
    assert live.client.get("/openapi.json").json()["info"]["title"] == "mlgate"


def test_the_log_has_one_json_line_per_decision(live: Api, live_server: LiveServer) -> None:
    decision = live.decide(request_body()).json()

    lines = [json.loads(line) for line in live_server.log.read_text().splitlines() if line]
    mine = [line for line in lines if line.get("decision_id") == decision["decision_id"]]
    assert len(mine) == 1
    assert mine[0]["event"] == "decision"
    assert mine[0]["outcome"] == "allow"
    assert mine[0]["caller"] == "local-gate"
    assert mine[0]["latency_ms"] > 0


def cli(args: list[str], home: Path, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MLGATE_HOME": str(home), "MLGATE_CALLER_ID": "local-cli"}
    env.pop("MLGATE_TOKEN", None)
    env.pop("MLGATE_URL", None)
    if token is not None:
        env["MLGATE_TOKEN"] = token
    command = [sys.executable, "-m", "service.cli.main", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def denied_evidence(tmp_path: Path) -> Path:
    target = tmp_path / "denied"
    shutil.copytree(EVIDENCE, target)
    metrics = json.loads((target / "metrics.json").read_text())
    metrics["values"]["auc"] = 0.71
    (target / "metrics.json").write_text(json.dumps(metrics))
    return target


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_decide_url_answers_like_the_local_engine(
    live_server: LiveServer, tmp_path: Path, fmt: str
) -> None:
    args = ["decide", "promotion", "--evidence", str(EVIDENCE), "--to", "staging"]
    remote = cli(
        [*args, "--url", live_server.url, "--format", fmt], tmp_path, live_server.tokens["gate"]
    )
    local = cli([*args, "--format", fmt], tmp_path)

    assert (remote.returncode, local.returncode) == (0, 0), remote.stderr + local.stderr
    assert "not sent to" in remote.stderr and "approvals, history" in remote.stderr
    if fmt == "json":
        remote_decision, local_decision = json.loads(remote.stdout), json.loads(local.stdout)
        assert remote_decision["caller"] == {"id": "local-gate", "role": "gate"}
        for key in ("outcome", "reasons", "warnings", "model", "target", "policy_revision"):
            assert remote_decision[key] == local_decision[key]
    else:
        assert remote.stdout.splitlines()[0] == local.stdout.splitlines()[0]


def test_decide_url_exits_1_on_deny_with_the_local_reasons(
    live_server: LiveServer, tmp_path: Path
) -> None:
    args = ["decide", "promotion", "--evidence", str(denied_evidence(tmp_path)), "--to", "canary"]
    remote = cli(
        [*args, "--url", live_server.url, "--format", "json"], tmp_path, live_server.tokens["gate"]
    )
    local = cli([*args, "--format", "json"], tmp_path)

    assert (remote.returncode, local.returncode) == (1, 1)
    assert json.loads(remote.stdout)["reasons"] == json.loads(local.stdout)["reasons"]


@pytest.mark.parametrize(
    ("token_role", "code", "message"),
    [
        (None, 8, "answered 401 unauthorized"),
        ("auditor", 8, "answered 403 forbidden"),
    ],
)
def test_decide_url_with_a_refused_token_exits_8(
    live_server: LiveServer, tmp_path: Path, token_role: str | None, code: int, message: str
) -> None:
    token = live_server.tokens[token_role] if token_role else None
    args = ["decide", "promotion", "--evidence", str(EVIDENCE), "--to", "production"]

    done = cli([*args, "--url", live_server.url], tmp_path, token)

    assert done.returncode == code
    assert message in done.stderr


def test_decide_url_unreachable_exits_7(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    args = ["decide", "promotion", "--evidence", str(EVIDENCE), "--to", "production"]

    done = cli([*args, "--url", url], tmp_path, "mlg_whatever")

    assert done.returncode == 7
    assert f"cannot reach the mlgate service at {url}" in done.stderr
