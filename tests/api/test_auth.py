"""Bearer tokens and roles on every endpoint: 401 without a valid token, 403 for a wrong role."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from service.api.auth import TokenTable, add_token, read_tokens, token_hash
from service.api.errors import TokensFileInvalid
from service.api.routes_snapshots import EXAMPLE_SNAPSHOT
from service.errors import UsageError
from tests.api.conftest import Api, request_body

APPROVAL = {"model": "fraud-detector", "version": "3", "role": "model-risk-officer"}
WAIVER = {
    "rule_code": "METRIC_MISSING",
    "model": "fraud-detector",
    "version": "3",
    "reason": "metric added in v4",
    "expires_at": "2099-01-01T00:00:00Z",
}
# Every protected endpoint, and the roles that may call it.
ENDPOINTS: list[tuple[str, str, Any, set[str]]] = [
    ("POST", "/v1/decisions/promotion", request_body(), {"gate"}),
    ("GET", "/v1/decisions/00000000-0000-0000-0000-000000000000", None, {"auditor", "admin"}),
    ("GET", "/v1/audit", None, {"auditor", "admin"}),
    ("GET", "/v1/audit/verify", None, {"auditor", "admin"}),
    ("POST", "/v1/approvals", APPROVAL, {"approver"}),
    ("POST", "/v1/waivers", WAIVER, {"approver"}),
    ("POST", "/v1/snapshots", EXAMPLE_SNAPSHOT, {"reporter"}),
    ("GET", "/v1/policies", None, {"gate", "approver", "reporter", "auditor", "admin"}),
    (
        "GET",
        "/v1/gates/promotion/requirements?tier=high&stage=production",
        None,
        {"gate", "approver", "reporter", "auditor", "admin"},
    ),
    ("POST", "/v1/policies/reload", None, {"admin"}),
]
ROLES = ("gate", "approver", "reporter", "auditor", "admin")


def call(api: Api, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    return api.client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ENDPOINTS)
def test_no_token_is_401(served: Api, method: str, path: str, body: Any, allowed: set[str]) -> None:
    response = call(served, method, path, body, {})

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header", ["Bearer mlg_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer", "mlg_x"]
)
@pytest.mark.parametrize(("method", "path", "body", "allowed"), ENDPOINTS)
def test_an_invalid_token_is_401(
    served: Api, method: str, path: str, body: Any, allowed: set[str], header: str
) -> None:
    response = call(served, method, path, body, {"Authorization": header})

    assert response.status_code == 401


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "body", "allowed"), ENDPOINTS)
def test_each_role_may_call_only_its_endpoints(
    served: Api, method: str, path: str, body: Any, allowed: set[str], role: str
) -> None:
    response = call(served, method, path, body, served.headers(role))

    if role in allowed:
        assert response.status_code not in (401, 403), response.text
    else:
        assert response.status_code == 403
        assert response.json()["error"] == "forbidden"
        assert f"role '{role}'" in response.json()["message"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_and_metrics_need_no_token(served: Api, path: str) -> None:
    assert served.client.get(path).status_code == 200


def test_the_tokens_file_holds_hashes_never_tokens(api: Api) -> None:
    text = api.settings.resolved_tokens_file.read_text()

    for token in api.tokens.values():
        assert token not in text
        assert token_hash(token) in text


def test_a_token_added_to_the_file_works_without_a_restart(api: Api) -> None:
    token = add_token(api.settings.resolved_tokens_file, "late-reviewer", "auditor")

    response = api.client.get("/v1/audit", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200


def test_a_malformed_tokens_file_is_reported_as_such(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"tokens": [{"id": "x", "role": "root", "sha256": "0" * 64}]}))

    with pytest.raises(TokensFileInvalid, match=r"tokens\[0\].role is 'root'"):
        TokenTable(path).lookup("anything")


def test_one_identity_gets_one_token_per_role(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    add_token(path, "alice", "gate")
    add_token(path, "alice", "approver")

    with pytest.raises(UsageError, match="already has a gate token for 'alice'"):
        add_token(path, "alice", "gate")
    assert [(e.id, e.role) for e in read_tokens(path)] == [("alice", "gate"), ("alice", "approver")]
