"""Canary versus baseline, one metric at a time, judged as Netflix's Kayenta judges it (its
NetflixACAJudge with the MannWhitneyClassifier): a `comparison` of
schemas/monitoring_input.schema.json for each metric data.mlgate.config.monitoring.statistics
names, over a window of metric snapshots.

The method, from spinnaker/kayenta (read at commit a69573be9d8f, April 2025):

- Missing values (None, NaN) are dropped, Kayenta's default NaN strategy "remove"
  (judge/NetflixACAJudge.scala `handleNaNs`, judge/preprocessing/Transforms.scala `removeNaNs`);
  a side left empty is `nodata` (MannWhitneyClassifier.scala `classify`).
- Identical series (sorted), or a single value shared by every observation, `pass` without a
  test (MannWhitneyClassifier.scala `classify`).
- Otherwise the Mann-Whitney confidence interval of the shift canary - baseline and its
  estimate decide (kayenta-mannwhitney/.../mannwhitney/MannWhitney.scala, a port of R's
  `wilcox.test(conf.int = TRUE, exact = FALSE)`): the canary is `high` when the interval's lower
  end is above `TOLERANCE` * |estimate|, `low` when its upper end is below -`TOLERANCE` *
  |estimate| (MannWhitneyClassifier.scala `calculateBounds`, `compare`), each only in a direction
  the metric's `direction` names harmful and only when the effect size, the ratio of means
  canary / baseline (judge/stats/EffectSizes.scala `meanRatio`), reaches `allowed_increase`
  (ratio >= it) or `allowed_decrease` (ratio <= it). A ratio that cannot be computed (baseline
  mean 0) is ignored, as Kayenta ignores its NaN: the interval alone decides.
- `p_value` is the two-sided Mann-Whitney U test of scipy.stats.mannwhitneyu, reported beside
  the interval; the interval, not the p-value, decides, as in Kayenta.

Where this differs from Kayenta, on purpose:

- Kayenta finds the interval's ends and the estimate with a Brent root finder (absolute
  tolerance 1e-4) on the normal approximation's step function, and adds Gaussian noise when
  each side holds a single distinct value. The step function jumps only at the pairwise
  differences, so its roots are order statistics of them, computed here exactly and without
  noise (`shift_interval`); the estimate is the Hodges-Lehmann median of the pairwise
  differences, which lies in the root set Kayenta's solver picks a point from. On metrics whose
  differences are far below 1e-4 (error rates) Kayenta's ends are mostly solver error.
- An end that falls exactly on its bound (mostly zeros on both sides: interval [0, 0], estimate
  0) is decided by the test at that shift (`shift_side`), where Kayenta compares two points its
  solver left within 1e-4 of the jump.
- When the sample sizes cannot attain the confidence at all (at 0.95: one value on either side,
  2 against fewer than 9, 3 against fewer than 5), Kayenta's root finder returns the extreme
  differences as the interval, so 3 canary values all above 3 baseline values are `high`
  although the exact p-value is 0.1. Here no shift is significant then: `pass`, and the
  explanation says why.
- The ratio is 0, not undefined, when only the canary mean is 0 (Kayenta: NaN for either mean
  0). It changes nothing for `low`; for `high` it needs a canary mean of 0 above its baseline,
  which only negative values allow.
- Not reproduced: the confidence Kayenta's judge fixes at 0.98 is `confidence` here (0.95 by
  default); critical effect sizes (criticalIncrease/criticalDecrease, 1.0 by default, which
  with allowed_increase >= 1 and allowed_decrease <= 1 make every high or low of a critical
  metric critical, as here); the NaN strategy "replace"; outlier removal (IQR, off by default);
  the CLES effect size; muted metrics; and the scoring of results (group weights, the summary
  score, critical failures, the 50% nodata rule of judge/scorers/WeightedSumScorer.scala),
  which is the policy's to do with each comparison's classification, `critical` and
  `must_have_data`.

tests/monitoring/test_analysis.py checks the interval against a line-by-line port of
MannWhitney.scala and the classifications against Kayenta's own ClassifierSuite.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Real
from statistics import NormalDist
from typing import Any, Literal, cast, get_args

import numpy as np
from numpy.typing import NDArray
from scipy.stats import mannwhitneyu, rankdata

from service.errors import PolicyLoadError

Source = Literal["operational", "quality"]
Direction = Literal["increase", "decrease", "either"]
Classification = Literal["pass", "high", "low", "nodata"]
FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]

DEFAULT_CONFIDENCE = 0.95
TOLERANCE = 0.25
"""The share of |estimate| the whole interval must clear: NetflixACAJudge.scala builds its
MannWhitneyClassifier with `tolerance = 0.25` (not configurable there either)."""

_SETTINGS = "monitoring.statistics"
_METRIC_KEYS = frozenset(
    {"source", "direction", "allowed_increase", "allowed_decrease", "critical", "must_have_data"}
)


@dataclass(frozen=True)
class MetricSettings:
    """One entry of data.mlgate.config.monitoring.statistics.metrics. Defaults are Kayenta's
    (NetflixACAJudge.scala `classifyMetric`): direction either, allowed increase and decrease
    1.0, neither critical nor required to have data; `source` has no default."""

    source: Source
    direction: Direction = "either"
    allowed_increase: float = 1.0
    allowed_decrease: float = 1.0
    critical: bool = False
    must_have_data: bool = False

    @classmethod
    def parse(cls, metric: str, settings: object) -> MetricSettings:
        """Refuses what would otherwise quietly judge by a default: an unknown (misspelt) key,
        a threshold that is not a number, a ratio on the wrong side of 1."""
        where = f"{_SETTINGS}.metrics.{metric}"
        if not isinstance(settings, Mapping):
            raise PolicyLoadError(f"{where}: expected an object, found {_kind(settings)}")
        unknown = sorted(set(settings) - _METRIC_KEYS)
        if unknown:
            raise PolicyLoadError(
                f"{where}: unknown keys {', '.join(map(str, unknown))}; "
                f"expected some of {', '.join(sorted(_METRIC_KEYS))}"
            )
        source = _choice(where, "source", settings.get("source"), get_args(Source))
        direction = _choice(
            where, "direction", settings.get("direction", "either"), get_args(Direction)
        )
        increase = _number(where, "allowed_increase", settings.get("allowed_increase", 1.0))
        if increase < 1:
            raise PolicyLoadError(
                f"{where}.allowed_increase: expected a ratio >= 1, found {increase:g}"
            )
        decrease = _number(where, "allowed_decrease", settings.get("allowed_decrease", 1.0))
        if not 0 <= decrease <= 1:
            raise PolicyLoadError(
                f"{where}.allowed_decrease: expected a ratio from 0 to 1, found {decrease:g}"
            )
        return cls(
            source=cast(Source, source),
            direction=cast(Direction, direction),
            allowed_increase=increase,
            allowed_decrease=decrease,
            critical=_flag(where, "critical", settings.get("critical", False)),
            must_have_data=_flag(where, "must_have_data", settings.get("must_have_data", False)),
        )


def parse_confidence(value: object) -> float:
    """The statistics level's `confidence`: a number strictly between 0 and 1."""
    level = _number(_SETTINGS, "confidence", value)
    if not 0 < level < 1:
        raise PolicyLoadError(
            f"{_SETTINGS}.confidence: expected a number between 0 and 1, found {level:g}"
        )
    return level


@dataclass(frozen=True)
class ShiftInterval:
    """The confidence interval of the shift canary - baseline and its Hodges-Lehmann estimate.
    `lower` and `upper` are None when the sample sizes cannot attain the confidence."""

    lower: float | None
    upper: float | None
    estimate: float


def shift_interval(canary: FloatArray, baseline: FloatArray, confidence: float) -> ShiftInterval:
    """Kayenta's interval (kayenta-mannwhitney/.../MannWhitney.scala `calculateConfidenceInterval`
    and `wilcoxonDiff`, R's `wilcox.test` without the exact distribution), in closed form.

    For a shift d, W(d) = #{x_i - y_j > d} + 1/2 #{x_i - y_j = d} is the rank sum of x - d
    less m(m+1)/2, and Kayenta's function is f(d) = (dz - sign(dz)/2) / sigma - q, with
    dz = W(d) - mn/2 and sigma^2 = mn/12 ((N + 1) - sum(t^3 - t) / (N(N - 1))), N = m + n, t the
    sizes of the groups of tied values (between differences: the ties within each sample).
    f steps down only at the pairwise differences D_(1) <= ... <= D_(mn), so its root for q = z
    (z = Phi^-1(1 - alpha/2)) is D_(kl), the first difference past which dz - 1/2 < z sigma:
    kl = floor(mn/2 - z sigma - 1/2) + 1; for q = -z it is D_(ku),
    ku = floor(mn/2 + z sigma + 1/2) + 1 (1-based ranks; ku = mn + 1 - kl). kl < 1 is a
    confidence no arrangement of these sample sizes reaches (Kayenta then returns D_(1) and
    D_(mn)): None. The estimate, the root for q = 0, is where W(d) crosses mn/2: the median of
    the pairwise differences, the Hodges-Lehmann estimate (the midpoint of the two middle ones
    when mn is even). f is 0 on the whole span where |dz| <= 1/2 (the two middle differences
    for even mn, the median's two neighbours for odd mn), and Kayenta's solver returns some
    point in it."""
    m, n = canary.size, baseline.size
    total = m + n
    ties = _tie_term(canary) + _tie_term(baseline)
    sigma = math.sqrt(m * n / 12 * ((total + 1) - ties / (total * (total - 1))))
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    first = math.floor(m * n / 2 - z * sigma - 0.5) + 1
    differences = PairwiseDifferences(canary, baseline)
    middle = (m * n - 1) // 2, m * n // 2
    if first < 1:
        low_mid, high_mid = differences.order_statistics(middle)
        return ShiftInterval(None, None, (low_mid + high_mid) / 2)
    lower, low_mid, high_mid, upper = differences.order_statistics(
        (first - 1, *middle, m * n - first)
    )
    return ShiftInterval(lower, upper, (low_mid + high_mid) / 2)


def _tie_term(ordered: FloatArray) -> float:
    """sum(t^3 - t) over the groups of equal values of a sorted sample."""
    sizes = _runs(ordered)[1].astype(np.float64)
    return float(np.sum(sizes**3 - sizes))


def _runs(ordered: FloatArray) -> tuple[FloatArray, IndexArray]:
    """The distinct values of a sorted sample and how many times each occurs."""
    starts = np.concatenate(([0], np.flatnonzero(np.diff(ordered)) + 1))
    return ordered[starts], np.diff(np.append(starts, ordered.size))


# An order statistic of the pairwise differences is selected exactly: candidates are narrowed
# by two pivots taken from an even sample of them until few enough remain to sort.
_PIVOT_SAMPLE = 512
_FEW_ENOUGH = 8192


class PairwiseDifferences:
    """Every difference x_i - y_j of a canary x and a baseline y, never built: an implicit
    matrix a_r + b_j with a and b ascending (one sample sorted, the other negated and sorted;
    negation is exact, so each a_r + b_j is the float x_i - y_j itself), each row ascending.
    Equal values of the row sample share one row of weight w_r (their number), so tied data
    costs less. An order statistic then costs some O((m + n) log(mn)) passes instead of
    sorting m * n."""

    def __init__(self, canary: FloatArray, baseline: FloatArray) -> None:
        x, negated = np.sort(canary), np.sort(-baseline)
        x_values, x_weights = _runs(x)
        y_values, y_weights = _runs(negated)
        # Rows are the sample with fewer distinct values: each pass costs a search per row.
        if x_values.size <= y_values.size:
            self._rows, self._weights, self._cols = x_values, x_weights, negated
        else:
            self._rows, self._weights, self._cols = y_values, y_weights, x
        self.size = x.size * negated.size

    def order_statistics(self, ranks: Sequence[int]) -> list[float]:
        """The differences at these 0-based ranks (ascending) in ascending order."""
        if self.size <= _FEW_ENOUGH:
            every = np.repeat(np.add.outer(self._rows, self._cols), self._weights, axis=0)
            chosen = np.partition(every.ravel(), list(ranks))
            return [float(chosen[k]) for k in ranks]
        found: list[float] = []
        for i, k in enumerate(ranks):
            if i and k == ranks[i - 1]:
                found.append(found[-1])
            elif i and k == ranks[i - 1] + 1:
                found.append(self._after(k - 1, found[-1]))
            else:
                found.append(self._select(k))
        return found

    def _after(self, k: int, value: float) -> float:
        """The difference at rank k + 1 when `value` is the one at rank k: `value` again if
        it is repeated there, else the least difference above it (the smallest of each row's
        first one above it)."""
        upto = self._count(value, strict=False)
        if self._weighed(upto) > k + 1:
            return value
        rows = np.flatnonzero(upto < self._cols.size)
        return float(np.min(self._rows[rows] + self._cols[upto[rows]]))

    def _select(self, k: int) -> float:
        """Candidates are lo_r <= j < hi_r per row; every value left of them is <= every
        candidate and every value right of them is >= every candidate, so the k-th difference
        is the (k - sum(w * lo))-th candidate."""
        lo = np.zeros(self._rows.size, dtype=np.intp)
        hi = np.full(self._rows.size, self._cols.size, dtype=np.intp)
        while True:
            counts = hi - lo
            total = self._weighed(counts)
            rank = k - self._weighed(lo)
            if total <= _FEW_ENOUGH:
                return float(np.partition(self._candidates(lo, counts), rank)[rank])
            sample = np.sort(self._sample(lo, counts, total))
            centre = (rank + 0.5) / total * sample.size
            spread = 2 * math.sqrt(sample.size)
            low = float(sample[max(0, int(centre - spread))])
            high = float(sample[min(sample.size - 1, int(centre + spread))])
            below, upto = self._count(low, strict=True), self._count(high, strict=False)
            if k < self._weighed(below):
                hi = np.clip(below, lo, hi)
            elif k >= self._weighed(upto):
                lo = np.clip(upto, lo, hi)
            else:
                lo, hi = np.clip(below, lo, hi), np.clip(upto, lo, hi)
            if self._weighed(hi - lo) < total:
                continue
            # No progress (many equal values span both pivots): split at one candidate.
            pivot = float(sample[min(sample.size - 1, int(centre))])
            below, upto = self._count(pivot, strict=True), self._count(pivot, strict=False)
            if k < self._weighed(below):
                hi = np.clip(below, lo, hi)
            elif k >= self._weighed(upto):
                lo = np.clip(upto, lo, hi)
            else:
                return pivot

    def _weighed(self, counts: IndexArray) -> int:
        """How many differences `counts` per row stand for."""
        return int(np.dot(self._weights, counts))

    def _sample(self, lo: IndexArray, counts: IndexArray, total: int) -> FloatArray:
        """An even sample of the candidates in row-major order (each of a row's candidates
        standing w_r times)."""
        size = min(_PIVOT_SAMPLE, total)
        positions = ((np.arange(size) + 0.5) * (total / size)).astype(np.intp)
        blocks = self._weights * counts
        ends = np.cumsum(blocks)
        row = np.searchsorted(ends, positions, side="right")
        col: IndexArray = lo[row] + (positions - (ends[row] - blocks[row])) // self._weights[row]
        return self._rows[row] + self._cols[col]

    def _candidates(self, lo: IndexArray, counts: IndexArray) -> FloatArray:
        row = np.repeat(np.arange(counts.size), counts)
        starts = np.cumsum(counts) - counts
        col = np.arange(row.size) - np.repeat(starts - lo, counts)
        return np.repeat(self._rows[row] + self._cols[col], self._weights[row])

    def _count(self, value: float, *, strict: bool) -> IndexArray:
        """Per row, how many differences are < value (strict) or <= value. A search of
        value - a_r among the b_j is rounded, so its answer is checked against the row's two
        differences at its edge (rows ascend, so that settles it). Where it does not hold, the
        count lies among the b_j within 4 ulps of value - a_r (more than the roundings of that
        subtraction, of the slack's own and of a_r + b_j together), and a binary search of the
        row's own differences there finds it."""
        side: Literal["left", "right"] = "left" if strict else "right"
        counts = np.searchsorted(self._cols, value - self._rows, side=side)
        last = self._cols.size - 1
        inside = self._rows + self._cols[np.maximum(counts - 1, 0)]
        outside = self._rows + self._cols[np.minimum(counts, last)]
        if strict:
            holds = ((counts == 0) | (inside < value)) & ((counts > last) | (outside >= value))
        else:
            holds = ((counts == 0) | (inside <= value)) & ((counts > last) | (outside > value))
        wrong = np.flatnonzero(~holds)
        if wrong.size:
            a = self._rows[wrong]
            slack = 4 * np.spacing(abs(value) + np.abs(a))
            lo = np.searchsorted(self._cols, value - a - slack, side="left")
            hi = np.searchsorted(self._cols, value - a + slack, side="right")
            counts[wrong] = self._search(a, value, strict, lo, hi)
        return counts

    def _search(
        self, a: FloatArray, value: float, strict: bool, lo: IndexArray, hi: IndexArray
    ) -> IndexArray:
        """`_count` of the rows a by a binary search of their own differences between lo and
        hi (the count is known to lie there)."""
        while bool((lo < hi).any()):
            mid = (lo + hi) // 2
            at = a + self._cols[np.minimum(mid, self._cols.size - 1)]
            counted = (at < value) if strict else (at <= value)
            active = lo < hi
            lo = np.where(active & counted, mid + 1, lo)
            hi = np.where(active & ~counted, mid, hi)
        return lo


def shift_side(
    canary: FloatArray,
    baseline: FloatArray,
    interval: ShiftInterval,
    bound: float,
    confidence: float,
) -> Literal["higher", "lower"] | None:
    """Whether the whole interval lies above +bound ("higher") or below -bound ("lower"), as
    MannWhitneyClassifier.scala `compare` asks (None: neither, or no interval). An end that
    falls on the bound itself is a jump of Kayenta's step function (a block of equal
    differences, most often 0 when both samples are mostly zeros), and whether the interval
    clears it is whether the test at that very shift rejects, which decides here; Kayenta's
    solver stops within 1e-4 of the jump on either side of it and compares those points."""
    if interval.lower is None or interval.upper is None:
        return None
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    if interval.lower > bound or (
        interval.lower == bound and rank_score(canary, baseline, bound) >= z
    ):
        return "higher"
    if interval.upper < -bound or (
        interval.upper == -bound and rank_score(canary, baseline, -bound) <= -z
    ):
        return "lower"
    return None


def rank_score(canary: FloatArray, baseline: FloatArray, shift: float) -> float:
    """MannWhitney.scala `wilcoxonDiff(mu = shift, quantile = 0)`: the continuity-corrected
    normal score of the rank sum of canary - shift among the baseline (0 when all values tie)."""
    m, n = canary.size, baseline.size
    combined = np.concatenate((canary - shift, baseline))
    dz = float(np.sum(rankdata(combined)[:m])) - m * (m + 1) / 2 - m * n / 2
    ties = _tie_term(np.sort(combined))
    sigma = math.sqrt(m * n / 12 * ((m + n + 1) - ties / ((m + n) * (m + n - 1))))
    if sigma == 0:
        return 0.0
    return (dz - math.copysign(0.5, dz)) / sigma if dz else 0.0


def mean_ratio(canary_mean: float, baseline_mean: float) -> float | None:
    """The effect size: canary mean / baseline mean (EffectSizes.scala `meanRatio`); None when
    the baseline mean is 0."""
    return None if baseline_mean == 0 else canary_mean / baseline_mean


def compare(
    metric: str,
    canary: Sequence[float | None],
    baseline: Sequence[float | None],
    settings: Mapping[str, Any],
    confidence: float = DEFAULT_CONFIDENCE,
    *,
    tolerance: float = TOLERANCE,
) -> dict[str, Any]:
    """The `comparison` of schemas/monitoring_input.schema.json for one metric: the canary's
    and the baseline's values over the judged intervals, `settings` one entry of
    monitoring.statistics.metrics, `confidence` the statistics level's. `tolerance` is the
    MannWhitneyClassifier's parameter that Kayenta's judge fixes at 0.25 (other values are
    for checking against Kayenta's own tests)."""
    config = MetricSettings.parse(metric, settings)
    level = parse_confidence(confidence)
    x, y = _values(metric, "canary", canary), _values(metric, "baseline", baseline)
    result: dict[str, Any] = {
        "metric": metric,
        "source": config.source,
        "direction": config.direction,
        "critical": config.critical,
        "must_have_data": config.must_have_data,
        "confidence": level,
        "canary": _summary(x),
        "baseline": _summary(y),
    }
    if x.size == 0 or y.size == 0:
        return {
            **result,
            "p_value": None,
            "effect_size": None,
            "location_shift": None,
            "classification": "nodata",
            "explanation": _no_data(metric, x.size, y.size, config),
        }
    x.sort()
    y.sort()
    ratio = mean_ratio(result["canary"]["mean"], result["baseline"]["mean"])
    p_value = float(mannwhitneyu(x, y, alternative="two-sided").pvalue)
    interval = shift_interval(x, y, level)
    facts = _facts(metric, result, ratio, interval, p_value)
    classification: Classification = "pass"
    if np.array_equal(x, y):
        verdict = "the canary and baseline values are identical: pass"
    elif x[0] == x[-1] == y[0] == y[-1]:
        verdict = f"every canary and baseline value is {_num(float(x[0]))}: pass"
    else:
        bound = tolerance * abs(interval.estimate)
        side = shift_side(x, y, interval, bound, level)
        classification, verdict = _judge(side, interval, bound, ratio, config, level, tolerance)
    return {
        **result,
        "p_value": p_value,
        "effect_size": ratio,
        "location_shift": interval.estimate,
        "classification": classification,
        "explanation": f"{facts}; {verdict}",
    }


def compare_window(
    snapshots: Sequence[Mapping[str, Any]], statistics: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """A comparison for each metric of `statistics` (monitoring.statistics: `metrics` by name,
    `confidence`), sorted by name, over the snapshots (metric_snapshot.schema.json) that are
    not errors: the canary's values at the metric's `source` (`operational`, or
    `quality.metrics`), the baseline's at the same place under `baseline`. An interval that
    lacks the value (on either side) only shortens that side's series."""
    metrics = statistics.get("metrics", {})
    if not isinstance(metrics, Mapping):
        raise PolicyLoadError(f"{_SETTINGS}.metrics: expected an object, found {_kind(metrics)}")
    confidence = statistics.get("confidence", DEFAULT_CONFIDENCE)
    judged = [snapshot for snapshot in snapshots if "error" not in snapshot]
    baselines = [snapshot.get("baseline") or {} for snapshot in judged]
    comparisons = []
    for name in sorted(metrics):
        source = MetricSettings.parse(name, metrics[name]).source
        canary, baseline = _series(judged, source, name), _series(baselines, source, name)
        comparisons.append(compare(name, canary, baseline, metrics[name], confidence))
    return comparisons


def _series(documents: Sequence[Mapping[str, Any]], source: Source, name: str) -> list[Any]:
    """Each document's figure `name` at `source` (None where it has none)."""
    if source == "quality":
        return [((d.get("quality") or {}).get("metrics") or {}).get(name) for d in documents]
    return [(d.get("operational") or {}).get(name) for d in documents]


def _judge(
    side: Literal["higher", "lower"] | None,
    interval: ShiftInterval,
    bound: float,
    ratio: float | None,
    config: MetricSettings,
    confidence: float,
    tolerance: float,
) -> tuple[Classification, str]:
    """MannWhitneyClassifier.scala `compare`: beyond the bounds, in a harmful direction, with
    an effect size that reaches the allowed ratio (or none to check)."""
    if interval.lower is None or interval.upper is None:
        return "pass", (
            f"{_percent(confidence)} confidence cannot be reached with so few values, so no "
            "shift is significant: pass"
        )
    where = f"the {_percent(confidence)} interval [{_num(interval.lower)}, {_num(interval.upper)}]"
    share = f"{tolerance:.0%} of the estimate"
    if side == "higher":
        found = f"{where} lies above +{_num(bound)} ({share}): the canary is higher"
        if config.direction == "decrease":
            return "pass", f"{found}, and only a decrease is harmful: pass"
        if ratio is not None and ratio < config.allowed_increase:
            return "pass", (
                f"{found}, but the ratio {_num(ratio)} is below the allowed increase "
                f"{_num(config.allowed_increase)}: pass"
            )
        return "high", f"{found}, {_reached(ratio, 'increase', config.allowed_increase)}: high"
    if side == "lower":
        found = f"{where} lies below -{_num(bound)} ({share}): the canary is lower"
        if config.direction == "increase":
            return "pass", f"{found}, and only an increase is harmful: pass"
        if ratio is not None and ratio > config.allowed_decrease:
            return "pass", (
                f"{found}, but the ratio {_num(ratio)} is above the allowed decrease "
                f"{_num(config.allowed_decrease)}: pass"
            )
        return "low", f"{found}, {_reached(ratio, 'decrease', config.allowed_decrease)}: low"
    return "pass", f"{where} does not clear +/-{_num(bound)} ({share}): no significant shift: pass"


def _reached(ratio: float | None, way: str, allowed: float) -> str:
    if ratio is None:
        return "and with a baseline mean of 0 there is no ratio to weigh"
    return f"and the ratio {_num(ratio)} reaches the allowed {way} {_num(allowed)}"


def _facts(
    metric: str,
    result: Mapping[str, Any],
    ratio: float | None,
    interval: ShiftInterval,
    p_value: float,
) -> str:
    canary, baseline = result["canary"], result["baseline"]
    return (
        f"{metric}: canary mean {_num(canary['mean'])} over {canary['n']} intervals, baseline "
        f"mean {_num(baseline['mean'])} over {baseline['n']}; ratio "
        f"{'undefined (baseline mean 0)' if ratio is None else _num(ratio)}; shift canary - "
        f"baseline {_num(interval.estimate)} (Hodges-Lehmann); Mann-Whitney p = {p_value:.3g}"
    )


def _no_data(metric: str, canary: int, baseline: int, config: MetricSettings) -> str:
    missing = " and ".join(
        side for side, n in (("canary", canary), ("baseline", baseline)) if n == 0
    )
    notes = [f"no {missing} values in the judged intervals"]
    if config.must_have_data:
        notes.append("the metric must have data")
    if config.critical:
        notes.append("the metric is critical")
    return f"{metric}: {'; '.join(notes)}: nodata"


def _values(metric: str, side: str, values: Sequence[float | None]) -> FloatArray:
    """The side's values without the missing ones (None, NaN): Kayenta's NaN strategy
    "remove". Anything else that is not a finite number is a caller's error (the ledger's
    canonical JSON holds no Infinity)."""
    strays = {
        kind
        for kind in set(map(type, values))
        if kind is not type(None) and (issubclass(kind, bool) or not issubclass(kind, Real))
    }
    if strays:
        stray = next(value for value in values if type(value) in strays)
        raise TypeError(f"{metric}: a {side} value {stray!r} is not a number")
    array = np.array(values, dtype=np.float64)
    array = array[~np.isnan(array)]
    if np.isinf(array).any():
        raise ValueError(f"{metric}: a {side} value is infinite")
    return array


def _summary(values: FloatArray) -> dict[str, Any]:
    return {"n": int(values.size), "mean": float(values.mean()) if values.size else None}


def _choice(where: str, key: str, value: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise PolicyLoadError(
            f"{where}.{key}: expected one of {', '.join(allowed)}, found {value!r}"
        )
    return value


def _number(where: str, key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PolicyLoadError(f"{where}.{key}: expected a finite number, found {value!r}")
    return float(value)


def _flag(where: str, key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise PolicyLoadError(f"{where}.{key}: expected true or false, found {value!r}")
    return value


def _kind(value: object) -> str:
    return type(value).__name__


def _num(value: float) -> str:
    return f"{value:.6g}"


def _percent(level: float) -> str:
    return f"{level * 100:g}%"
