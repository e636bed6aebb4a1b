"""Canary versus baseline (service/monitoring/analysis.py): the p-value against scipy, a worked
example by hand, every classification and its boundaries, the interval against a line-by-line
port of Kayenta's MannWhitney.scala and R's figures, the classifications against Kayenta's own
ClassifierSuite, and the window of snapshots."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import jsonschema_rs
import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import mannwhitneyu, norm, rankdata

from service.errors import PolicyLoadError
from service.monitoring import analysis
from service.monitoring.analysis import (
    PairwiseDifferences,
    compare,
    compare_window,
    rank_score,
    shift_interval,
)
from service.settings import PROJECT_ROOT

KAYENTA_CASES = json.loads((Path(__file__).parent / "kayenta_cases.json").read_text())

LOW_FIVE = [10.0, 11.0, 12.0, 13.0, 14.0]
HIGH_FIVE = [20.0, 21.0, 22.0, 23.0, 24.0]
# Overlapping: U = 22 of 25, exact p = 14/252 = 0.056, interval [-1, 11] spans 0.
OVERLAP_CANARY = [15.0, 17.0, 19.0, 21.0, 23.0]
OVERLAP_BASELINE = [10.0, 12.0, 14.0, 16.0, 18.0]


def operational(**settings: Any) -> dict[str, Any]:
    return {"source": "operational", **settings}


def classification(canary: list[float], baseline: list[float], **settings: Any) -> str:
    return str(compare("m", canary, baseline, operational(**settings))["classification"])


# --- The p-value is scipy's --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("m", "n", "rounding"),
    [(5, 7, None), (8, 8, None), (30, 40, None), (30, 40, 1), (200, 150, 0), (1000, 1000, None)],
)
def test_the_p_value_is_scipys_two_sided_mann_whitney(m: int, n: int, rounding: int | None) -> None:
    rng = np.random.default_rng(20261121 + m + n)
    canary, baseline = rng.normal(10.3, 2, m), rng.normal(10, 2, n)
    if rounding is not None:  # ties
        canary, baseline = canary.round(rounding), baseline.round(rounding)

    result = compare("latency_p95_ms", list(canary), list(baseline), operational())

    expected = mannwhitneyu(canary, baseline, alternative="two-sided").pvalue
    assert result["p_value"] == pytest.approx(expected, rel=1e-12)


# --- A worked example ---------------------------------------------------------------------------


def test_worked_example_five_above_five_is_high_beyond_the_allowed_increase() -> None:
    """Canary 20 21 22 23 24 against baseline 10 11 12 13 14, by hand:

    - U = 25: each of the 5 canary values is above each of the 5 baseline values.
    - p = 2/252 = 0.0079365: without ties scipy uses the exact distribution; of the
      C(10, 5) = 252 orderings one gives U = 25 and one U = 0, and the test is two-sided.
    - ratio = mean 22 / mean 12 = 1.8333.
    - The 25 differences canary - baseline are 10 + i - j (i, j = 0..4): 6 once, 7 twice,
      8 three times, 9 four, 10 five, 11 four, 12 three, 13 twice, 14 once. Hodges-Lehmann:
      the middle (13th) one, 10.
    - sigma = sqrt(5 * 5 * (5 + 5 + 1) / 12) = 4.7871, z = 1.95996 (95%), z * sigma = 9.3826:
      kl = floor(12.5 - 9.3826 - 0.5) + 1 = 3 and ku = 26 - 3 = 23, so the interval is
      [D_(3), D_(23)] = [7, 13].
    - The bound is 25% of the estimate, 2.5; the interval lies above it: the canary is higher.
    - allowed_increase 1.5: the ratio 1.8333 reaches it: high. With 2.0 it would not: pass.
    """
    settings = operational(direction="increase", allowed_increase=1.5, critical=True)

    result = compare("latency_p95_ms", HIGH_FIVE, LOW_FIVE, settings)

    assert result == {
        "metric": "latency_p95_ms",
        "source": "operational",
        "direction": "increase",
        "critical": True,
        "must_have_data": False,
        "confidence": 0.95,
        "canary": {"n": 5, "mean": 22.0},
        "baseline": {"n": 5, "mean": 12.0},
        "p_value": pytest.approx(2 / 252),
        "effect_size": pytest.approx(22 / 12),
        "location_shift": 10.0,
        "classification": "high",
        "explanation": "latency_p95_ms: canary mean 22 over 5 intervals, baseline mean 12 over 5; "
        "ratio 1.83333; shift canary - baseline 10 (Hodges-Lehmann); Mann-Whitney p = 0.00794; "
        "the 95% interval [7, 13] lies above +2.5 (25% of the estimate): the canary is higher, "
        "and the ratio 1.83333 reaches the allowed increase 1.5: high",
    }
    assert shift_interval(np.array(HIGH_FIVE), np.array(LOW_FIVE), 0.95) == (
        analysis.ShiftInterval(lower=7.0, upper=13.0, estimate=10.0)
    )
    assert classification(HIGH_FIVE, LOW_FIVE, allowed_increase=2.0) == "pass"


def test_worked_example_overlapping_five_is_not_significant() -> None:
    """Canary 15 17 19 21 23 against baseline 10 12 14 16 18: U = 22 (15 is above three
    baseline values, 17 above four, the rest above all five), so p = 2 * 7/252 = 0.0556 (the
    orderings with U <= 3 number 1 + 1 + 2 + 3 = 7). The differences are 5 + 2(i - j): -3 once,
    -1 twice, 1 three times, 3 four, 5 five, 7 four, 9 three, 11 twice, 13 once; the interval
    [D_(3), D_(23)] = [-1, 11] holds 0, whatever the ratio 19/14 = 1.357: pass."""
    result = compare("m", OVERLAP_CANARY, OVERLAP_BASELINE, operational())

    assert (result["p_value"], result["location_shift"], result["classification"]) == (
        pytest.approx(14 / 252),
        5.0,
        "pass",
    )
    assert result["explanation"].endswith(
        "the 95% interval [-1, 11] does not clear +/-1.25 (25% of the estimate): "
        "no significant shift: pass"
    )


# --- Every classification -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("canary", "baseline", "direction", "expected"),
    [
        (HIGH_FIVE, LOW_FIVE, "increase", "high"),
        (HIGH_FIVE, LOW_FIVE, "either", "high"),
        (HIGH_FIVE, LOW_FIVE, "decrease", "pass"),
        (LOW_FIVE, HIGH_FIVE, "decrease", "low"),
        (LOW_FIVE, HIGH_FIVE, "either", "low"),
        (LOW_FIVE, HIGH_FIVE, "increase", "pass"),
        (OVERLAP_CANARY, OVERLAP_BASELINE, "either", "pass"),
    ],
    ids=[
        "higher is high when increase is harmful",
        "higher is high when either is harmful",
        "higher passes when only decrease is harmful",
        "lower is low when decrease is harmful",
        "lower is low when either is harmful",
        "lower passes when only increase is harmful",
        "an insignificant shift passes",
    ],
)
def test_classification_follows_the_harmful_direction(
    canary: list[float], baseline: list[float], direction: str, expected: str
) -> None:
    assert classification(canary, baseline, direction=direction) == expected


@pytest.mark.parametrize(
    ("allowed", "expected"),
    [
        (22 / 12, "high"),
        (math.nextafter(22 / 12, math.inf), "pass"),
        (math.nextafter(22 / 12, 0), "high"),
    ],
    ids=["at the ratio", "just over the ratio", "just under the ratio"],
)
def test_a_significant_increase_within_the_allowed_increase_passes(
    allowed: float, expected: str
) -> None:
    assert classification(HIGH_FIVE, LOW_FIVE, allowed_increase=allowed) == expected


@pytest.mark.parametrize(
    ("allowed", "expected"),
    [
        (12 / 22, "low"),
        (math.nextafter(12 / 22, 0), "pass"),
        (math.nextafter(12 / 22, 1), "low"),
    ],
    ids=["at the ratio", "just under the ratio", "just over the ratio"],
)
def test_a_significant_decrease_within_the_allowed_decrease_passes(
    allowed: float, expected: str
) -> None:
    assert classification(LOW_FIVE, HIGH_FIVE, allowed_decrease=allowed) == expected


@pytest.mark.parametrize(
    ("tolerance", "expected"),
    [(0.69, "high"), (0.7, "high"), (0.71, "pass")],
    ids=["bound under the end", "bound on the end", "bound over the end"],
)
def test_the_interval_must_clear_the_tolerance_bound(tolerance: float, expected: str) -> None:
    """Interval [7, 13], estimate 10: the bound is tolerance * 10. On the end itself (7.0) the
    test at shift 7 decides: canary - 7 is 13..17 against 10..14, W = 22 + 2/2 = 23,
    dz = 10.5, sigma = 4.758 (two pairs tie), z = (10.5 - 0.5) / 4.758 = 2.10 >= 1.96."""
    result = compare("m", HIGH_FIVE, LOW_FIVE, operational(), tolerance=tolerance)

    assert result["classification"] == expected
    assert rank_score(np.array(HIGH_FIVE), np.array(LOW_FIVE), 7.0) == pytest.approx(2.1017, 1e-4)


@pytest.mark.parametrize(
    ("canary", "baseline", "missing"),
    [
        ([], LOW_FIVE, "canary"),
        (LOW_FIVE, [], "baseline"),
        ([], [], "canary and baseline"),
        ([None, math.nan, None], LOW_FIVE, "canary"),
        (LOW_FIVE, [math.nan, math.nan], "baseline"),
    ],
    ids=["empty canary", "empty baseline", "both empty", "canary all missing", "baseline all NaN"],
)
def test_a_side_without_values_is_nodata(
    canary: list[float | None], baseline: list[float | None], missing: str
) -> None:
    result = compare("error_rate", canary, baseline, operational(must_have_data=True))

    assert {k: v for k, v in result.items() if k not in ("canary", "baseline")} == {
        "metric": "error_rate",
        "source": "operational",
        "direction": "either",
        "critical": False,
        "must_have_data": True,
        "confidence": 0.95,
        "p_value": None,
        "effect_size": None,
        "location_shift": None,
        "classification": "nodata",
        "explanation": f"error_rate: no {missing} values in the judged intervals; "
        "the metric must have data: nodata",
    }


def test_missing_values_are_dropped_before_the_test() -> None:
    with_gaps = [20.0, None, 21.0, math.nan, 22.0, 23.0, 24.0]

    assert compare("m", with_gaps, LOW_FIVE, operational()) == compare(
        "m", HIGH_FIVE, LOW_FIVE, operational()
    )


@pytest.mark.parametrize(
    ("canary", "baseline", "verdict"),
    [
        ([1.0, 2.0, 3.0, 4.0, 5.0], [5.0, 4.0, 3.0, 2.0, 1.0], "values are identical: pass"),
        ([1.0, 1.0, 1.0], [1.0, 1.0], "every canary and baseline value is 1: pass"),
        ([0.0] * 5, [0.0] * 5, "values are identical: pass"),
    ],
    ids=["identical series", "one value shared by all", "all zeros"],
)
def test_identical_series_pass_without_a_test(
    canary: list[float], baseline: list[float], verdict: str
) -> None:
    result = compare("m", canary, baseline, operational(direction="increase"))

    assert (result["classification"], result["location_shift"]) == ("pass", 0.0)
    assert result["explanation"].endswith(verdict)


def test_a_baseline_mean_of_zero_leaves_the_interval_alone_to_decide() -> None:
    canary, baseline = [54.9, 54.5, 55.1, 55.6, 57.4], [0.0] * 5

    result = compare("m", canary, baseline, operational(allowed_increase=1.2))

    assert (result["effect_size"], result["classification"]) == (None, "high")
    assert "ratio undefined (baseline mean 0)" in result["explanation"]
    assert result["explanation"].endswith(
        "and with a baseline mean of 0 there is no ratio to weigh: high"
    )
    assert classification(canary, baseline, direction="decrease") == "pass"


def test_a_canary_mean_of_zero_is_a_ratio_of_zero() -> None:
    result = compare("m", [0.0] * 5, [54.9, 54.5, 55.1, 55.6, 57.4], operational())

    assert (result["effect_size"], result["classification"]) == (0.0, "low")


@pytest.mark.parametrize(
    ("canary_ones", "baseline_ones", "expected"),
    [(12, 2, "high"), (2, 12, "low"), (6, 4, "pass")],
    ids=["more ones in the canary", "fewer ones in the canary", "about as many"],
)
def test_mostly_zeros_on_both_sides_is_decided_by_the_test_at_zero(
    canary_ones: int, baseline_ones: int, expected: str
) -> None:
    """42 intervals a side, each 0 or 1: most differences are 0, so the interval is [0, 0] and
    the estimate 0; whether the interval clears the bound 0 is whether the test at shift 0
    rejects, which is the p-value's test."""
    canary = [1.0] * canary_ones + [0.0] * (42 - canary_ones)
    baseline = [1.0] * baseline_ones + [0.0] * (42 - baseline_ones)

    result = compare("error_count", canary, baseline, operational())

    assert (result["location_shift"], result["classification"]) == (0.0, expected)
    assert "the 95% interval [0, 0]" in result["explanation"]
    assert (result["p_value"] < 0.05) == (expected != "pass")


def test_too_few_values_for_the_confidence_pass() -> None:
    """3 against 3 cannot reach 95%: the largest rank statistic, dz - 1/2 = 4, is below
    z * sigma = 1.96 * 2.29 = 4.49 (the exact p-value of a complete separation is 2/20 = 0.1).
    Kayenta's root finder would return the extreme differences [8, 12] and call it high."""
    result = compare("m", [20.0, 21.0, 22.0], [10.0, 11.0, 12.0], operational())

    assert (result["p_value"], result["classification"]) == (pytest.approx(0.1), "pass")
    assert result["explanation"].endswith(
        "95% confidence cannot be reached with so few values, so no shift is significant: pass"
    )
    assert kayenta_interval(np.array([20.0, 21.0, 22.0]), np.array([10.0, 11.0, 12.0]), 0.95)[
        :2
    ] == (8.0, 12.0)


def test_the_confidence_is_the_statistics_levels() -> None:
    """4 against 4 all above: the interval's lower end is D_(1) = 6 at 95%, unattainable at 99%."""
    canary, baseline = [10.0, 20.0, 30.0, 40.0], [1.0, 2.0, 3.0, 4.0]

    assert compare("m", canary, baseline, operational(), 0.95)["classification"] == "high"
    at_99 = compare("m", canary, baseline, operational(), 0.99)
    assert (at_99["confidence"], at_99["classification"]) == (0.99, "pass")


@pytest.mark.parametrize(
    ("canary", "baseline"),
    [
        (HIGH_FIVE, LOW_FIVE),
        (OVERLAP_CANARY, OVERLAP_BASELINE),
        ([], LOW_FIVE),
        ([54.9, 54.5, 55.1], [0.0, 0.0, 0.0]),
        ([1.0, 1.0], [1.0]),
    ],
    ids=["high", "pass", "nodata", "baseline mean 0", "one shared value"],
)
def test_a_comparison_is_the_monitoring_inputs_comparison(
    canary: list[float], baseline: list[float]
) -> None:
    schema = json.loads((PROJECT_ROOT / "schemas" / "monitoring_input.schema.json").read_text())
    defs = {name: schema["$defs"][name] for name in ("comparison", "sample")}
    comparison = jsonschema_rs.Draft202012Validator({"$defs": defs, "$ref": "#/$defs/comparison"})

    comparison.validate(compare("m", canary, baseline, {"source": "quality", "critical": True}))


# --- Settings that would judge by a default are refused -----------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"source": "operational", "allowed_increse": 1.2}, "unknown keys allowed_increse"),
        ({"direction": "increase"}, ".source: expected one of operational, quality, found None"),
        ({"source": "operational", "direction": "up"}, ".direction: expected one of increase"),
        ({"source": "operational", "allowed_increase": 0.9}, "expected a ratio >= 1, found 0.9"),
        ({"source": "operational", "allowed_decrease": 1.1}, "ratio from 0 to 1, found 1.1"),
        ({"source": "operational", "allowed_increase": "5e1"}, "finite number, found '5e1'"),
        ({"source": "operational", "allowed_increase": True}, "finite number, found True"),
        ({"source": "operational", "critical": "yes"}, ".critical: expected true or false"),
        ({"source": "quality", "must_have_data": 1}, ".must_have_data: expected true or false"),
    ],
)
def test_settings_that_would_judge_by_a_default_are_refused(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(PolicyLoadError, match=f"monitoring.statistics.metrics.m.*{message}"):
        compare("m", HIGH_FIVE, LOW_FIVE, settings)


@pytest.mark.parametrize("confidence", [0.0, 1.0, 95, "0.95"])
def test_a_confidence_outside_zero_to_one_is_refused(confidence: Any) -> None:
    with pytest.raises(PolicyLoadError, match=r"monitoring.statistics.confidence: expected"):
        compare("m", HIGH_FIVE, LOW_FIVE, operational(), confidence)


def test_a_value_that_is_not_a_finite_number_is_a_callers_error() -> None:
    with pytest.raises(ValueError, match="m: a canary value is infinite"):
        compare("m", [1.0, math.inf], LOW_FIVE, operational())
    with pytest.raises(TypeError, match="m: a baseline value '3' is not a number"):
        compare("m", HIGH_FIVE, [1.0, "3"], operational())  # type: ignore[list-item]


# --- A window of snapshots ----------------------------------------------------------------------


def snapshot(latency: float, auc: float, base_latency: float, base_auc: float) -> dict[str, Any]:
    return {
        "deployment": {"model": "fraud", "version": "4", "stage": "canary"},
        "interval": {"start": "2026-11-21T10:00:00Z", "end": "2026-11-21T10:05:00Z"},
        "sample_count": 500,
        "operational": {"latency_p95_ms": latency, "error_rate": 0.01},
        "quality": {"metrics": {"auc": auc}, "labelled_count": 300},
        "baseline": {
            "version": "3",
            "operational": {"latency_p95_ms": base_latency},
            "quality": {"metrics": {"auc": base_auc}},
        },
    }


STATISTICS = {
    "confidence": 0.9,
    "metrics": {
        "latency_p95_ms": {"source": "operational", "direction": "increase"},
        "auc": {"source": "quality", "direction": "decrease", "critical": True},
    },
}


def test_a_window_compares_each_metric_at_its_source_skipping_error_intervals() -> None:
    snapshots = [snapshot(20.0 + i, 0.80 + i / 100, 10.0 + i, 0.90 + i / 100) for i in range(5)]
    snapshots.insert(2, {**snapshot(900.0, 0.10, 1.0, 0.99), "error": "prometheus timed out"})
    without_baseline = snapshot(25.0, 0.85, 0.0, 0.0)
    del without_baseline["baseline"]
    snapshots.append(without_baseline)

    comparisons = compare_window(snapshots, STATISTICS)

    auc = STATISTICS["metrics"]["auc"]
    base_auc = [0.90 + i / 100 for i in range(5)]
    latency = STATISTICS["metrics"]["latency_p95_ms"]
    assert comparisons == [
        compare("auc", [*(0.80 + i / 100 for i in range(5)), 0.85], base_auc, auc, 0.9),
        compare("latency_p95_ms", [*HIGH_FIVE, 25.0], LOW_FIVE, latency, 0.9),
    ]
    assert [(c["metric"], c["source"], c["classification"]) for c in comparisons] == [
        ("auc", "quality", "low"),
        ("latency_p95_ms", "operational", "high"),
    ]
    assert [(c["canary"]["n"], c["baseline"]["n"]) for c in comparisons] == [(6, 5), (6, 5)]


def test_a_window_without_a_metric_at_its_source_is_nodata() -> None:
    snapshots = [snapshot(20.0, 0.8, 10.0, 0.9) for _ in range(5)]
    statistics = {"metrics": {"throughput_rps": {"source": "operational", "must_have_data": True}}}

    [comparison] = compare_window(snapshots, statistics)

    assert (comparison["classification"], comparison["confidence"]) == ("nodata", 0.95)


def test_a_window_without_metrics_compares_nothing() -> None:
    assert compare_window([snapshot(20.0, 0.8, 10.0, 0.9)], {}) == []


# --- Against Kayenta ----------------------------------------------------------------------------


def kayenta_wilcoxon_diff(mu: float, quantile: float, x: Any, y: Any) -> float:
    """MannWhitney.scala `wilcoxonDiff`, line by line."""
    m, n = len(x), len(y)
    ranks = rankdata(np.concatenate((x - mu, y)))
    _, ties = np.unique(ranks, return_counts=True)
    dz = ranks[:m].sum() - m * (m + 1) / 2 - m * n / 2
    correction = math.copysign(0.5, dz) if dz else 0.0
    sigma = math.sqrt(
        m * n / 12 * ((m + n + 1) - float(np.sum(ties**3.0 - ties)) / ((m + n) * (m + n - 1)))
    )
    if sigma == 0:
        raise ValueError("cannot compute confidence interval when all observations are tied")
    return float((dz - correction) / sigma - quantile)


def kayenta_interval(x: Any, y: Any, confidence: float) -> tuple[float, float, float]:
    """MannWhitney.scala `calculateConfidenceInterval`, with scipy's Brent solver at a tight
    tolerance where Kayenta's stops within 1e-4."""
    mu_min, mu_max = x.min() - y.max(), x.max() - y.min()

    def root(zq: float) -> float:
        if kayenta_wilcoxon_diff(mu_min, zq, x, y) <= 0:
            return float(mu_min)
        if kayenta_wilcoxon_diff(mu_max, zq, x, y) >= 0:
            return float(mu_max)
        return float(brentq(lambda d: kayenta_wilcoxon_diff(d, zq, x, y), mu_min, mu_max))

    z_quant = norm.ppf((1 - confidence) / 2)
    return root(-z_quant), root(z_quant), root(0.0)


@pytest.mark.parametrize("kind", ["continuous", "rounded", "few values"])
def test_the_interval_is_the_roots_of_kayentas_function(kind: str) -> None:
    rng = np.random.default_rng({"continuous": 1, "rounded": 2, "few values": 3}[kind])
    for _ in range(60):
        m, n = (int(v) for v in rng.integers(5, 60, 2))
        x, y = rng.normal(rng.normal(0, 0.5), 1, m), rng.normal(0, 1, n)
        if kind == "rounded":
            x, y = x.round(1), y.round(1)
        elif kind == "few values":
            x, y = rng.integers(0, 4, m) * 0.5, rng.integers(0, 4, n) * 0.5
        if len({*x, *y}) == 1 or (len(set(x)) == 1 and len(set(y)) == 1):
            continue  # Kayenta passes the first and adds noise to the second
        confidence = float(rng.choice([0.9, 0.95, 0.98]))

        lower, upper, estimate = kayenta_interval(x, y, confidence)
        ours = shift_interval(np.sort(x), np.sort(y), confidence)

        assert (ours.lower, ours.upper) == (
            pytest.approx(lower, abs=1e-9),
            pytest.approx(upper, abs=1e-9),
        )
        # Kayenta's estimate is some root of f on the span where |dz| <= 1/2 (see
        # shift_interval); the Hodges-Lehmann median lies in the same span.
        ordered = np.sort(np.subtract.outer(x, y).ravel())
        odd = ordered.size % 2
        span = ordered[(ordered.size - 1) // 2 - odd], ordered[ordered.size // 2 + odd]
        assert span[0] - 1e-9 <= estimate <= span[1] + 1e-9
        assert span[0] <= ours.estimate <= span[1]


@pytest.mark.parametrize("case", KAYENTA_CASES["interval"], ids=lambda case: case["name"])
def test_the_interval_matches_rs_wilcox_test_in_kayentas_suite(case: dict[str, Any]) -> None:
    """R's uniroot, like Kayenta's solver, stops within about 1e-4 of the root."""
    ours = shift_interval(np.sort(case["experiment"]), np.sort(case["control"]), case["confidence"])

    assert (ours.lower, ours.upper, ours.estimate) == (
        pytest.approx(case["lower"], abs=1e-4),
        pytest.approx(case["upper"], abs=1e-4),
        pytest.approx(case["estimate"], abs=1e-4),
    )


@pytest.mark.parametrize("case", KAYENTA_CASES["classifier"], ids=lambda case: case["name"])
def test_the_classification_matches_kayentas_classifier_suite(case: dict[str, Any]) -> None:
    settings = {
        key: case[key]
        for key in ("direction", "critical", "allowed_increase", "allowed_decrease")
        if key in case
    }

    result = compare(
        "m",
        case["experiment"],
        case["control"],
        operational(**settings),
        case["confidence"],
        tolerance=case["tolerance"],
    )

    assert result["classification"] == case["expected"]


def test_rank_score_is_kayentas_wilcoxon_diff() -> None:
    rng = np.random.default_rng(5)
    x, y = rng.integers(0, 6, 40) * 0.5, rng.integers(0, 6, 30) * 0.5
    for shift in (-1.0, -0.5, 0.0, 0.25, 0.5, 1.5):
        assert rank_score(x, y, shift) == pytest.approx(kayenta_wilcoxon_diff(shift, 0, x, y))


# --- The pairwise differences are selected exactly and cheaply ----------------------------------


@pytest.mark.parametrize("kind", ["continuous", "rounded", "three values", "tenths"])
def test_order_statistics_of_the_differences_are_exact(kind: str) -> None:
    rng = np.random.default_rng(len(kind))
    for _ in range(25):
        m, n = (int(v) for v in rng.integers(1, 400, 2))
        x, y = rng.normal(0.2, 1, m), rng.normal(0, 1, n)
        if kind == "rounded":
            x, y = x.round(1), y.round(1)
        elif kind == "three values":
            x, y = rng.integers(0, 3, m) * 1.0, rng.integers(0, 3, n) * 1.0
        elif kind == "tenths":  # x_i - y_j rounds, so the searches need their check
            x, y = rng.integers(0, 30, m) * 0.1, rng.integers(0, 30, n) * 0.1
        ordered = np.sort(np.subtract.outer(x, y).ravel())
        k = int(rng.integers(0, ordered.size))
        ranks = sorted({0, k, min(k + 1, ordered.size - 1), ordered.size // 2, ordered.size - 1})

        assert PairwiseDifferences(x, y).order_statistics(ranks) == [ordered[r] for r in ranks]


def test_the_counts_per_row_are_exact_where_the_search_rounds() -> None:
    """Differences of tenths are rarely the float their decimal is, so a search of
    value - a_r often lands beside the row's true count and must be corrected."""
    rng = np.random.default_rng(9)
    differences = PairwiseDifferences(
        rng.integers(0, 30, 300) * 0.1, rng.integers(0, 30, 200) * 0.1
    )
    every = np.add.outer(differences._rows, differences._cols)
    for value in np.unique(every)[::7]:
        for strict in (True, False):
            exact = np.sum(every < value if strict else every <= value, axis=1)
            assert np.array_equal(differences._count(float(value), strict=strict), exact)


def test_an_interval_of_1000_against_1000_never_builds_the_million_differences(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gathered: list[int] = []
    passes: list[int] = []
    candidates, search = PairwiseDifferences._candidates, PairwiseDifferences._count

    def counted_candidates(self: PairwiseDifferences, lo: Any, counts: Any) -> Any:
        values = candidates(self, lo, counts)
        gathered.append(values.size)
        return values

    def counted_count(self: PairwiseDifferences, value: float, *, strict: bool) -> Any:
        passes.append(1)
        return search(self, value, strict=strict)

    monkeypatch.setattr(PairwiseDifferences, "_candidates", counted_candidates)
    monkeypatch.setattr(PairwiseDifferences, "_count", counted_count)
    rng = np.random.default_rng(1000)
    x, y = np.sort(rng.lognormal(4, 0.3, 1000)), np.sort(rng.lognormal(4, 0.3, 1000))

    interval = shift_interval(x, y, 0.95)

    ordered = np.sort(np.subtract.outer(x, y).ravel())
    assert interval == analysis.ShiftInterval(
        lower=ordered[interval_rank(1000, 1000, 0.95) - 1],
        upper=ordered[10**6 - interval_rank(1000, 1000, 0.95)],
        estimate=(ordered[499_999] + ordered[500_000]) / 2,
    )
    assert max(gathered) <= analysis._FEW_ENOUGH
    assert len(passes) <= 40


def interval_rank(m: int, n: int, confidence: float) -> int:
    """kl of shift_interval for samples without ties."""
    sigma = math.sqrt(m * n * (m + n + 1) / 12)
    return math.floor(m * n / 2 - norm.ppf(1 - (1 - confidence) / 2) * sigma - 0.5) + 1
