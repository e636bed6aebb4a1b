"""DecisionFastPath: valid decision requests are answered without the framework, and every
other request reaches the FastAPI route with its body intact and is answered exactly as before."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from service.api.app import create_app
from service.api.fastpath import DecisionFastPath
from service.settings import Settings
from tests.api.conftest import Api, TestClient, in_process, make_tokens, request_body

# Parts of a decision that differ between any two decisions on the same request.
VOLATILE = ("decision_id", "requested_at", "input_digest", "audit")
JSON = {"Content-Type": "application/json"}
# Evidence read from the app's own ledger (earlier decisions, sign-offs).
LEDGER_DERIVED = ("history", "approvals", "waivers", "requesters", "recorded_risk_tier")


@pytest.fixture(scope="module")
def route_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The same app with the fast path off: every request goes through the FastAPI route."""
    with in_process(tmp_path_factory.mktemp("route-only"), fast_path=False) as api:
        yield api


def _send(api: Api, case: dict[str, Any]) -> tuple[int, Any]:
    headers = list(case.get("headers", JSON).items())
    for role in case.get("roles", [case["role"]] if "role" in case else []):
        headers.append(("Authorization", f"Bearer {api.tokens[role]}"))
    if "token" in case:
        headers.append(("Authorization", case["token"]))
    content = case.get("raw", json.dumps(case.get("body", request_body())).encode())
    response = api.client.post(
        f"/v1/decisions/{case.get('gate', 'promotion')}", content=content, headers=headers
    )
    body = response.json()
    for key in VOLATILE:
        body.pop(key, None)
    for key in LEDGER_DERIVED:  # each app reads its own ledger: these differ between them
        body.get("evidence_digests", {}).pop(key, None)
        body.get("provenance", {}).pop(key, None)
    return response.status_code, body


NAN_BODY = json.dumps(request_body()).replace('"auc": 0.9412', '"auc": NaN').encode()
assert b"NaN" in NAN_BODY

CASES = {
    "allow": {"role": "gate", "expect": "allow"},
    "deny on malformed evidence": {
        "role": "gate",
        "body": request_body(model_card=5),
        "expect": "deny",
    },
    "deny at canary of a version never allowed at staging": {
        "role": "gate",
        "body": {**request_body("canary"), "model": {"name": "fraud-detector", "version": "fp"}},
        "expect": "deny",
    },
    "an inline approval": {
        "role": "gate",
        "body": request_body(approvals=[{"approver": "a", "role": "r", "status": "approved"}]),
        "expect": 422,
    },
    "inline history": {"role": "gate", "body": request_body(history=[]), "expect": 422},
    "a lowered risk tier": {
        "role": "gate",
        "body": {**request_body(), "model": {"name": "fraud-detector", "risk_tier": "low"}},
        "expect": 422,
    },
    "a request naming another tier than the card's": {
        "role": "gate",
        "body": {
            **request_body(),
            "model": {"name": "fraud-detector", "version": "7", "risk_tier": "low"},
        },
        "expect": "deny",
    },
    "deny of a version with no earlier stage": {
        "role": "gate",
        "body": {
            **request_body("production"),
            "model": {"name": "fraud-detector", "version": "8"},
        },
        "expect": "deny",
    },
    "no token": {"expect": 401},
    "not a bearer token": {"token": "Basic Zm9vOmJhcg==", "expect": 401},
    "unknown token": {"token": "Bearer mlg_nobody", "expect": 401},
    "wrong role": {"role": "auditor", "expect": 403},
    "a second token after a wrong role": {"roles": ["auditor", "gate"], "expect": 403},
    "a second token after the right role": {"roles": ["gate", "auditor"], "expect": "allow"},
    "unknown gate": {"role": "gate", "gate": "shipping", "expect": 404},
    "not JSON": {"role": "gate", "raw": b'{"target": ', "expect": 422},
    "not UTF-8": {"role": "gate", "raw": b"\xff\xfe", "expect": 422},
    "wrong shape": {"role": "gate", "body": {"evidence": 3}, "expect": 422},
    "unknown property": {"role": "gate", "body": {**request_body(), "extra": 1}, "expect": 422},
    "NaN in the evidence": {"role": "gate", "raw": NAN_BODY, "expect": 422},
    "promotion without target": {
        "role": "gate",
        "body": {"evidence": request_body()["evidence"]},
        "expect": 422,
    },
    "JSON sent as text/plain": {
        "role": "gate",
        "headers": {"Content-Type": "text/plain"},
        "expect": 422,
    },
    "no content type": {"role": "gate", "headers": {}, "expect": 422},
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_every_request_is_answered_as_the_route_answers_it(
    api: Api, route_only: Api, case: dict[str, Any]
) -> None:
    status, body = _send(api, case)
    assert (status, body) == _send(route_only, case)
    assert (body["outcome"] if status == 200 else status) == case["expect"], body


class RouteStandIn:
    """Stands in for the FastAPI app behind the fast path (the real one is tested above), to
    show which requests reach it and with what body."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"route"})


@pytest.fixture
def fast_path(api: Api) -> tuple[TestClient, RouteStandIn]:
    """The fast path in front of the stand-in, over the `api` app's runtime (no lifespan)."""
    route = RouteStandIn()
    app = getattr(api.client, "app")  # noqa: B009 - TestClient keeps the app it serves
    return TestClient(DecisionFastPath(route, app.state.runtime)), route


def test_a_valid_request_is_decided_and_recorded_without_the_route(
    api: Api, fast_path: tuple[TestClient, RouteStandIn]
) -> None:
    client, route = fast_path
    response = client.post(
        "/v1/decisions/promotion", json=request_body(), headers=api.headers("gate")
    )
    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["outcome"] == "allow"
    assert decision["caller"] == {"id": "ci-pipeline", "role": "gate"}
    assert decision["audit"]["seq"] >= 1
    assert route.bodies == []


@pytest.mark.parametrize(
    "headers, content",
    [
        ({**JSON, "Authorization": "Bearer mlg_nobody"}, json.dumps(request_body()).encode()),
        (JSON, json.dumps(request_body()).encode()),
        ({**JSON, "Authorization": "gate"}, b'{"evidence": '),
    ],
    ids=["unknown token", "no token", "not JSON"],
)
def test_anything_else_reaches_the_route_with_its_body(
    api: Api, fast_path: tuple[TestClient, RouteStandIn], headers: dict[str, str], content: bytes
) -> None:
    client, route = fast_path
    if headers.get("Authorization") == "gate":
        headers = {**headers, **api.headers("gate")}
    response = client.post("/v1/decisions/promotion", content=content, headers=headers)
    assert (response.status_code, response.text) == (299, "route")
    assert route.bodies == [content]


def test_a_body_without_a_declared_length_reaches_the_route_whole(
    api: Api, fast_path: tuple[TestClient, RouteStandIn]
) -> None:
    client, route = fast_path
    content = json.dumps(request_body()).encode()
    chunks = iter([content[:100], content[100:]])
    response = client.post(
        "/v1/decisions/promotion", content=chunks, headers={**JSON, **api.headers("gate")}
    )
    assert response.status_code == 299
    assert route.bodies == [content]


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast path", "route only"])
def test_a_tokens_file_broken_under_the_service_is_a_503_naming_it(
    tmp_path: Path, fast_path: bool, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(home=tmp_path, fast_path=fast_path)
    tokens = make_tokens(settings)
    app = create_app(settings, engines=1)
    gate = {**JSON, "Authorization": f"Bearer {tokens['gate']}"}
    body = json.dumps(request_body()).encode()
    with TestClient(app) as client:
        settings.resolved_tokens_file.write_text('{"tokens": [')  # an edit gone wrong

        broken = client.post("/v1/decisions/promotion", content=body, headers=gate)
        with caplog.at_level(logging.WARNING, logger="mlgate.readiness"):
            ready = client.get("/readyz", headers=gate)

    app.state.runtime.close()
    # No token can be checked against a broken file: /readyz says which check fails, and the
    # log says why.
    assert ready.status_code == 503
    assert ready.json()["checks"]["tokens"] == "unavailable"
    logged = [r.__dict__ for r in caplog.records if r.name == "mlgate.readiness"]
    assert [
        (line["check"], app.state.runtime.private_paths.redact(line["reason"])) for line in logged
    ] == [("tokens", broken.json()["message"])]
    assert broken.status_code == 503
    assert broken.json()["error"] == "tokens_file_invalid"
    # Named by its setting, not by where the service keeps it (service/api/private_paths.py).
    assert "tokens file $MLGATE_TOKENS_FILE cannot be read" in broken.json()["message"]
    assert str(settings.home) not in broken.text
