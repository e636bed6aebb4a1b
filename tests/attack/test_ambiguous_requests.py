"""Findings of an attack review of the HTTP API's inputs: a request that means two things, or a
filter that silently matches nothing, answered as if it were plain. The service refuses a query
parameter given twice ("the service would otherwise keep one silently") and a misspelt replay
filter ("a misspelt filter would replay nothing and pass"); these two are the same mistakes
elsewhere. Each test fails on the code before its fix.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.api.conftest import Api, in_process, request_body


@pytest.fixture(scope="module", params=[True, False], ids=["fast-path", "route"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with in_process(tmp_path_factory.mktemp("mlgate-home"), fast_path=request.param) as app:
        yield app


def test_a_json_key_given_twice_in_a_decision_request_is_422_naming_it(api: Api) -> None:
    """`{"target": {"stage": "staging", "stage": "production"}}`: JSON parsers disagree on which
    one counts (RFC 8259 section 4: names SHOULD be unique, and with duplicates "the behavior
    of software that receives such an object is unpredictable"), so a proxy or a pipeline's own
    check reading the first sees a staging request that the gate judges, records and answers
    as a production one. Seen: 200, judged for production (the last key wins, silently).
    Expected: 422 invalid_request naming target.stage, nothing recorded."""
    body = json.dumps(request_body("staging"))
    assert body.count('"stage": "staging"') == 1
    twice = body.replace('"stage": "staging"', '"stage": "staging", "stage": "production"')

    r = api.client.post(
        "/v1/decisions/promotion",
        content=twice.encode(),
        headers={**api.headers("gate"), "Content-Type": "application/json"},
    )

    assert r.status_code == 422, r.text
    assert r.json()["field"] == "target.stage", r.text


def test_a_misspelt_gate_filter_of_the_audit_listing_is_422_naming_it(api: Api) -> None:
    """GET /v1/audit?gate=promotoin: kind, outcome and stage are checked against what they can
    be (422 naming the field), the gate is not, so an auditor's typo lists no decision at all,
    which reads as "none was made". Seen: 200 {"records": []} while promotion decisions are on
    record. Expected: 422 invalid_request naming `gate` and the gates there are."""
    assert api.decide(request_body("staging")).status_code == 200

    r = api.client.get("/v1/audit?gate=promotoin", headers=api.headers("auditor"))

    assert r.status_code == 422, r.text
    assert r.json()["field"] == "gate"
    assert "promotion" in r.json()["message"]
