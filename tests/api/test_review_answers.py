"""Answers for a reviewer without scripts: the audit listing filtered by stage, with each
decision's reasons, warnings (waivers among them) and sign-off records, as JSON or CSV; and
the deployments, each alias move joined with the decision it rests on and its sign-offs."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import httpx
import pytest

from tests.api.conftest import LiveServer
from tests.api.test_rollback_story import call, install
from tests.api.test_rollback_story import registry_server as registry_server
from tests.evidence.test_registry_trust import copy_model


def _get(server: LiveServer, path: str, **headers: str) -> httpx.Response:
    headers["Authorization"] = f"Bearer {server.tokens['auditor']}"
    return httpx.get(server.url + path, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def installed(registry_server: tuple[LiveServer, str]) -> tuple[LiveServer, str, dict[str, Any]]:
    """A model with a champion installed before the gate came, and version 2 installed through
    staging, canary and production by the gate: the server, the model's name and the
    production decision."""
    server, store = registry_server
    name = copy_model(store, ["1", "2"], champion="1")
    return server, name, install(server, name, "2")


def test_listing_and_deployments_answer_the_reviewers_question(
    installed: tuple[LiveServer, str, dict[str, Any]],
) -> None:
    server, name, production = installed

    listing = call(
        server,
        "auditor",
        "GET",
        f"/v1/audit?model={name}&stage=production&kind=decision&include=reasons,warnings,signoffs",
    )["records"]
    assert [(r["gate"], r["outcome"], r["target"]["stage"]) for r in listing] == [
        ("promotion", "allow", "production")
    ]
    (row,) = listing
    assert row["id"] == production["decision_id"]
    assert row["warnings"] == production["warnings"]
    assert [s["id"] for s in row["signoffs"]] == production["signoff_records"]
    assert row["signoffs"][0]["kind"] == "approval"
    assert row["signoffs"][0]["content"]["role"] == "model-risk-officer"
    plain = call(server, "auditor", "GET", f"/v1/audit?model={name}&stage=production")
    assert "signoffs" not in plain["records"][0] and "reasons" not in plain["records"][0]

    as_csv = _get(server, f"/v1/audit?model={name}&kind=decision", Accept="text/csv")
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [(r["stage"], r["outcome"], r["version"]) for r in rows] == [
        ("production", "allow", "2"),
        ("canary", "allow", "2"),
        ("staging", "allow", "2"),
    ]
    assert rows[0]["signoffs"] == " ".join(production["signoff_records"])
    assert (
        _get(server, f"/v1/audit?model={name}&format=csv").text
        == _get(server, f"/v1/audit?model={name}", Accept="text/csv").text
    )

    deployed = call(server, "auditor", "GET", f"/v1/deployments?model={name}")["deployments"]
    assert [(d["stage"], d["to_version"], d["move"]) for d in deployed] == [
        ("production", "2", "install"),
        ("canary", "2", "install"),
        ("staging", "2", "install"),
    ]
    first: dict[str, Any] = deployed[0]
    assert first["decision"]["id"] == production["decision_id"]
    assert first["decision"]["policy_revision"] == production["policy_revision"]
    assert first["decision"]["caller"] == production["caller"]
    assert [s["id"] for s in first["signoffs"]] == production["signoff_records"]
    assert first["signoffs"][0]["role"] == "model-risk-officer"
    only = call(server, "auditor", "GET", f"/v1/deployments?model={name}&stage=canary")
    assert [d["stage"] for d in only["deployments"]] == ["canary"]


def test_an_unknown_include_is_named(registry_server: tuple[LiveServer, str]) -> None:
    server, _ = registry_server
    answer = _get(server, "/v1/audit?include=reasons,approvals")
    assert answer.status_code == 422
    assert answer.json()["field"] == "include"
    assert "approvals is not one of reasons, signoffs, warnings" in answer.json()["message"]


def test_the_review_page_shows_a_models_alias_history_and_deployments(
    installed: tuple[LiveServer, str, dict[str, Any]],
) -> None:
    """The page's model view shows what GET /v1/models/{name}/history and GET /v1/deployments
    answer: each alias move with its decision, and each deployment with its sign-offs."""
    server, name, production = installed
    with httpx.Client(base_url=server.url, timeout=60, follow_redirects=True) as browser:
        signed_in = browser.post(
            "/review/sign-in",
            data={"token": server.tokens["auditor"]},
            headers={"Origin": server.url},
        )
        assert signed_in.status_code == 200 and signed_in.url.path == "/review"
        page = browser.get(f"/review/models/{name}").text

    moves = call(server, "auditor", "GET", f"/v1/models/{name}/history")["moves"]
    assert [m["alias"] for m in moves] == ["champion", "canary", "staging"]
    rows = re.findall(r"<tr class=\"\">\s*<td>([^<]+)</td><td>([^<]+)</td>", page)
    assert rows == [(m["moved_at"], m["alias"]) for m in moves]
    for move in moves:
        assert f'href="/review/decisions/{move["decision_id"]}"' in page
    deployed = page.split('id="deployments"', 1)[1].split("</table>", 1)[0]
    assert deployed.count("<tr>") == 1 + len(moves)  # the header row and one per move
    assert "approval by local-approver as model-risk-officer" in deployed
    assert production["policy_revision"] in deployed
