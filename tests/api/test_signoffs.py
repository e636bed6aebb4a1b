"""Approvals and waivers through the API: stored, fed into later decisions, never self-given."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.api.conftest import Api, evidence

_versions = itertools.count(100)


def version_body(version: str, **changes: Any) -> dict[str, Any]:
    """A production request for `version`, with its own history and without inline approvals."""
    docs = evidence(**{"approvals": None, **changes})
    for prior in docs["history"]:
        prior["version"] = version
    return {
        "model": {"name": "fraud-detector", "version": version},
        "target": {"stage": "production"},
        "evidence": docs,
    }


@pytest.fixture
def version() -> str:
    return str(next(_versions))


def approve(api: Api, version: str, as_role: str = "approver", **fields: Any) -> Any:
    body = {"model": "fraud-detector", "version": version, "role": "model-risk-officer", **fields}
    return api.client.post("/v1/approvals", json=body, headers=api.headers(as_role))


def waive(api: Api, version: str, as_role: str = "approver", **fields: Any) -> Any:
    body = {
        "rule_code": "METRIC_ABOVE_CEILING",
        "model": "fraud-detector",
        "version": version,
        "reason": "latency fix ships in the next version",
        "expires_at": "2099-01-01T00:00:00Z",
        **fields,
    }
    return api.client.post("/v1/waivers", json=body, headers=api.headers(as_role))


def codes(decision: dict[str, Any]) -> list[str]:
    return [r["code"] for r in decision["reasons"]]


def test_production_holds_until_a_recorded_approval_allows_it(api: Api, version: str) -> None:
    assert codes(api.decide(version_body(version)).json()) == ["APPROVAL_PENDING"]

    response = approve(api, version, comment="MRV-2026-114 reviewed")

    assert response.status_code == 201
    assert response.json() == {
        "model": "fraud-detector",
        "approver": "m.okafor",
        "role": "model-risk-officer",
        "status": "approved",
        "version": version,
        "comment": "MRV-2026-114 reviewed",
        "decided_at": response.json()["decided_at"],
    }
    decision = api.decide(version_body(version)).json()
    assert decision["outcome"] == "allow"


def test_recorded_approvals_come_after_inline_ones_in_the_input(api: Api, version: str) -> None:
    approve(api, version)
    inline = {
        "approver": "j.doe",
        "role": "model-risk-officer",
        "status": "pending",
        "version": version,
    }
    body = version_body(version, approvals=[inline])

    decision = api.decide(body).json()
    stored = api.client.get(
        f"/v1/decisions/{decision['decision_id']}?include=input", headers=api.headers("auditor")
    ).json()

    assert [a["approver"] for a in stored["input"]["approvals"]] == ["j.doe", "m.okafor"]
    assert decision["outcome"] == "allow"


def test_a_rejection_denies_and_the_approvers_latest_word_counts(api: Api, version: str) -> None:
    approve(api, version, status="rejected")
    assert codes(api.decide(version_body(version)).json()) == [
        "APPROVAL_REJECTED",
        "APPROVAL_PENDING",
    ]

    approve(api, version, status="approved")

    assert api.decide(version_body(version)).json()["outcome"] == "allow"


def test_an_approver_cannot_approve_a_version_they_requested(api: Api, version: str) -> None:
    api.decide(version_body(version), role="alice-gate")

    response = approve(api, version, as_role="alice-approver")

    assert response.status_code == 403
    assert response.json()["error"] == "self_signoff"
    assert f"alice requested a decision on fraud-detector v{version}" in response.json()["message"]
    assert approve(api, version).status_code == 201  # someone else may


def test_nor_waive_a_rule_for_it(api: Api, version: str) -> None:
    api.decide(version_body(version), role="alice-gate")

    assert waive(api, version, as_role="alice-approver").status_code == 403


def test_a_waiver_turns_a_denial_into_a_warning(api: Api, version: str) -> None:
    metrics = evidence()["metrics"]
    metrics["values"]["calibration_ece"] = 0.035
    approve(api, version)
    assert codes(api.decide(version_body(version, metrics=metrics)).json()) == [
        "METRIC_ABOVE_CEILING"
    ]

    response = waive(api, version)

    assert response.status_code == 201
    assert response.json()["approved_by"] == "m.okafor"
    decision = api.decide(version_body(version, metrics=metrics)).json()
    assert decision["outcome"] == "allow"
    assert [w["code"] for w in decision["warnings"]] == ["METRIC_ABOVE_CEILING"]
    assert decision["warnings"][0]["waiver"]["approved_by"] == "m.okafor"


@pytest.mark.parametrize(
    ("fields", "field", "problem"),
    [
        ({"rule_code": "NOT_A_RULE"}, "rule_code", "no policy rule has the code NOT_A_RULE"),
        ({"rule_code": "lower_case"}, "rule_code", "should match pattern"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at", "is not in the future"),
        ({"expires_at": "next week"}, "expires_at", "RFC 3339"),
        ({"reason": ""}, "reason", "at least 1 character"),
        ({"approved_by": "someone-else"}, "approved_by", "unknown property"),
    ],
)
def test_a_bad_waiver_is_422(
    api: Api, version: str, fields: dict[str, Any], field: str, problem: str
) -> None:
    response = waive(api, **{"version": version, **fields})

    assert response.status_code == 422
    assert response.json()["field"] == field
    assert problem in response.json()["message"]


def test_an_unpaired_surrogate_in_a_signoff_is_422(api: Api) -> None:
    body = b'{"model": "m", "version": "1", "role": "r", "comment": "ok \\ud800"}'
    response = api.client.post(
        "/v1/approvals",
        content=body,
        headers={**api.headers("approver"), "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.json()["field"] == "comment"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"status": "maybe"}, "status"),
        ({"version": ""}, "version"),
        ({"role": None}, "role"),
        ({"approver": "m.okafor"}, "approver"),
    ],
)
def test_a_bad_approval_is_422(api: Api, version: str, fields: dict[str, Any], field: str) -> None:
    response = approve(api, **{"version": version, **fields})

    assert response.status_code == 422
    assert response.json()["field"] == field


def test_an_approver_cannot_claim_a_role_their_token_does_not_hold(api: Api) -> None:
    body = {"model": "fraud-detector", "version": "31", "role": "chief-risk-officer"}

    response = api.client.post("/v1/approvals", json=body, headers=api.headers("approver"))

    assert response.status_code == 403
    assert "may not approve as 'chief-risk-officer'" in response.json()["message"]
