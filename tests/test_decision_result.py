"""The policy's decision as the service checks it: what schemas/decision.schema.json lets
through, and the risk tier the promotion policy names beside the service's own reckoning."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from service.decision.checks import check_policy_result
from service.engine.embedded import EmbeddedEngine
from service.schemas import default_schemas
from tests.conftest import EVIDENCE_DIR, fixture_input

ALLOW = {"outcome": "allow", "reasons": [], "warnings": []}


@pytest.mark.parametrize(
    "extra",
    [{}, {"risk_tier": "low"}, {"risk_tier": "high"}, {"target_version": "5"}],
    ids=["neither", "low tier", "high tier", "target version"],
)
def test_a_decision_may_name_its_tier_and_target_version(extra: dict[str, Any]) -> None:
    result = {**ALLOW, **extra}

    assert check_policy_result("promotion", result, default_schemas()) == (result, [])


@pytest.mark.parametrize(
    "extra",
    [{"risk_tier": "critical"}, {"risk_tier": None}, {"target_version": 5}],
    ids=["unknown tier", "null tier", "numeric target version"],
)
def test_a_decision_naming_a_malformed_tier_or_target_denies(extra: dict[str, Any]) -> None:
    result, problems = check_policy_result("promotion", {**ALLOW, **extra}, default_schemas())

    assert result == {}
    assert [r.code for r in problems] == ["POLICY_RESULT_INVALID"]


RANK = {"low": 0, "medium": 1, "high": 2}


def _tier_variants() -> list[Any]:
    """The approved fixture under each card and recorded tier, with the tier the policy must
    judge under: the card's (high when it names none), or the recorded one when higher (a tier
    is never lowered through a request)."""
    found = []
    for card in ("low", "medium", "high", None):
        for recorded in ("low", "medium", "high", None):
            doc = copy.deepcopy(fixture_input("approved"))
            doc["model"].pop("risk_tier", None)
            if card is None:
                doc["model_card"].pop("risk_tier", None)
            else:
                doc["model_card"]["risk_tier"] = card
            if recorded is not None:
                doc["recorded_risk_tier"] = {"tier": recorded}
            expected = max([card or "high", recorded or "low"], key=RANK.__getitem__)
            found.append(pytest.param(doc, expected, id=f"card {card}, recorded {recorded}"))
    return found


@pytest.mark.parametrize(("doc", "expected"), _tier_variants())
def test_the_policy_names_the_tier_it_judged_under(
    engine: EmbeddedEngine, doc: dict[str, Any], expected: str
) -> None:
    """The service records the tier from the policy's decision and no longer works it out
    itself, so the policy's answer is pinned here for every pair of card and recorded tier."""
    decision = engine.evaluate("promotion", doc)

    assert decision["risk_tier"] == expected


@pytest.mark.parametrize("name", sorted(p.name for p in EVIDENCE_DIR.iterdir() if p.is_dir()))
def test_every_fixture_names_its_cards_tier(engine: EmbeddedEngine, name: str) -> None:
    doc = fixture_input(name)

    decision = engine.evaluate("promotion", doc)

    assert decision["risk_tier"] == doc["model_card"].get("risk_tier", "high")
