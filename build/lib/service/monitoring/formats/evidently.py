"""Per-column drift from an Evidently report's JSON, in either layout Evidently writes.

Field names as read in evidentlyai/evidently's source:

Legacy (0.4.x; `evidently.legacy` since 0.7). `Report.json()` is `{"version", "metrics":
[{"metric": <class name>, "result": {...}}], "timestamp"}` (`Report.as_dict`,
src/evidently/report/report.py at v0.4.40). DataDriftTable's result holds `drift_by_columns:
{column: ColumnDataDriftMetrics}`; ColumnDriftMetric's result is one ColumnDataDriftMetrics:
`column_name`, `column_type`, `stattest_name`, `stattest_threshold`, `drift_score`,
`drift_detected` (src/evidently/calculations/data_drift.py at v0.4.40, the same in
src/evidently/legacy/calculations/data_drift.py at v0.7.21). `drift_detected` is the verdict.
DatasetDriftMetric has no per-column figures and is not read.

0.6.7 and later (`Snapshot.json()` / `dict()` of `Report.run`, src/evidently/core/report.py
at v0.7.21): `{"metrics": [...], "tests": [...]}`. A metric is `{"id", "metric_id", "value"}`
up to 0.7.15 and `{"id", "metric_name", "config", "value"}` from 0.7.16, where `metric_id` or
`metric_name` reads `ValueDrift(column=age,method=...,threshold=...)` and `config` is the
metric's parameters with its resolved method and threshold (`MetricResult.to_dict`,
src/evidently/core/metric_types.py; src/evidently/future/metric_types.py before 0.7); a metric
Evidently computed only as another's input is written `{}`. A test is `{"id", "name",
"description", "metric_config": {"metric_id", "params"}, "test_config", "status",
"bound_test"}` (`MetricTestResult`), tied to its metric by `metric_config.metric_id` == the
metric's `id`. A ValueDrift metric's `value` is the drift score (`ValueDriftCalculation`,
src/evidently/metrics/column_statistics.py at v0.7.21).

The verdict of a ValueDrift column is the status of the tests bound to it: with
`include_tests=True` Evidently adds the test `drift`, FAIL when the column drifted; with
`ValueDrift(tests=[...])` the monitor binds its own. FAIL or WARNING (a non-critical test that
failed: `MetricTest.run`) is drifted, SUCCESS not drifted. ERROR means Evidently could not
judge the column, which must not read as healthy: it is refused with an InvalidField naming the
test's status. A column with no verdict (no test: `include_tests` is False by default; or only
SKIPPED) is judged by Evidently's own comparison for its method, read from each stattest's
source (`_DRIFT_WHEN`), or refused when the method or threshold is not known.

Refused too: Evidently 0.6.0 to 0.6.6's `tests`, an object keyed by test fingerprint whose
results name no metric.
"""

from __future__ import annotations

import operator
import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from service.errors import InvalidField
from service.monitoring.formats.fields import ReportField

SOURCE = "evidently"
VALUE_DRIFT_TYPE = "evidently:metric_v2:ValueDrift"  # src/evidently/core/registries/metrics.py
TEST_STATUSES = ("SUCCESS", "FAIL", "WARNING", "ERROR", "SKIPPED")

# When a stattest calls a column drifted, by the name a monitor configures and the display
# name Evidently resolves and writes: the return line of each test function in
# src/evidently/legacy/calculations/stattests/*.py (v0.7.21, unchanged since v0.6.7). Note the
# boundaries: K-S and Cramer-von Mises count p == threshold as drift, the other p-value tests do
# not; energy distance counts a distance above the threshold, the other distances at or above;
# and Evidently's TVD test returns a p-value.
_STATTESTS: tuple[tuple[str, str, Callable[[float, float], bool]], ...] = (
    # p-values: drifted below the threshold
    ("anderson", "Anderson-Darling", operator.lt),
    ("chisquare", "chi-square p_value", operator.lt),
    ("es", "Epps-Singleton", operator.lt),
    ("fisher_exact", "Fisher's Exact test", operator.lt),
    ("g_test", "g_test", operator.lt),
    ("mannw", "Mann-Whitney U-rank test", operator.lt),
    ("empirical_mmd", "empirical_mmd", operator.lt),
    ("t_test", "t_test", operator.lt),
    ("TVD", "Total-Variation-Distance", operator.lt),
    ("z", "Z-test p_value", operator.lt),
    # p-values: drifted at or below the threshold
    ("ks", "K-S p_value", operator.le),
    ("cramer_von_mises", "Cramer-von Mises", operator.le),
    # distances: drifted at or above the threshold
    ("hellinger", "Hellinger distance", operator.ge),
    ("jensenshannon", "Jensen-Shannon distance", operator.ge),
    ("kl_div", "Kullback-Leibler divergence", operator.ge),
    ("psi", "PSI", operator.ge),
    ("wasserstein", "Wasserstein distance (normed)", operator.ge),
    # distances: drifted above the threshold
    ("ed", "Energy-distance", operator.gt),
)
_DRIFT_WHEN = {key: when for name, display, when in _STATTESTS for key in (name, display)}

# `ValueDrift(column=age,method=psi,threshold=0.1)`: the fields of ValueDrift a label can show.
_LABEL = re.compile(r"ValueDrift\((?P<params>.*)\)", re.DOTALL)
_LABEL_PARAM = re.compile(r",(?=(?:column|method|threshold|nbinsx)=)")


def drift_part(report: Mapping[str, Any], *, at: str = "") -> dict[str, Any]:
    """The `drift` part of a metric snapshot from an Evidently report (either layout).

    `at` is where the report sits in the document being read (`reports.evidently`): errors
    name fields by their full path. Raises InvalidField for a report this cannot read, for a
    column whose drift test errored and for one with a score and no verdict it can know.
    """
    root = ReportField(report, at)
    metrics = root.get("metrics")
    features: list[dict[str, Any]] = []
    metric_ids: set[str] = set()
    value_drifts: list[ReportField] = []
    for metric in metrics.elements():
        entry = metric.object()
        if not entry:  # computed only as another metric's input
            continue
        if "metric" in entry:
            features.extend(_legacy_features(metric))
        elif "id" in entry and "value" in entry:
            metric_ids.add(metric.get("id").text())
            if _is_value_drift(metric):
                value_drifts.append(metric)
        else:
            raise metric.problem(
                'a legacy metric {"metric", "result"} or a 0.6.7+ metric '
                '{"id", "metric_name" or "metric_id", "value"}'
            )
    tests = _tests_by_metric(root.get_optional("tests"), metric_ids)
    features.extend(_value_drift_feature(metric, tests) for metric in value_drifts)
    if not features:
        raise InvalidField(
            metrics.path,
            "expected a per-column drift result (a legacy DataDriftTable or ColumnDriftMetric, "
            f"or a ValueDrift metric), found none among {len(metrics.value)} metrics",
        )
    return {"features": features, "source": SOURCE}


def _legacy_features(metric: ReportField) -> list[dict[str, Any]]:
    name = metric.get("metric").text()
    if name == "DataDriftTable":
        by_column = metric.get("result").get("drift_by_columns")
        return [_legacy_column(column) for _, column in by_column.members()]
    if name == "ColumnDriftMetric":
        return [_legacy_column(metric.get("result"))]
    return []


def _legacy_column(result: ReportField) -> dict[str, Any]:
    threshold = result.get_optional("stattest_threshold")
    return {
        "name": result.get("column_name").text(),
        "score": result.get("drift_score").number(),
        "method": result.get("stattest_name").text(),
        "threshold": None if threshold is None else threshold.number(),
        "drifted": result.get("drift_detected").flag(),
    }


def _is_value_drift(metric: ReportField) -> bool:
    config = metric.get_optional("config")  # 0.7.16 and later
    if config is not None and config.object().get("type") == VALUE_DRIFT_TYPE:
        return True
    label = metric.get_optional("metric_name") or metric.get("metric_id")
    return label.text().startswith("ValueDrift(")


def _tests_by_metric(
    tests: ReportField | None, metric_ids: set[str]
) -> dict[str, list[ReportField]]:
    """Each metric's tests, by the metric's `id`."""
    found: dict[str, list[ReportField]] = defaultdict(list)
    if tests is None:
        return found
    if isinstance(tests.value, Mapping):
        raise tests.problem(
            "a list of test results, as Evidently 0.6.7 and later write (0.6.0 to 0.6.6 wrote "
            "an object keyed by test fingerprint whose results name no metric)"
        )
    for test in tests.elements():
        metric_id = test.get("metric_config").get("metric_id")
        if metric_id.text() not in metric_ids:
            raise metric_id.problem("the id of one of the report's metrics")
        found[metric_id.value].append(test)
    return found


@dataclass(frozen=True)
class _DriftConfig:
    column: str
    method: str | None
    threshold: float | None


def _value_drift_feature(
    metric: ReportField, tests: dict[str, list[ReportField]]
) -> dict[str, Any]:
    bound = tests.get(metric.get("id").value, [])
    config = _drift_config(metric, bound)
    score = metric.get("value").number()
    drifted = _verdict(config.column, bound)
    if drifted is None:
        drifted = _derived_verdict(metric, config, score)
    feature: dict[str, Any] = {"name": config.column, "score": score}
    if config.method is not None:
        feature["method"] = config.method
    return {**feature, "threshold": config.threshold, "drifted": drifted}


def _drift_config(metric: ReportField, bound: list[ReportField]) -> _DriftConfig:
    """Column, method and threshold from the metric's `config` (0.7.16+), else from a bound
    test's `metric_config.params`, else from the metric's label."""
    params = metric.get_optional("config")
    if params is None and bound:
        params = bound[0].get("metric_config").get("params")
    if params is None:
        return _label_config(metric.get("metric_id"))
    method = params.get_optional("method")
    threshold = params.get_optional("threshold")
    return _DriftConfig(
        column=params.get("column").text(),
        method=None if method is None else method.text(),
        threshold=None if threshold is None else threshold.number(),
    )


def _label_config(label: ReportField) -> _DriftConfig:
    match = _LABEL.fullmatch(label.text())
    expected = "ValueDrift(column=<name>[,method=<name>][,threshold=<number>])"
    if match is None:
        raise label.problem(expected)
    params = {}
    for item in _LABEL_PARAM.split(match["params"]):
        key, _, value = item.partition("=")
        params[key] = value
    if not params.get("column"):
        raise label.problem(expected)
    threshold: float | None = None
    if "threshold" in params:
        try:
            threshold = float(params["threshold"])
        except ValueError:
            raise label.problem(expected) from None
    return _DriftConfig(params["column"], params.get("method"), threshold)


def _verdict(column: str, bound: list[ReportField]) -> bool | None:
    """Drifted by the bound tests' statuses, or None when none gave a verdict."""
    statuses = set()
    for test in bound:
        status = test.get("status")
        if status.value not in TEST_STATUSES:
            raise status.problem("one of " + ", ".join(TEST_STATUSES))
        if status.value == "ERROR":
            description = test.get_optional("description")
            said = "" if description is None else f" ({str(description.value)[:300]})"
            raise InvalidField(
                status.path,
                f"Evidently could not judge the drift of column {column!r}{said}; "
                "a column it could not measure cannot read as not drifted",
            )
        statuses.add(status.value)
    if statuses & {"FAIL", "WARNING"}:
        return True
    if "SUCCESS" in statuses:
        return False
    return None


def _derived_verdict(metric: ReportField, config: _DriftConfig, score: float) -> bool:
    compare = _DRIFT_WHEN.get(config.method or "")
    if compare is None or config.threshold is None:
        method = "no method" if config.method is None else f"the method {config.method!r}"
        threshold = "" if config.threshold is not None else " and no threshold"
        raise InvalidField(
            metric.path,
            f"expected a test verdict for the drift of column {config.column!r}, found none, "
            f"with {method}{threshold}: mlgate does not guess how that score compares; "
            "run the report with include_tests=True",
        )
    return compare(score, config.threshold)
