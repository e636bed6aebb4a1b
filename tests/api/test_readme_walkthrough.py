"""What a newcomer meets following the README's HTTP examples: a CSV page's `Link` to the next
page, and the 422s a client gets for a value outside a fixed set or a body left out."""

from __future__ import annotations

import csv
import io

import httpx

from tests.api.conftest import Api, request_body
from tests.api.test_signoffs import waive


def test_the_next_link_of_a_csv_page_keeps_its_filters_limit_and_format(api: Api) -> None:
    """`GET /v1/audit?format=csv` sends `Link: <...>; rel="next"`. Followed as a client follows
    a link (resolved against the request's URL, RFC 8288 / RFC 3986), it must give the next page
    of the same listing: still CSV, still one row, still only decisions. A link of only
    `?before=N` drops every other parameter, so a script following it gets JSON of every kind."""
    for _ in range(3):
        assert api.decide(request_body()).status_code == 200
    asked = "/v1/audit?kind=decision&limit=1&format=csv"
    first = api.client.get(asked, headers=api.headers("auditor"))
    assert first.status_code == 200, first.text
    link = first.headers["link"]
    target = link.split(";")[0].strip().removeprefix("<").removesuffix(">")
    following = httpx.URL("http://testserver" + asked).join(target)
    second = api.client.get(following.raw_path.decode(), headers=api.headers("auditor"))

    assert second.status_code == 200, second.text
    assert second.headers["content-type"].startswith("text/csv"), (link, second.text[:200])
    rows = list(csv.DictReader(io.StringIO(second.text)))
    assert len(rows) == 1, (link, rows)
    assert rows[0]["kind"] == "decision", (link, rows)


def test_a_stage_outside_the_fixed_set_is_refused_saying_what_was_found(api: Api) -> None:
    """Bad input names the field, what was expected and what was found; the requirements
    endpoint does (`tier: expected one of high, low, medium, found 'critical'`), a decision's
    `target.stage` says only what was expected."""
    body = request_body()
    body["target"]["stage"] = "prod"
    response = api.decide(body)

    assert response.status_code == 422, response.text
    assert response.json()["field"] == "target.stage"
    assert "'prod'" in response.json()["message"], response.json()["message"]


def test_a_tier_change_to_an_unknown_tier_says_what_was_found(api: Api) -> None:
    response = api.client.post(
        "/v1/tiers",
        json={
            "model": "fraud-detector",
            "tier": "critical",
            "role": "model-risk-officer",
            "reason": "MRV-2026-131: a tier that does not exist",
        },
        headers=api.headers("approver"),
    )

    assert response.status_code == 422, response.text
    assert response.json()["field"] == "tier"
    assert "'critical'" in response.json()["message"], response.json()["message"]


def test_withdrawing_a_waiver_without_a_body_names_the_reason_it_needs(api: Api) -> None:
    """`DELETE /v1/waivers/{id}` with no body answers `body: required property missing`, which
    names no property; the body it needs is `{"reason": ...}`."""
    created = waive(api, "41")
    assert created.status_code == 201, created.text
    response = api.client.delete(
        f"/v1/waivers/{created.json()['id']}", headers=api.headers("approver")
    )

    assert response.status_code == 422, response.text
    assert "reason" in response.json()["message"], response.json()
