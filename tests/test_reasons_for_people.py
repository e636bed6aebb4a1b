"""The reasons a platform engineer reads for fairness, regression and card sections, through the
real gate on the approved fixture (findings 3, 5 and 7)."""

from __future__ import annotations

import pytest

from service.decision.judge import Judge
from tests.conftest import fixture_input


def test_a_group_that_leaves_out_tpr_cannot_hide_a_fairness_gap(gatekeeper: Judge) -> None:
    # On the old code, age band 18-25 at tpr 0.55 denied and leaving its tpr out allowed.
    doc = fixture_input("approved")
    del doc["metrics"]["by_group"]["age_band"]["18-25"]["tpr"]

    decision = gatekeeper.evaluate(doc)

    assert decision.outcome == "deny"
    assert [r.model_dump(exclude_none=True) for r in decision.reasons] == [
        {
            "rule": "Per-group metrics for protected attributes",
            "code": "FAIRNESS_EVIDENCE_MISSING",
            "severity": "high",
            "message": "group 18-25 of protected attribute age_band reports no tpr "
            "(metrics.by_group.age_band.18-25.tpr)",
            "field": "metrics.by_group.age_band.18-25.tpr",
            "metric": "tpr",
            "controls": ["EU AI Act Art. 10(2)(f)", "NIST AI RMF MEASURE 2.11"],
        }
    ]


@pytest.mark.parametrize(
    ("groups", "codes"),
    [
        ({}, ["FAIRNESS_GROUPS_TOO_FEW"]),
        ({"uk": {"tpr": 0.64}}, ["FAIRNESS_GROUPS_TOO_FEW"]),
        (
            {"uk": {"tpr": 0.64}, "eu": {"fpr": 0.01}},
            ["FAIRNESS_EVIDENCE_MISSING", "FAIRNESS_GROUPS_TOO_FEW"],
        ),
        ({"uk": {"tpr": 0.64}, "eu": {"tpr": 0.55}}, ["FAIRNESS_GAP_EXCEEDED"]),
        ({"uk": {"tpr": 0.64}, "eu": {"tpr": 0.63}}, []),
    ],
)
def test_fairness_needs_every_group_and_at_least_two(
    gatekeeper: Judge, groups: dict[str, dict[str, float]], codes: list[str]
) -> None:
    doc = fixture_input("approved")
    doc["metrics"]["by_group"]["region"] = groups

    assert sorted(r.code for r in gatekeeper.evaluate(doc).reasons) == codes


def test_relative_regression_reason_is_in_the_metrics_unit(gatekeeper: Judge) -> None:
    # On the old code: code METRIC_REGRESSION, actual 34.0 ms against threshold -0.1 (a ratio).
    doc = fixture_input("approved")
    doc["metrics"]["values"]["latency_p99_ms"] = 34.0

    [reason] = gatekeeper.evaluate(doc).reasons

    assert reason.model_dump(exclude_none=True) == {
        "rule": "No regression against the champion (relative)",
        "code": "METRIC_REGRESSION_RELATIVE",
        "severity": "high",
        "message": "latency_p99_ms 34 against the champion v5's 29.8: the relative change "
        "-14.094% misses min_relative_change -10%, so it needs at most 32.78 (a negative "
        "minimum is mlgate's tolerated drop; MLflow takes only positive ones)",
        "metric": "latency_p99_ms",
        "actual": 34.0,
        "threshold": 32.78,
        "baseline": 29.8,
        "relative_change": -0.14093959731543623,  # -4.2 / 29.8 in OPA's decimal arithmetic
        "controls": ["SR 11-7 III.B", "NIST AI RMF MEASURE 2.13"],
    }


@pytest.mark.parametrize("text", ["\u200b", " \u200c\u200d ", "\u2060\t", "\u00a0"])
def test_a_card_section_without_a_visible_character_is_missing(
    gatekeeper: Judge, text: str
) -> None:
    # On the old code a zero-width space counted as a filled-in section.
    doc = fixture_input("approved")
    doc["model_card"]["monitoring_plan"] = text

    assert [(r.code, r.field) for r in gatekeeper.evaluate(doc).reasons] == [
        ("CARD_SECTION_MISSING", "model_card.monitoring_plan")
    ]
