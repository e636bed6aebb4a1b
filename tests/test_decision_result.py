"""The policy's decision as the service checks it: what schemas/decision.schema.json lets
through, and the risk tier the promotion policy names beside the service's own reckoning."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from service.gate import judged_risk_tier

from service.decision import check_policy_result
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


def _tier_variants() -> list[Any]:
    """Every evidence fixture, then the approved one under each card and recorded tier."""
    found = [
        pytest.param(fixture_input(path.name), id=path.name)
        for path in sorted(EVIDENCE_DIR.iterdir())
    ]
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
            found.append(pytest.param(doc, id=f"card {card}, recorded {recorded}"))
    return found


@pytest.mark.parametrize("doc", _tier_variants())
def test_the_policy_names_the_tier_the_service_works_out(
    engine: EmbeddedEngine, doc: dict[str, Any]
) -> None:
    """A differential test: the tier in the policy's decision is the one service/gate.py
    derives from the same input, so the service can take the policy's."""
    decision = engine.evaluate("promotion", doc)

    assert decision["risk_tier"] == judged_risk_tier(doc)
