"""Reading the audit trail through the API: one decision, filtered pages, verification."""

from __future__ import annotations

import base64
import csv
import io
import json
from typing import Any

import httpx
import pytest

from tests.api.conftest import Api, request_body


@pytest.fixture(scope="module")
def recorded(api: Api) -> list[dict[str, Any]]:
    """Five decisions of a model of its own: three allows, two denies."""
    decisions = []
    for version in ("1", "2", "2"):
        body = {**request_body("staging"), "model": {"name": "audit-model", "version": version}}
        decisions.append(api.decide(body).json())
    for version in ("1", "3"):
        body = {
            **request_body("staging", lineage={}),
            "model": {"name": "audit-model", "version": version},
        }
        decisions.append(api.decide(body).json())
    assert [d["outcome"] for d in decisions] == ["allow"] * 3 + ["deny"] * 2
    return decisions


def page(api: Api, role: str = "auditor", **query: Any) -> Any:
    return api.client.get("/v1/audit", params=query, headers=api.headers(role))


def test_a_decision_is_read_back_with_its_signed_envelope(
    api: Api, recorded: list[dict[str, Any]]
) -> None:
    decision = recorded[0]

    response = api.client.get(
        f"/v1/decisions/{decision['decision_id']}", headers=api.headers("auditor")
    )

    assert response.status_code == 200
    stored = response.json()
    assert stored["decision"] == decision
    assert "input" not in stored
    statement = json.loads(base64.b64decode(stored["envelope"]["payload"]))
    assert statement["predicate"]["decision_id"] == decision["decision_id"]
    assert statement["predicate"]["caller"] == {"id": "ci-pipeline", "role": "gate"}
    assert stored["envelope"]["signatures"][0]["keyid"] == stored["keyid"]


def test_the_input_document_comes_with_include_input(
    api: Api, recorded: list[dict[str, Any]]
) -> None:
    decision = recorded[0]

    stored = api.client.get(
        f"/v1/decisions/{decision['decision_id']}",
        params={"include": "input"},
        headers=api.headers("admin"),
    ).json()

    assert stored["input"]["model"]["name"] == "audit-model"
    assert stored["input"]["caller"] == {"id": "ci-pipeline", "role": "gate"}


def test_an_unknown_decision_is_404(api: Api) -> None:
    response = api.client.get("/v1/decisions/no-such-id", headers=api.headers("auditor"))

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_records_are_filtered_by_model_version_gate_and_outcome(
    api: Api, recorded: list[dict[str, Any]]
) -> None:
    all_of_model = page(api, model="audit-model").json()["records"]
    assert [r["decision_id"] for r in all_of_model] == [
        d["decision_id"] for d in reversed(recorded)
    ]
    assert {r["caller"]["id"] for r in all_of_model} == {"ci-pipeline"}

    version_2 = page(api, model="audit-model", version="2").json()["records"]
    assert [r["model"]["version"] for r in version_2] == ["2", "2"]

    denies = page(api, model="audit-model", outcome="deny", gate="promotion").json()["records"]
    assert [r["decision_id"] for r in denies] == [
        recorded[4]["decision_id"],
        recorded[3]["decision_id"],
    ]

    assert page(api, model="audit-model", gate="rollback").json()["records"] == []


def test_records_are_filtered_by_time(api: Api, recorded: list[dict[str, Any]]) -> None:
    records = page(api, model="audit-model").json()["records"]
    middle = records[2]["recorded_at"]

    since = page(api, model="audit-model", since=middle).json()["records"]
    until = page(api, model="audit-model", until=middle).json()["records"]

    assert len(since) + len(until) == len(records)
    assert all(r["recorded_at"] >= middle for r in since)
    assert all(r["recorded_at"] < middle for r in until)


def test_pages_follow_next_before_to_the_end(api: Api, recorded: list[dict[str, Any]]) -> None:
    seen: list[str] = []
    before = None
    while True:
        query = {"model": "audit-model", "limit": 2, **({"before": before} if before else {})}
        body = page(api, **query).json()
        seen += [r["decision_id"] for r in body["records"]]
        before = body.get("next_before")
        if before is None:
            break

    assert seen == [d["decision_id"] for d in reversed(recorded)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"before": 0}, "before"),
        ({"outcome": "maybe"}, "outcome"),
        ({"since": "last tuesday"}, "since"),
        ({"until": "2026-13-45T00:00:00Z"}, "until"),
        ({"include": "everything"}, "include"),
        ({"modle": "fraud-detector"}, "modle"),
        ({"model": "fraud\x00detector"}, "model"),  # no ledger store can look it up
        ({"version": "7\x00"}, "version"),
        ({"gate": "\x00"}, "gate"),
    ],
)
def test_bad_query_parameters_are_422(api: Api, query: dict[str, Any], field: str) -> None:
    path = "/v1/decisions/x" if "include" in query else "/v1/audit"

    response = api.client.get(path, params=query, headers=api.headers("auditor"))

    assert response.status_code == 422
    assert response.json()["field"] == field


@pytest.mark.parametrize("path", ["/v1/audit", "/v1/audit/export"])
def test_a_gate_filter_naming_no_gate_is_422_listing_the_gates(
    api: Api, recorded: list[dict[str, Any]], path: str
) -> None:
    """A misspelt gate matches no record, which reads as "no decision was made"."""
    response = api.client.get(path, params={"gate": "rolback"}, headers=api.headers("auditor"))

    assert response.status_code == 422, response.text
    assert response.json()["field"] == "gate"
    assert response.json()["message"] == (
        "gate: expected one of monitoring, promotion, rollback; found 'rolback'"
    )


def test_the_csv_pages_follow_their_next_links_to_the_end_of_the_same_query(
    api: Api, recorded: list[dict[str, Any]]
) -> None:
    """Each CSV page's `Link: <...>; rel="next"`, resolved against the URL asked (RFC 8288,
    RFC 3986), gives the next page of the same query: CSV, two rows, audit-model's denies."""
    url = httpx.URL("http://testserver/v1/audit?model=audit-model&outcome=deny&limit=1")
    seen: list[str] = []
    links: list[str] = []
    while True:
        response = api.client.get(
            url.raw_path.decode(), headers={**api.headers("auditor"), "Accept": "text/csv"}
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv"), response.text[:200]
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert len(rows) == 1, rows
        seen.append(rows[0]["id"])
        if "link" not in response.headers:
            break
        links.append(response.headers["link"])
        target = response.headers["link"].split(";")[0].strip().removeprefix("<").removesuffix(">")
        url = url.join(target)

    denies = [d["decision_id"] for d in reversed(recorded) if d["outcome"] == "deny"]
    assert seen == denies, links
    assert links[0].endswith('; rel="next"')
    assert "format=csv" in links[0] and "limit=1" in links[0], links


def test_a_decision_id_with_a_nul_character_is_422(api: Api) -> None:
    response = api.client.get("/v1/decisions/abc%00def", headers=api.headers("auditor"))

    assert response.status_code == 422
    assert response.json()["field"] == "decision_id"
    assert "NUL character" in response.json()["message"]


def test_the_ledger_verifies(api: Api, recorded: list[dict[str, Any]]) -> None:
    response = api.client.get("/v1/audit/verify", headers=api.headers("auditor"))

    assert response.status_code == 200
    report = response.json()
    assert report["ok"] is True
    assert report["problems"] == []
    assert report["records"] == report["valid"] == report["last_seq"]
    assert report["records"] >= len(recorded)
