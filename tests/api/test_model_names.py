"""A model name has one form everywhere it enters the service (service/modelname.py). Names were
compared byte for byte, so with a trailing space, a U+2010 hyphen or another letter case the
artifact judged high-risk as fraud-detector got a production allow at low tier with no
approval: its history, sign-offs, recorded tier and thresholds all missed, and the audit
listing for fraud-detector did not show those decisions."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from service.modelname import RULE
from tests.api.conftest import Api, evidence
from tests.test_modelname import LOOKALIKES

_versions = itertools.count(7000)
DIGEST = evidence()["lineage"]["artifact_digest"]
# NUL is refused before the name is looked at, as in any other field (test_decisions.py).
NAMES = {case: found for case, found in LOOKALIKES.items() if case != "NUL"}


@pytest.fixture
def version() -> str:
    return str(next(_versions))


def card_named(name: str, version: str = "7", tier: str = "high") -> dict[str, Any]:
    docs = evidence()
    docs["model_card"].update(name=name, version=version, risk_tier=tier)
    return docs


def _decision_by_model(api: Api, name: str) -> Any:
    body = {
        "model": {"name": name, "version": "7"},
        "target": {"stage": "staging"},
        "evidence": evidence(),
    }
    return api.decide(body)


def _decision_by_card(api: Api, name: str) -> Any:
    return api.decide({"target": {"stage": "staging"}, "evidence": card_named(name)})


def _approval(api: Api, name: str) -> Any:
    body = {
        "model": name,
        "version": "7",
        "artifact_digest": DIGEST,
        "role": "model-risk-officer",
        "status": "approved",
    }
    return api.client.post("/v1/approvals", json=body, headers=api.headers("approver"))


def _waiver(api: Api, name: str) -> Any:
    body = {
        "rule_code": "METRIC_ABOVE_CEILING",
        "model": name,
        "version": "7",
        "artifact_digest": DIGEST,
        "role": "model-risk-officer",
        "reason": "latency fix ships in v8",
        "expires_at": (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return api.client.post("/v1/waivers", json=body, headers=api.headers("approver"))


def _model_history(api: Api, name: str) -> Any:
    path = f"/v1/models/{quote(name, safe='')}/history"
    return api.client.get(path, headers=api.headers("auditor"))


def _audit_listing(api: Api, name: str) -> Any:
    return api.client.get("/v1/audit", params={"model": name}, headers=api.headers("auditor"))


# Every place a model name enters over HTTP, and the field a refusal names.
ENTRY_POINTS: dict[str, tuple[Callable[[Api, str], Any], str]] = {
    "POST /v1/decisions model.name": (_decision_by_model, "model.name"),
    "POST /v1/decisions model_card.name": (_decision_by_card, "evidence.model_card.name"),
    "POST /v1/approvals": (_approval, "model"),
    "POST /v1/waivers": (_waiver, "model"),
    "GET /v1/models/{name}/history": (_model_history, "name"),
    "GET /v1/audit?model=": (_audit_listing, "model"),
}


def newest_seq(api: Api) -> int:
    page = api.client.get("/v1/audit", params={"limit": 1}, headers=api.headers("auditor"))
    records = page.json()["records"]
    return int(records[0]["seq"]) if records else 0


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize(("name", "said"), NAMES.values(), ids=NAMES.keys())
def test_a_lookalike_name_is_refused_at_every_entry_point(
    api: Api, entry: str, name: str, said: str
) -> None:
    call, field = ENTRY_POINTS[entry]
    before = newest_seq(api)

    response = call(api, name)

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["error"] == "invalid_request"
    assert problem["field"] == field
    assert said in problem["message"] and RULE in problem["message"], problem["message"]
    assert newest_seq(api) == before, "a refused request left a record in the ledger"


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_the_canonical_name_is_taken_at_every_entry_point(api: Api, entry: str) -> None:
    call, _ = ENTRY_POINTS[entry]

    response = call(api, "fraud-detector")

    assert response.status_code in (200, 201), response.text


@pytest.mark.parametrize(
    "name",
    [NAMES["trailing space"][0], NAMES["U+2010 hyphen"][0], NAMES["upper-case initial"][0]],
    ids=["trailing space", "U+2010 hyphen", "upper-case initial"],
)
def test_a_lookalike_of_a_model_judged_high_gets_no_low_tier_production_allow(
    api: Api, version: str, name: str
) -> None:
    for stage in ("staging", "canary"):  # judged as high-risk under its own name
        judged = api.decide(
            {"target": {"stage": stage}, "evidence": card_named("fraud-detector", version)}
        )
        assert judged.json()["outcome"] == "allow", judged.text
        assert judged.json()["model"]["risk_tier"] == "high"

    # The same artifact and version under a look-alike name, its card saying low risk: on
    # the look-alike nothing recorded for fraud-detector applied, and production allowed.
    for stage in ("staging", "canary", "production"):
        by_card = {"target": {"stage": stage}, "evidence": card_named(name, version, "low")}
        by_model = {**by_card, "model": {"name": name, "version": version}}
        for body in (by_card, by_model):
            response = api.decide(body)
            assert response.status_code == 422, f"{stage} under {name!r}: {response.text}"

    # So every decision on the version is listed under the model's one name.
    listed = api.client.get(
        "/v1/audit", params={"version": version, "kind": "decision"}, headers=api.headers("auditor")
    ).json()["records"]
    assert [r["model"]["name"] for r in listed] == ["fraud-detector"] * 2


def test_the_same_artifact_under_another_name_keeps_the_tier_it_was_judged_under(
    api: Api, version: str
) -> None:
    first = api.decide(
        {"target": {"stage": "staging"}, "evidence": card_named("fraud-detector", version)}
    ).json()
    assert (first["outcome"], first["model"]["risk_tier"]) == ("allow", "high")

    # Another valid name, the same artifact digest, a card that says low risk.
    renamed = {
        "model": {"name": "fraud-detector-2", "version": "1"},
        "target": {"stage": "staging"},
        "evidence": card_named("fraud-detector-2", "1", "low"),
    }
    decision = api.decide(renamed).json()

    assert decision["model"]["artifact_digest"] == first["model"]["artifact_digest"]
    assert decision["model"]["risk_tier"] == "high", decision
    assert decision["outcome"] == "deny"
    lowered = [r for r in decision["reasons"] if r["code"] == "RISK_TIER_LOWERED"]
    assert len(lowered) == 1, decision["reasons"]
    assert "judged as high-risk before" in lowered[0]["message"]
