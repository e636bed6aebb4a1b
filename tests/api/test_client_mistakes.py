"""Finding 2: every mistake a client can make is a 422 naming the field, one code per kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.api.errors import found, validation_problem
from tests.api.conftest import Api, role_for
from tests.api.test_signoffs import waive


def leap_second_ahead(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT23:59:60Z")


def test_a_waiver_expiring_at_a_leap_second_is_422(api: Api) -> None:
    response = waive(api, "7", expires_at=leap_second_ahead(10))

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_request"
    assert response.json()["field"] == "expires_at"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"before": "99999999999999999999999"}, "before"),
        ({"limit": "99999999999999999999999"}, "limit"),
        ({"since": "2016-12-31T23:59:60Z"}, "since"),
        ({"until": "9999-12-31T23:59:60Z"}, "until"),
    ],
)
def test_out_of_range_query_parameters_are_422(api: Api, query: dict[str, Any], field: str) -> None:
    response = api.client.get("/v1/audit", params=query, headers=api.headers("auditor"))

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_request"
    assert response.json()["field"] == field


@pytest.mark.parametrize(
    "query",
    [
        {"since": "last tuesday"},
        {"until": "2026-13-45T00:00:00Z"},
        {"before": "0"},
        {"modle": "x"},
        {"model": "a\x00b"},
        {"since": "2016-12-31T23:59:60Z"},
        {"until": "2026-06-30T23:59:60Z"},
    ],
)
def test_every_query_mistake_has_the_one_code_invalid_request(
    api: Api, query: dict[str, Any]
) -> None:
    response = api.client.get("/v1/audit", params=query, headers=api.headers("auditor"))

    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/v1/audit", "model=fraud-detector&model=other"),
        ("/v1/audit", "limit=1&limit=500"),
        ("/v1/audit", "kind=approval&kind=decision"),
        ("/v1/decisions/x", "include=input&include=input"),
        ("/v1/models/fraud-detector/history", "alias=champion&alias=challenger"),
    ],
)
def test_a_query_parameter_given_twice_is_422_naming_it(api: Api, path: str, query: str) -> None:
    """Each query parameter takes one value; given twice, the service used the last one and
    said nothing (?model=a&model=b listed b's records)."""
    response = api.client.get(f"{path}?{query}", headers=api.headers("auditor"))

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_request"
    assert response.json()["field"] == query.partition("=")[0]
    assert "more than once" in response.json()["message"]


@pytest.mark.parametrize("name", ["team/fraud-detector", "a%2Fb", "fraud-detector/history"])
def test_a_model_name_with_a_slash_is_422_naming_it(api: Api, name: str) -> None:
    """It matched no endpoint, a 404 the document did not list for the operation."""
    response = api.client.get(f"/v1/models/{name}/history", headers=api.headers("auditor"))

    assert response.status_code == 422, response.text
    assert response.json()["field"] == "name"


@pytest.mark.parametrize("name", ["a%0Ab", "%0A", "a%0A/b"])
def test_a_model_name_with_a_newline_reaches_the_route(api: Api, name: str) -> None:
    """Not a 404 for want of a matching endpoint: the route refuses it, naming `name`."""
    response = api.client.get(f"/v1/models/{name}/history", headers=api.headers("auditor"))

    assert response.status_code == 422, response.text
    assert response.json()["field"] == "name"
    assert "U+000A" in response.json()["message"]


EDGE_TEXT = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "99999999999999999999999",
            str(2**63),
            "1e309",
            "NaN",
            "2026-12-31T23:59:60Z",
            "9999-12-31T23:59:59Z",
            "0000-01-01T00:00:00Z",
            "\x00",
            "\ud7ff",
            "deny",
        ]
    ),
    st.text(max_size=20),
)
AUDIT_PARAMS = ("kind", "model", "version", "gate", "outcome", "since", "until", "before", "limit")


@given(query=st.dictionaries(st.sampled_from(AUDIT_PARAMS), EDGE_TEXT, max_size=4))
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_audit_query_is_answered_or_refused_naming_a_field(
    api_route: Api, query: dict[str, str]
) -> None:
    response = api_route.client.get("/v1/audit", params=query, headers=api_route.headers("auditor"))

    assert response.status_code in (200, 422), (query, response.text)
    if response.status_code == 422:
        assert response.json()["error"] == "invalid_request"
        assert response.json()["field"] in query


@given(expires_at=EDGE_TEXT, version=EDGE_TEXT)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_waiver_expiry_is_answered_or_refused_naming_a_field(
    api_route: Api, expires_at: str, version: str
) -> None:
    response = waive(api_route, version, expires_at=expires_at)

    assert response.status_code in (200, 403, 422), (expires_at, response.text)
    if response.status_code == 422:
        assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("GET", "/v1/policies", "auditor"),
        ("GET", "/v1/audit/verify", "auditor"),
        ("POST", "/v1/policies/reload", "admin"),
    ],
)
def test_an_endpoint_taking_no_query_parameters_refuses_one(
    api: Api, method: str, path: str, role: str
) -> None:
    """As the audit listing does: a parameter an endpoint ignores would let a caller believe
    it filtered or chose something."""
    response = api.client.request(method, path, params={"model": "x"}, headers=api.headers(role))
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_request"
    assert response.json()["field"] == "model"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"outcome": "maybe"},
            "outcome: expected 'allow', 'hold', 'deny' or 'rollback'; found 'maybe'",
        ),
        ({"limit": "ten"}, "; found 'ten'"),
        ({"kind": "decisoin"}, "; found 'decisoin'"),
    ],
)
def test_a_query_value_outside_its_set_or_type_says_what_was_found(
    api: Api, query: dict[str, Any], message: str
) -> None:
    response = api.client.get("/v1/audit", params=query, headers=api.headers("auditor"))

    assert response.status_code == 422, response.text
    assert message in response.json()["message"]


@pytest.mark.parametrize(
    ("path", "needs"),
    [("/v1/approvals", ("model", "version", "role")), ("/v1/tiers", ("model", "tier", "reason"))],
)
def test_a_body_left_out_is_told_the_properties_it_needs(
    api: Api, path: str, needs: tuple[str, ...]
) -> None:
    response = api.client.post(path, headers=api.headers("approver"))

    assert response.status_code == 422, response.text
    assert response.json()["field"] == "body"
    message = response.json()["message"]
    assert message.startswith("body: no body was sent; send a JSON object with "), message
    assert all(name in message for name in needs), message


# Every operation whose body is JSON alone (POST /v1/replay also takes a gzip archive, and says
# so with a 415 of its own).
JSON_BODY_OPERATIONS = [
    ("POST", "/v1/decisions/{gate}"),
    ("POST", "/v1/flagger/{hook}"),
    ("POST", "/v1/approvals"),
    ("POST", "/v1/waivers"),
    ("DELETE", "/v1/waivers/{waiver_id}"),
    ("POST", "/v1/tiers"),
    ("POST", "/v1/snapshots"),
]
PATH_VALUES = {
    "{gate}": "promotion",
    "{hook}": "confirm-promotion",
    "{waiver_id}": "0" * 32,
}
CONTENT_TYPES = {
    "text/plain": ("text/plain", "found Content-Type: text/plain"),
    "no header": (None, "found a body with no Content-Type header"),
    "curl -d": (
        "application/x-www-form-urlencoded",
        "found Content-Type: application/x-www-form-urlencoded (curl -d sends that unless "
        "given -H 'Content-Type: application/json')",
    ),
}


def test_every_operation_taking_a_json_body_is_in_the_table(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    served = [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if list(operation.get("requestBody", {}).get("content", {})) == ["application/json"]
    ]

    assert sorted(served) == sorted(JSON_BODY_OPERATIONS)


@pytest.mark.parametrize("sent", CONTENT_TYPES)
@pytest.mark.parametrize(("method", "template"), JSON_BODY_OPERATIONS)
def test_a_body_not_sent_as_json_is_told_the_content_type_it_was_sent_as(
    api: Api, method: str, template: str, sent: str
) -> None:
    content_type, found_text = CONTENT_TYPES[sent]
    path = template
    for parameter, value in PATH_VALUES.items():
        path = path.replace(parameter, value)
    headers = api.headers(role_for(method, template))
    if content_type is not None:
        headers["Content-Type"] = content_type

    response = api.client.request(method, path, content=b"hello", headers=headers)

    assert response.status_code == 422, response.text
    assert response.json()["field"] == "body"
    assert response.json()["message"] == (
        f"body: expected a JSON object sent with Content-Type: application/json; {found_text}"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "null"),
        (True, "true (a boolean)"),
        (7, "7 (an integer)"),
        (0.5, "0.5 (a number)"),
        ("prod", "'prod'"),
        ("x" * 100, f"{'x' * 60!r}… (100 characters)"),
        ({"a": 1}, "an object"),
        ([1, 2], "an array"),
    ],
)
def test_a_value_found_is_quoted_with_its_json_type(value: object, shown: str) -> None:
    assert found(value) == shown


def test_a_validator_of_mlgate_quotes_what_it_found_without_a_found_an_object_after() -> None:
    """A model validator's error is raised on the whole object: its own message says what was
    found, and nothing is appended after it (it read "...; found an object")."""
    error = {
        "type": "metadata_key",
        "loc": ("body", "metadata"),
        "msg": "unknown key(s) 'x': mlgate reads only model",
        "input": {"model": "m", "x": "1"},
    }

    assert validation_problem(error) == ("metadata", "unknown key(s) 'x': mlgate reads only model")


def test_a_pydantic_type_error_still_says_what_was_found() -> None:
    error = {
        "type": "string_type",
        "loc": ("body", "reason"),
        "msg": "Input should be a valid string",
        "input": ["a"],
    }

    assert validation_problem(error) == ("reason", "Input should be a valid string; found an array")
