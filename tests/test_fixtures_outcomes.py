"""Each evidence fixture gives its outcome, with reasons naming metric, field and threshold."""

from __future__ import annotations

import pytest

from service.decision.judge import Judge
from tests.conftest import fixture_input

EXPECTED = {
    "approved": ("allow", [], []),
    "regressed": ("deny", ["METRIC_REGRESSION_ABSOLUTE"], []),
    "incomplete-card": ("deny", ["EVIDENCE_INVALID", "CARD_SECTION_MISSING"], []),
    "missing-lineage": (
        "deny",
        [
            "LINEAGE_ARTIFACT_DIGEST_MISSING",
            "LINEAGE_COMMIT_MISSING",
            "LINEAGE_DATASET_DIGEST_MISSING",
            # its approval names an artifact digest, and this version has none to match it
            "APPROVAL_PENDING",
        ],
        # ... which the decision says of the approval
        ["SIGNOFF_NOT_APPLIED"],
    ),
    "high-risk-pending-approval": ("hold", ["APPROVAL_PENDING"], []),
    "waived": ("allow", [], ["METRIC_REGRESSION_ABSOLUTE"]),
    "expired-waiver": ("deny", ["METRIC_REGRESSION_ABSOLUTE"], ["SIGNOFF_NOT_APPLIED"]),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_outcome(gatekeeper: Judge, name: str) -> None:
    outcome, codes, warnings = EXPECTED[name]

    decision = gatekeeper.evaluate(fixture_input(name))

    assert (
        decision.outcome,
        [r.code for r in decision.reasons],
        [w.code for w in decision.warnings],
    ) == (outcome, codes, warnings)


def test_the_expired_waiver_fixture_names_the_waiver_that_lapsed(gatekeeper: Judge) -> None:
    """It denied with the regression alone and no warning: the waiver that lapsed on
    2026-10-31 was not mentioned."""
    [warning] = gatekeeper.evaluate(fixture_input("expired-waiver")).warnings

    assert warning.code == "SIGNOFF_NOT_APPLIED"
    assert warning.field == "waivers"
    assert warning.message == (
        "waiver of METRIC_REGRESSION_ABSOLUTE by c.lindqvist@example.com as model-risk-officer "
        "was not applied: it expired at 2026-10-31T00:00:00Z"
    )


def test_regression_reason_quotes_metric_values_and_threshold(gatekeeper: Judge) -> None:
    [reason] = gatekeeper.evaluate(fixture_input("regressed")).reasons

    assert reason.metric == "auc"
    assert reason.actual == 0.9318
    assert reason.threshold == 0.9357
    assert reason.message == (
        "auc 0.9318 against the champion v5's 0.9357: "
        "the change -0.0039 misses min_absolute_change 0, so it needs at least 0.9357"
    )
    assert reason.baseline == 0.9357
    assert reason.controls == ["SR 11-7 III.B", "NIST AI RMF MEASURE 2.13"]


def test_waived_fixture_carries_the_waiver_as_a_warning(gatekeeper: Judge) -> None:
    [warning] = gatekeeper.evaluate(fixture_input("waived")).warnings

    assert warning.code == "METRIC_REGRESSION_ABSOLUTE"
    assert warning.waiver is not None
    assert warning.waiver["approved_by"] == "c.lindqvist@example.com"
    assert warning.waiver["expires_at"] == "2030-12-31T00:00:00Z"


def test_staging_needs_no_history_or_approval(gatekeeper: Judge) -> None:
    doc = fixture_input("high-risk-pending-approval", stage="staging")
    del doc["history"]

    assert gatekeeper.evaluate(doc).outcome == "allow"
