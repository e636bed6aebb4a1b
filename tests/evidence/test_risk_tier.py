"""The recorded risk tier follows the artifact as well as the name (service/evidence/risk_tier.py):
the same artifact under another name keeps the highest tier it was judged under. Only a
decision on a valid card records one, and a signed tier change replaces what came before it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.audit.keys import KeyFiles, init_keys
from service.audit.ledger import Ledger
from service.decision.recording import pending_decision
from service.evidence.risk_tier import recorded_risk_tier
from service.signoffs.tiers import TierBook
from tests.audit.factory import StoreFactory, make_decision, make_input

ARTIFACT = "sha256:" + "9b" * 32
OTHER = "sha256:" + "0f" * 32


@pytest.fixture(params=["sqlite", "postgres"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    files = KeyFiles.in_dir(tmp_path / "keys")
    init_keys(files)
    if request.param == "sqlite":
        stores = StoreFactory("sqlite", str(tmp_path / "ledger.sqlite3"))
    else:
        stores = StoreFactory("postgres", request.getfixturevalue("postgres_url"))
    with stores.ledger(files) as opened:
        yield opened


def judged(
    ledger: Ledger,
    name: str,
    tier: str | None,
    digest: str = ARTIFACT,
    records_tier: bool | None = None,
) -> str:
    """Record a decision on `name` v7 of artifact `digest` judged under `tier`; its id.
    `records_tier` None is a decision recorded before the field existed."""
    doc = make_input(model=name)
    doc["model"]["artifact_digest"] = digest
    decision, doc = make_decision(doc)
    model = decision.model.model_copy(update={"risk_tier": tier, "records_tier": records_tier})
    decision = decision.model_copy(update={"model": model})
    ledger.record(pending_decision(decision, doc))
    return decision.decision_id


def tier_of(found: dict[str, Any] | None) -> tuple[str, str] | None:
    return (found["tier"], found["decision_id"]) if found else None


def changed_to(found: dict[str, Any] | None) -> tuple[str, str] | None:
    return (found["tier"], found["tier_change_id"]) if found else None


def test_nothing_recorded_is_no_tier(ledger: Ledger) -> None:
    assert recorded_risk_tier(ledger, "fraud-detector", ARTIFACT) is None


def test_the_same_artifact_under_another_name_keeps_its_tier(ledger: Ledger) -> None:
    first = judged(ledger, "fraud-detector", "high")

    found = recorded_risk_tier(ledger, "fraud-detector-2", ARTIFACT)

    assert found == {"tier": "high", "decision_id": first, "version": "7"}


def test_the_higher_of_the_names_tier_and_the_artifacts_holds(ledger: Ledger) -> None:
    high = judged(ledger, "fraud-detector", "high")
    own = judged(ledger, "fraud-detector-2", "medium", OTHER)

    assert tier_of(recorded_risk_tier(ledger, "fraud-detector-2", ARTIFACT)) == ("high", high)
    assert tier_of(recorded_risk_tier(ledger, "fraud-detector-2", OTHER)) == ("medium", own)


def test_on_a_tie_the_models_own_decision_is_named(ledger: Ledger) -> None:
    judged(ledger, "fraud-detector", "high")
    own = judged(ledger, "fraud-detector-2", "high", OTHER)

    assert tier_of(recorded_risk_tier(ledger, "fraud-detector-2", ARTIFACT)) == ("high", own)


def test_a_lower_tier_recorded_later_on_the_artifact_does_not_lower_it(ledger: Ledger) -> None:
    """A ledger written before names had one form may hold the artifact judged low under a
    look-alike after it was judged high: the artifact's highest recent tier holds."""
    high = judged(ledger, "fraud-detector", "high")
    judged(ledger, "Fraud-detector", "low")
    judged(ledger, "fraud-detector", None)  # the engine failed: no tier

    assert tier_of(recorded_risk_tier(ledger, "fraud-detector-2", ARTIFACT)) == ("high", high)


def test_without_a_digest_only_the_name_counts(ledger: Ledger) -> None:
    judged(ledger, "fraud-detector", "high")

    assert recorded_risk_tier(ledger, "fraud-detector-2") is None
    assert recorded_risk_tier(ledger, "fraud-detector-2", OTHER) is None


def changed(ledger: Ledger, name: str, tier: str) -> str:
    """Record a signed tier change of `name` to `tier`; its id."""
    change = TierBook(ledger).change(
        model=name,
        tier=tier,
        role="model-risk-officer",
        changed_by="cro@example.com",
        reason="reviewed",
        previous=lambda: recorded_risk_tier(ledger, name),
    )
    return str(change.content["id"])


def test_a_decision_without_a_valid_card_records_no_tier(ledger: Ledger) -> None:
    """A first attempt without a card is judged high by default: that is no one's judgement,
    so it holds neither the name nor the artifact to high risk."""
    judged(ledger, "fraud-detector", "high", records_tier=False)

    assert recorded_risk_tier(ledger, "fraud-detector", ARTIFACT) is None
    assert recorded_risk_tier(ledger, "fraud-detector-2", ARTIFACT) is None


def test_the_newest_decision_on_a_valid_card_holds_past_later_ones_without(
    ledger: Ledger,
) -> None:
    medium = judged(ledger, "fraud-detector", "medium", OTHER, records_tier=True)
    judged(ledger, "fraud-detector", "high", records_tier=False)

    assert tier_of(recorded_risk_tier(ledger, "fraud-detector", ARTIFACT)) == ("medium", medium)


def test_a_tier_change_lowers_what_was_judged_before_it(ledger: Ledger) -> None:
    judged(ledger, "fraud-detector", "high", records_tier=True)
    change = changed(ledger, "fraud-detector", "medium")

    found = recorded_risk_tier(ledger, "fraud-detector", ARTIFACT)

    assert changed_to(found) == ("medium", change)
    assert found is not None
    assert (found["changed_by"], found["role"]) == ("cro@example.com", "model-risk-officer")


def test_a_tier_change_raises_the_tier_and_a_later_decision_holds_it(ledger: Ledger) -> None:
    judged(ledger, "fraud-detector", "low", records_tier=True)
    change = changed(ledger, "fraud-detector", "high")
    assert changed_to(recorded_risk_tier(ledger, "fraud-detector", ARTIFACT)) == ("high", change)

    after = judged(ledger, "fraud-detector", "high", records_tier=True)

    assert tier_of(recorded_risk_tier(ledger, "fraud-detector", ARTIFACT)) == ("high", after)


def test_a_tier_change_is_the_models_own(ledger: Ledger) -> None:
    """A change of one name leaves the tier an artifact was judged under elsewhere as it is
    for every other name."""
    high = judged(ledger, "fraud-detector", "high", records_tier=True)
    change = changed(ledger, "fraud-detector", "low")

    assert tier_of(recorded_risk_tier(ledger, "fraud-detector-2", ARTIFACT)) == ("high", high)
    assert changed_to(recorded_risk_tier(ledger, "fraud-detector", ARTIFACT)) == ("low", change)
