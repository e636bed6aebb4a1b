"""POST /v1/decisions/{gate} through the real app: outcomes, auditing, and every bad input."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from service.api.logs import JsonFormatter
from tests.api.conftest import EVERY_DECIDER, Api, chosen_api, evidence, request_body


@pytest.fixture(scope="module", params=EVERY_DECIDER)
def api(request: pytest.FixtureRequest) -> Api:
    """The fast path, the route, and the decision path in worker processes."""
    return chosen_api(request)


def test_approved_evidence_is_allowed_and_recorded_with_the_token_caller(api: Api) -> None:
    response = api.decide(request_body())

    assert response.status_code == 200
    decision = response.json()
    assert decision["outcome"] == "allow"
    assert decision["reasons"] == []
    assert decision["caller"] == {"id": "ci-pipeline", "role": "gate"}
    assert decision["model"]["name"] == "fraud-detector"
    assert decision["audit"]["seq"] >= 1
    stored = api.client.get(
        f"/v1/decisions/{decision['decision_id']}", headers=api.headers("auditor")
    ).json()
    assert stored["decision"] == decision


def test_a_deny_is_a_200_with_reasons(api: Api) -> None:
    metrics = evidence()["metrics"]
    metrics["values"]["auc"] = 0.71

    response = api.decide(request_body("production", metrics=metrics))

    assert response.status_code == 200
    assert response.json()["outcome"] == "deny"
    below = [r for r in response.json()["reasons"] if r["code"] == "METRIC_BELOW_FLOOR"]
    assert below[0]["message"] == "auc 0.71 is below the high-risk production floor 0.9"


def test_a_request_cannot_set_its_own_time(api: Api) -> None:
    """The service's clock judges waiver expiry and stage order: a client cannot backdate."""
    response = api.decide({**request_body(), "requested_at": "2020-01-01T00:00:00Z"})

    assert response.status_code == 422
    assert response.json()["field"] == "requested_at"


def test_malformed_evidence_is_an_audited_deny_not_a_422(api: Api) -> None:
    response = api.decide(request_body(metrics="not a metric set", lineage=[1, 2]))

    assert response.status_code == 200
    decision = response.json()
    assert decision["outcome"] == "deny"
    invalid = {r["field"] for r in decision["reasons"] if r["code"] == "EVIDENCE_INVALID"}
    assert {"metrics", "lineage"} <= invalid
    assert decision["audit"]["seq"] >= 1


def test_missing_evidence_is_an_audited_deny(api: Api) -> None:
    response = api.decide({"target": {"stage": "staging"}, "evidence": {}})

    assert response.status_code == 200
    decision = response.json()
    assert decision["outcome"] == "deny"
    assert "model.name" in {r.get("field") for r in decision["reasons"]}


def test_model_fields_in_the_request_override_the_card(api: Api) -> None:
    body = {**request_body("staging"), "model": {"name": "fraud-detector", "version": "8"}}

    decision = api.decide(body).json()

    assert decision["model"]["version"] == "8"


def test_an_unknown_gate_is_404(api: Api) -> None:
    response = api.decide(request_body(), gate="shipping")

    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "message": "no gate 'shipping'; the gates are promotion, monitoring, rollback",
    }


def test_an_unknown_path_is_a_404_problem(api: Api) -> None:
    response = api.client.get("/v1/nothing-here", headers=api.headers("gate"))

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_a_wrong_method_is_a_405_problem(api: Api) -> None:
    response = api.client.get("/v1/decisions/promotion/x/y", headers=api.headers("gate"))
    assert response.status_code == 404
    response = api.client.delete("/v1/policies", headers=api.headers("admin"))
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        ({}, "target", "the promotion gate needs"),
        ({"evidence": 3}, "evidence", "; found 3 (an integer)"),
        ({"evidence": [1, 2]}, "evidence", "; found an array"),
        ({"evidence": {"sbom": {}}, "target": {"stage": "staging"}}, "evidence.sbom", "unknown"),
        ({"evidence": {}}, "target", "the promotion gate needs"),
        (
            {"evidence": {}, "target": {"stage": "moon"}},
            "target.stage",
            "target.stage: expected 'staging', 'canary' or 'production'; found 'moon'",
        ),
        ({"evidence": {}, "target": {}}, "target.stage", "required property missing"),
        (
            {"evidence": {}, "target": "production"},
            "target",
            "; found 'production'",
        ),
        (
            {"evidence": {}, "target": {"stage": "staging"}, "model": {"name": ""}},
            "model.name",
            "at least 1 character",
        ),
        (
            {"evidence": {}, "target": {"stage": "staging"}, "model": {"name": "m", "version": 7}},
            "model.version",
            "valid string; found 7 (an integer)",
        ),
        (
            {
                "evidence": {},
                "target": {"stage": "staging"},
                "requested_at": "2026-01-01T00:00:00Z",
            },
            "requested_at",
            "unknown property",
        ),
        (
            {"evidence": {}, "target": {"stage": "staging"}, "caller": {"id": "root"}},
            "caller",
            "unknown property",
        ),
        ([1, 2, 3], "body", "JSON object"),
        ("a string", "body", "JSON object"),
    ],
)
def test_a_body_of_the_wrong_shape_is_422_naming_the_field(
    served: Api, body: Any, field: str, problem: str
) -> None:
    response = served.decide(body)

    assert response.status_code == 422
    answer = response.json()
    assert answer["error"] == "invalid_request"
    assert answer["field"] == field
    assert problem in answer["message"]


@pytest.mark.parametrize(
    ("content", "content_type", "problem"),
    [
        (b'{"evidence": ', "application/json", "not valid JSON"),
        (b'{"evidence": "\xff"}', "application/json", "not UTF-8 text (byte 0xff at 14)"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "nests arrays or objects"),
        (b'{"evidence": ' + b"9" * 5000 + b"}", "application/json", "more than 4300 digits"),
        (b"", "application/json", "no body was sent; send a JSON object"),
        (b"evidence=1", "application/x-www-form-urlencoded", "JSON object"),
        (b'{"evidence": {}}', "text/plain", "JSON object"),
    ],
)
def test_a_body_that_is_not_json_is_422(
    served: Api, content: bytes, content_type: str, problem: str
) -> None:
    response = served.client.post(
        "/v1/decisions/promotion",
        content=content,
        headers={**served.headers("gate"), "Content-Type": content_type},
    )

    assert response.status_code == 422
    assert response.json()["field"] == "body"
    assert problem in response.json()["message"]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"metrics": {"values": {"auc": NaN}}}', "evidence.metrics.values.auc"),
        (b'{"metrics": {"values": {"auc": 1e999}}}', "evidence.metrics.values.auc"),
        (
            b'{"metrics": {"values": {"auc": -' + b"9" * 299 + b"e10}}}",
            "evidence.metrics.values.auc",
        ),
        (b'{"model_card": {"name": "\\ud800"}}', "evidence.model_card.name"),
        (b'{"model_card": {"name": "x\\uDfFf"}}', "evidence.model_card.name"),
        (b'{"model_card": {"name": "fraud\\u0000detector"}}', "evidence.model_card.name"),
        (b'{"model_card": {"a\\u0000": 1}}', "evidence.model_card"),
        # The parser takes ~1000 levels; 64 is the limit, counted from the body's own object.
        (
            b'{"metrics": {"values": {"deep": ' + b"[" * 700 + b"]" * 700 + b"}}}",
            "evidence.metrics.values.deep" + "[0]" * 60,
        ),
    ],
)
def test_values_json_cannot_carry_are_422(served: Api, raw: bytes, field: str) -> None:
    body = b'{"target": {"stage": "staging"}, "evidence": ' + raw + b"}"
    response = served.client.post(
        "/v1/decisions/promotion",
        content=body,
        headers={**served.headers("gate"), "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.json()["field"] == field


def test_many_shallow_arrays_are_not_taken_for_deep_ones(served: Api) -> None:
    slices = [[{"slice": str(i), "auc": 0.9}] for i in range(100)]  # 200 brackets, 5 levels deep

    body = request_body()
    body["evidence"]["metrics"]["slices"] = slices

    response = served.decide(body)

    assert response.status_code == 200, response.text


def test_an_unpaired_surrogate_in_a_gate_field_is_422(api: Api) -> None:
    model = b'{"name": "m\\udc00", "version": "1"}'
    body = b'{"model": ' + model + b', "evidence": {}, "target": {"stage": "staging"}}'
    response = api.client.post(
        "/v1/decisions/promotion",
        content=body,
        headers={**api.headers("gate"), "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.json()["field"] == "model.name"


def test_a_body_over_the_limit_is_413(served: Api) -> None:
    padding = "x" * (served.settings.max_body_bytes + 1)
    response = served.decide(request_body(metrics={"padding": padding}))

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert f"the limit is {served.settings.max_body_bytes} bytes" in response.json()["message"]


def test_a_streamed_body_over_the_limit_is_413(served: Api) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"evidence": {"metrics": "'
        for _ in range(served.settings.max_body_bytes // 1024 + 1):
            yield b"x" * 1024
        yield b'"}}'

    response = served.client.post(
        "/v1/decisions/promotion",
        content=chunks(),
        headers={**served.headers("gate"), "Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


def test_each_decision_logs_one_json_line(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="mlgate.decisions"):
        decision = api.decide(request_body()).json()

    records = [r for r in caplog.records if r.name == "mlgate.decisions"]
    assert len(records) == 1
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["event"] == "decision"
    assert line["decision_id"] == decision["decision_id"]
    assert line["outcome"] == "allow"
    assert (line["gate"], line["model"], line["version"]) == ("promotion", "fraud-detector", "7")
    assert line["caller"] == "ci-pipeline"
    assert line["latency_ms"] > 0
