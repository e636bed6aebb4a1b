"""Model cards in the forms people publish (Hugging Face README.md, Model Card Toolkit JSON)
give the same decision as the equivalent mlgate card."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.decision.judge import Judge
from service.evidence.cards import CARD_FORMS, read_card
from service.evidence.mlflow import find_card
from tests.conftest import PROJECT_ROOT, fixture_input

CARDS = PROJECT_ROOT / "fixtures" / "cards"


@pytest.mark.parametrize("form", ["hugging-face", "model-card-toolkit"])
@pytest.mark.parametrize("stage", ["staging", "production"])
def test_a_published_card_gives_the_same_decision_as_the_mlgate_card(
    gatekeeper: Judge, form: str, stage: str
) -> None:
    native = fixture_input("approved", stage)
    card = read_card(CARDS / form)
    assert card is not None
    translated = {**native, "model_card": card}

    ours, theirs = gatekeeper.evaluate(native), gatekeeper.evaluate(translated)

    assert (theirs.outcome, theirs.reasons, theirs.warnings) == (
        ours.outcome,
        ours.reasons,
        ours.warnings,
    )


def test_each_form_fills_the_sections_a_high_risk_card_needs() -> None:
    for form in ("hugging-face", "model-card-toolkit"):
        card = read_card(CARDS / form)
        assert card is not None
        assert card["name"] == "fraud-detector" and card["version"] == "7"
        assert card["ethical_considerations"] and card["monitoring_plan"]
        assert card["owner"] == {
            "team": "payments-risk-ml",
            "contact": "payments-risk-ml@example.com",
        }


def test_no_card_in_any_form_names_the_forms_accepted(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a card")

    card, problem = find_card([tmp_path])

    assert card is None
    assert all(form in problem for form in CARD_FORMS)
