"""A JSON object that gives a name twice is refused (422 naming it) by every endpoint that reads
a JSON body, through the fast path and the route: RFC 8259 section 4 leaves such an object's
meaning to the receiver, so the gate and a proxy in front of it could read two requests."""

from __future__ import annotations

import importlib
import json
import pkgutil
from typing import Any

import pytest

import service.api
from service.api.jsonbody import NameGivenTwice, UniqueNamesRoute, loads
from tests.api.conftest import Api, request_body
from tests.api.test_signoffs import waive


def given_twice(document: dict[str, Any], name: str, second: Any) -> bytes:
    """`document` as JSON text with `name` given again, last, with the value `second`."""
    text = json.dumps(document)
    assert text.endswith("}")
    return f"{text[:-1]}, {json.dumps(name)}: {json.dumps(second)}}}".encode()


def post(api: Api, method: str, path: str, body: bytes, role: str) -> Any:
    return api.client.request(
        method,
        path,
        content=body,
        headers={**api.headers(role), "Content-Type": "application/json"},
    )


BODIES: list[tuple[str, str, str, dict[str, Any], str, Any]] = [
    (
        "POST",
        "/v1/approvals",
        "approver",
        {"model": "fraud-detector", "version": "3", "stage": "production", "role": "r"},
        "version",
        "4",
    ),
    (
        "POST",
        "/v1/waivers",
        "approver",
        {"model": "fraud-detector", "version": "3", "rule": "fairness", "reason": "x"},
        "model",
        "churn",
    ),
    (
        "POST",
        "/v1/tiers",
        "approver",
        {"model": "fraud-detector", "tier": "high", "role": "r", "reason": "x"},
        "tier",
        "low",
    ),
    (
        "POST",
        "/v1/snapshots",
        "reporter",
        {"model": "fraud-detector", "version": "3"},
        "version",
        "4",
    ),
    ("POST", "/v1/replay", "admin", {"revision": "sha256:" + "0" * 64}, "revision", "x"),
    (
        "POST",
        "/v1/flagger/confirm-rollout",
        "gate",
        {"name": "a", "phase": "Progressing"},
        "name",
        "b",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "role", "document", "name", "second"),
    BODIES,
    ids=[f"{m} {p}" for m, p, *_ in BODIES],
)
def test_every_json_body_refuses_a_name_given_twice(
    api: Api, method: str, path: str, role: str, document: dict[str, Any], name: str, second: Any
) -> None:
    response = post(api, method, path, given_twice(document, name, second), role)

    assert response.status_code == 422, response.text
    assert response.json()["field"] == name, response.text
    assert "given twice" in response.json()["message"]


def test_withdrawing_a_waiver_refuses_a_reason_given_twice(api: Api) -> None:
    created = waive(api, "43")
    assert created.status_code == 201, created.text
    body = given_twice({"reason": "MRV-1: fixed"}, "reason", "MRV-2: not fixed")

    response = post(api, "DELETE", f"/v1/waivers/{created.json()['id']}", body, "approver")

    assert response.status_code == 422, response.text
    assert response.json()["field"] == "reason"


def test_a_name_given_twice_deep_in_the_evidence_is_named_by_its_path(api: Api) -> None:
    body = request_body()
    datasets = body["evidence"]["lineage"]["datasets"]
    assert len(datasets) >= 1
    twice = json.dumps(body).replace(
        json.dumps(datasets[0])[:-1], json.dumps(datasets[0])[:-1] + ', "digest": "sha256:00"', 1
    )
    assert twice != json.dumps(body)

    response = post(api, "POST", "/v1/decisions/promotion", twice.encode(), "gate")

    assert response.status_code == 422, response.text
    assert response.json()["field"] == "evidence.lineage.datasets[0].digest", response.text


def test_a_body_without_repeated_names_decides_as_before(api: Api) -> None:
    """The check refuses only repeats: the same names in different objects are fine."""
    response = post(
        api, "POST", "/v1/decisions/promotion", json.dumps(request_body()).encode(), "gate"
    )

    assert response.status_code == 200, response.text


def test_every_router_of_the_api_reads_its_body_with_unique_names() -> None:
    """Each router module of the API (service/api/routes_*.py and the review page's) builds its
    routes as UniqueNamesRoute, so none parses a body with plain json.loads."""
    modules = [
        importlib.import_module(f"service.api.{info.name}")
        for info in pkgutil.iter_modules(service.api.__path__)
        if info.name.startswith("routes_")
    ] + [importlib.import_module("service.api.page.routes")]
    routes = [(m.__name__, r) for m in modules for r in m.router.routes]
    assert len(modules) > 10
    assert len(routes) > 20

    assert [(m, r.path) for m, r in routes if not isinstance(r, UniqueNamesRoute)] == []


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"a": 1, "a": 1}', "a"),
        ('{"a": [0, {"b": 1, "c": {}, "b": 2}]}', "a[1].b"),
        ('[{"x": {"y": 1}}, {"x": {"y": 1, "y": 2}}]', "[1].x.y"),
        ('{"outer": {"k": 1, "k": 2}, "outer": {}}', "outer"),
    ],
)
def test_loads_names_the_path_to_the_repeated_name(text: str, field: str) -> None:
    with pytest.raises(NameGivenTwice) as raised:
        loads(text.encode())

    assert raised.value.field == field


def test_loads_reads_what_json_reads() -> None:
    text = '{"a": [1, 2.5, null, true, {"b": "\\u00e9"}], "c": {}}'

    assert loads(text.encode("utf-16")) == json.loads(text) == loads(text)
