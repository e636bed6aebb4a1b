"""Risk tiers set by judgement, not by accident: a decision without a valid card records no
tier, a signed tier change (POST /v1/tiers) moves it either way and later decisions are judged
under it, and no request can lower it. Through the real app, engine and ledger."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from service.api.auth import add_token
from tests.api.conftest import EVERY_DECIDER, Api, chosen_api, evidence

_models = itertools.count(1)


@pytest.fixture(scope="module", params=EVERY_DECIDER)
def api(request: pytest.FixtureRequest) -> Api:
    """The fast path, the route, and the decision path in worker processes."""
    return chosen_api(request)


@pytest.fixture
def model() -> str:
    """A model name (and so an artifact) no other test has judged."""
    return f"tiered-{next(_models)}"


def digest_of(model: str, version: str) -> str:
    return "sha256:" + f"{model}/{version}".encode().hex().ljust(64, "0")[:64]


def request_for(
    model: str, version: str, tier: str | None, stage: str = "staging", **card: Any
) -> dict[str, Any]:
    """The approved fixture's evidence for `model` `version` as its own artifact, its card
    naming `tier` (None: no card at all, as when the card artifact was misnamed), with `card`
    changed (a value of None removes a field)."""
    docs = evidence()
    docs["lineage"]["artifact_digest"] = digest_of(model, version)
    if tier is None:
        docs.pop("model_card")
    else:
        docs["model_card"].update(name=model, version=version, risk_tier=tier)
        for field, value in card.items():
            if value is None:
                docs["model_card"].pop(field)
            else:
                docs["model_card"][field] = value
    return {
        "model": {"name": model, "version": version},
        "target": {"stage": stage},
        "evidence": docs,
    }


def decide(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = api.decide(body)
    assert response.status_code == 200, response.text
    decided: dict[str, Any] = response.json()
    return decided


def codes(decision: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in decision["reasons"]]


def change_tier(
    api: Api, model: str, tier: str, role: str = "model-risk-officer", as_: str = "approver"
) -> Any:
    return api.client.post(
        "/v1/tiers",
        json={"model": model, "tier": tier, "role": role, "reason": "validation report read"},
        headers=api.headers(as_),
    )


def history(api: Api, model: str) -> dict[str, Any]:
    response = api.client.get(f"/v1/models/{model}/history", headers=api.headers("auditor"))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def test_a_first_attempt_without_a_card_is_denied_and_does_not_lock_the_tier(
    api: Api, model: str
) -> None:
    """The first attempt's card artifact was misnamed, so it had none: judged high-risk by
    default and denied. It used to hold every later version to high risk (RISK_TIER_LOWERED,
    non-waivable, no way back); the default was no one's judgement, so it records no tier."""
    first = decide(api, request_for(model, "1", None))
    assert first["outcome"] == "deny"
    assert (first["model"]["risk_tier"], first["model"]["records_tier"]) == ("high", False)

    fixed = decide(api, request_for(model, "2", "medium"))

    assert "RISK_TIER_LOWERED" not in codes(fixed), fixed["reasons"]
    assert (fixed["outcome"], fixed["model"]["risk_tier"]) == ("allow", "medium"), fixed
    assert fixed["model"]["records_tier"] is True


def test_an_invalid_card_records_no_tier_either(api: Api, model: str) -> None:
    """A card that names medium but breaks its schema (no owner) is denied; its tier is no
    one's considered judgement, so a later valid card naming low is judged under low."""
    invalid = decide(api, request_for(model, "1", "medium", owner=None))
    assert invalid["outcome"] == "deny"
    assert "model_card.owner" in {r.get("field") for r in invalid["reasons"]}
    assert invalid["model"]["records_tier"] is False

    valid = decide(api, request_for(model, "2", "low"))

    assert (valid["outcome"], valid["model"]["risk_tier"]) == ("allow", "low"), valid


def test_a_valid_card_still_records_the_tier_a_lower_card_cannot_undo(api: Api, model: str) -> None:
    decide(api, request_for(model, "1", "medium"))
    decide(api, request_for(model, "2", None))  # no card: changes nothing

    lowered = decide(api, request_for(model, "3", "low"))

    assert lowered["outcome"] == "deny"
    assert codes(lowered) == ["RISK_TIER_LOWERED"]
    assert lowered["model"]["risk_tier"] == "medium"
    assert f"{model} was judged as medium-risk before" in lowered["reasons"][0]["message"]
    assert "by model-risk-officer, never through a request" in lowered["reasons"][0]["message"]


def test_a_tier_raised_and_lowered_by_signed_changes_is_honoured(api: Api, model: str) -> None:
    judged = decide(api, request_for(model, "1", "medium"))
    assert judged["model"]["risk_tier"] == "medium"

    raised = change_tier(api, model, "high")
    assert raised.status_code == 201, raised.text
    up = raised.json()
    assert (up["tier"], up["from_tier"], up["changed_by"]) == ("high", "medium", "m.okafor")
    assert up["previous"]["decision_id"] == judged["decision_id"]

    # The card still says medium: the raised tier holds, and is judged under.
    held = decide(api, request_for(model, "2", "medium"))
    assert held["outcome"] == "deny" and codes(held) == ["RISK_TIER_LOWERED"], held
    assert held["model"]["risk_tier"] == "high"
    by_change = f"set to high by tier change {up['id']} (m.okafor as model-risk-officer)"
    assert by_change in held["reasons"][0]["message"]
    assert held["provenance"]["recorded_risk_tier"] == "ledger: tier changes"

    lowered = change_tier(api, model, "medium")
    assert lowered.status_code == 201, lowered.text
    down = lowered.json()
    # What it replaced: the denied decision judged under the raised tier, on a valid card.
    assert down["previous"] == {"tier": "high", "decision_id": held["decision_id"], "version": "2"}

    # After the signed change to medium, a card saying medium allows ...
    allowed = decide(api, request_for(model, "3", "medium"))
    assert (allowed["outcome"], allowed["model"]["risk_tier"]) == ("allow", "medium"), allowed
    # ... and one below the signed tier is still denied.
    below = decide(api, request_for(model, "4", "low"))
    assert codes(below) == ["RISK_TIER_LOWERED"], below
    assert below["model"]["risk_tier"] == "medium"

    shown = history(api, model)["tier_changes"]
    assert [(c["id"], c["tier"], c["from_tier"]) for c in shown] == [
        (down["id"], "medium", "high"),
        (up["id"], "high", "medium"),
    ]
    assert all(c["reason"] == "validation report read" for c in shown)
    listed = api.client.get(
        "/v1/audit", params={"kind": "tier_change", "model": model}, headers=api.headers("auditor")
    ).json()["records"]
    assert [(r["id"], r["content"]["tier"]) for r in listed] == [
        (down["id"], "medium"),
        (up["id"], "high"),
    ]
    verified = api.client.get("/v1/audit/verify", headers=api.headers("auditor")).json()
    assert verified["ok"] is True, verified


def test_a_request_never_lowers_the_tier(api: Api, model: str) -> None:
    decide(api, request_for(model, "1", "high"))

    claimed = request_for(model, "2", "high")
    claimed["model"]["risk_tier"] = "low"
    assert "RISK_TIER_CONFLICT" in codes(decide(api, claimed))

    carried = request_for(model, "2", "low")
    carried["evidence"]["recorded_risk_tier"] = {"tier": "low"}
    refused = api.decide(carried)
    assert refused.status_code == 422
    assert refused.json()["field"] == "evidence.recorded_risk_tier"

    by_the_gate = change_tier(api, model, "low", as_="gate")
    assert by_the_gate.status_code == 403

    assert codes(decide(api, request_for(model, "2", "low"))) == ["RISK_TIER_LOWERED"]
    assert history(api, model)["tier_changes"] == []


def test_a_tier_change_in_a_role_not_allowed_is_refused_naming_the_roles(
    api: Api, model: str
) -> None:
    # The approver's token signs as "r" too, but the promotion data lets only
    # model-risk-officer change a tier.
    response = change_tier(api, model, "low", role="r")

    assert response.status_code == 422
    assert response.json()["field"] == "role"
    assert "a risk tier may be changed as model-risk-officer" in response.json()["message"]
    assert history(api, model)["tier_changes"] == []


def test_a_tier_change_in_a_role_the_token_does_not_hold_is_refused(api: Api, model: str) -> None:
    token = add_token(api.settings.resolved_tokens_file, f"j.doe-{model}", "approver", ("cro",))
    response = api.client.post(
        "/v1/tiers",
        json={"model": model, "tier": "low", "role": "model-risk-officer", "reason": "why"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 422
    assert response.json()["field"] == "role"
    assert "may sign as cro (approves_as), not 'model-risk-officer'" in response.json()["message"]


def test_who_asked_for_a_decision_on_the_model_may_not_change_its_tier(
    api: Api, model: str
) -> None:
    """alice asks for promotions and approves: the party being gated does not set its tier."""
    asked = api.client.post(
        "/v1/decisions/promotion",
        json=request_for(model, "1", "high"),
        headers=api.headers("alice-gate"),
    )
    assert asked.status_code == 200

    response = change_tier(api, model, "low", as_="alice-approver")

    assert response.status_code == 403
    assert response.json()["message"] == (
        f"alice requested a decision on {model}, so may not change its risk tier; another "
        "approver must"
    )
    assert history(api, model)["tier_changes"] == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"tier": "critical"}, "tier"),
        ({"tier": None}, "tier"),
        ({"reason": ""}, "reason"),
        ({"model": "Fraud-Detector"}, "model"),
        ({"role": ""}, "role"),
    ],
)
def test_a_bad_tier_change_is_422_naming_the_field(
    api: Api, model: str, fields: dict[str, Any], field: str
) -> None:
    body = {"model": model, "tier": "low", "role": "model-risk-officer", "reason": "why"}
    body.update(fields)

    response = api.client.post("/v1/tiers", json=body, headers=api.headers("approver"))

    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


def test_the_same_tier_change_again_answers_200_and_records_nothing(api: Api, model: str) -> None:
    decide(api, request_for(model, "1", "medium"))
    first = change_tier(api, model, "high")

    again = change_tier(api, model, "high")

    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json() == first.json()
    assert [c["id"] for c in history(api, model)["tier_changes"]] == [first.json()["id"]]


def test_the_same_tier_change_after_a_card_raised_the_tier_is_recorded_again(
    api: Api, model: str
) -> None:
    """Not a repeat: a decision on a valid card raised the tier since, so the change lowers it
    again."""
    first = change_tier(api, model, "medium")
    decide(api, request_for(model, "1", "high"))

    again = change_tier(api, model, "medium")

    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json()["from_tier"] == "high"
    assert len(history(api, model)["tier_changes"]) == 2
