"""Answers for a reviewer without scripts: the audit listing filtered by stage, with each
decision's reasons, warnings (waivers among them) and sign-off records, as JSON or CSV; and
the deployments, each alias move joined with the decision it rests on and its sign-offs."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from tests.api.conftest import LiveServer
from tests.api.test_rollback_story import call, install
from tests.api.test_rollback_story import registry_server as registry_server
from tests.evidence.test_registry_trust import copy_model


def _get(server: LiveServer, path: str, **headers: str) -> httpx.Response:
    headers["Authorization"] = f"Bearer {server.tokens['auditor']}"
    return httpx.get(server.url + path, headers=headers, timeout=60)


def test_listing_and_deployments_answer_the_reviewers_question(
    registry_server: tuple[LiveServer, str],
) -> None:
    server, store = registry_server
    name = copy_model(store, ["1", "2"], champion="1")
    production = install(server, name, "2")

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
