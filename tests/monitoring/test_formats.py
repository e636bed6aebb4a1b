"""Monitor reports as Evidently and Great Expectations write them become a snapshot's `drift`
and `data_quality`, and a report that cannot be read is refused naming the field.

The fixtures under reports/ are written by hand after the serialising code of each tool:
Evidently 0.4.40's `Report.json()` (legacy), 0.7.21's `Snapshot.json()` (metrics with
`metric_name` and `config`; with `include_tests=True`, and without tests), 0.7.10's (metrics
with a `metric_id` label); Great Expectations 1.2.0's ExpectationSuiteValidationResult and
0.18.21's CheckpointResult. The ERROR status is a monitor's own test bound to a ValueDrift
(Evidently's built-in drift test is only ever SUCCESS or FAIL)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from service.canonical import canonical_json, sha256_digest
from service.errors import InvalidField
from service.monitoring.formats import convert_reports, evidently, great_expectations
from service.schemas import SchemaSet
from service.settings import PROJECT_ROOT

REPORTS = Path(__file__).parent / "reports"


def report(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((REPORTS / f"{name}.json").read_text())
    return loaded


def snapshot(**parts: Any) -> dict[str, Any]:
    return {
        "deployment": {"model": "fraud-detector", "version": "8", "stage": "canary"},
        "interval": {"start": "2026-11-30T11:00:00Z", "end": "2026-11-30T12:00:00Z"},
        "sample_count": 1000,
        **parts,
    }


def value_drift(method: str | None, threshold: float | None, score: float) -> dict[str, Any]:
    """A 0.7.16+ report of one ValueDrift column without tests (`include_tests=False`)."""
    config = {"type": evidently.VALUE_DRIFT_TYPE, "column": "age"}
    config.update({"method": method} if method is not None else {})
    config.update({"threshold": threshold} if threshold is not None else {})
    metric = {"id": "f1", "metric_name": "ValueDrift(column=age)", "config": config}
    return {"metrics": [{**metric, "value": score}], "tests": []}


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    return SchemaSet(PROJECT_ROOT / "schemas")


# Evidently, legacy


def test_legacy_drift_table_and_column_drift_give_each_column_with_evidentlys_verdict() -> None:
    part = evidently.drift_part(report("evidently_legacy_data_drift"))

    assert part == {
        "features": [
            {
                "name": "age",
                "score": 0.2316,
                "method": "Wasserstein distance (normed)",
                "threshold": 0.1,
                "drifted": True,
            },
            {
                "name": "country",
                "score": 0.0312,
                "method": "Jensen-Shannon distance",
                "threshold": 0.1,
                "drifted": False,
            },
            {
                "name": "income",
                "score": 0.0121,
                "method": "K-S p_value",
                "threshold": 0.05,
                "drifted": True,
            },
        ],
        "source": "evidently",
    }


def test_legacy_drift_detected_is_the_verdict_even_where_the_score_says_otherwise() -> None:
    legacy = report("evidently_legacy_data_drift")
    age = legacy["metrics"][1]["result"]["drift_by_columns"]["age"]
    age["drift_score"], age["drift_detected"] = 0.01, True  # below a distance threshold

    features = evidently.drift_part(legacy)["features"]

    assert features[0] == {**features[0], "score": 0.01, "drifted": True}


def test_a_report_with_only_dataset_drift_is_refused_having_no_column() -> None:
    legacy = report("evidently_legacy_data_drift")
    legacy["metrics"] = legacy["metrics"][:1]

    with pytest.raises(InvalidField) as raised:
        evidently.drift_part(legacy)

    assert raised.value.field == "metrics"
    assert "per-column drift result" in raised.value.message


# Evidently 0.6.7 and later


def test_a_value_drift_verdict_is_its_tests_status() -> None:
    part = evidently.drift_part(report("evidently_0.7_value_drift_tests"))

    assert part == {
        "features": [
            {
                "name": "age",
                "score": 0.2316,
                "method": "Wasserstein distance (normed)",
                "threshold": 0.1,
                "drifted": True,  # FAIL
            },
            {
                "name": "country",
                "score": 0.0312,
                "method": "Jensen-Shannon distance",
                "threshold": 0.1,
                "drifted": False,  # SUCCESS
            },
            {
                "name": "tenure",
                "score": 0.14,
                "method": "psi",
                "threshold": 0.1,
                "drifted": True,  # WARNING: the monitor's non-critical test failed
            },
        ],
        "source": "evidently",
    }


def test_a_value_drift_test_that_errored_is_refused_naming_its_status_and_column() -> None:
    with pytest.raises(InvalidField) as raised:
        evidently.drift_part(report("evidently_0.7_value_drift_error"))

    assert raised.value.field == "tests[1].status"
    assert "'income'" in raised.value.message
    assert "the reference sample has 12 rows" in raised.value.message


def test_an_error_beside_a_success_on_the_same_column_is_still_refused() -> None:
    tests = report("evidently_0.7_value_drift_tests")
    tests["tests"].append({**copy.deepcopy(tests["tests"][1]), "status": "ERROR"})

    with pytest.raises(InvalidField) as raised:
        evidently.drift_part(tests)

    assert raised.value.field == "tests[3].status"


def test_a_value_drift_without_tests_is_judged_by_evidentlys_comparison_for_its_method() -> None:
    part = evidently.drift_part(report("evidently_0.7_value_drift_no_tests"))

    assert part["features"] == [
        {
            "name": "age",
            "score": 0.031,
            "method": "K-S p_value",
            "threshold": 0.05,
            "drifted": True,
        },
        {"name": "country", "score": 0.02, "method": "psi", "threshold": 0.1, "drifted": False},
    ]


def test_only_skipped_tests_give_no_verdict_so_the_method_judges() -> None:
    tests = report("evidently_0.7_value_drift_tests")
    for test in tests["tests"]:
        test["status"] = "SKIPPED"

    drifted = [f["drifted"] for f in evidently.drift_part(tests)["features"]]

    assert drifted == [True, False, True]  # wasserstein 0.23 >= 0.1, js 0.03 < 0.1, psi 0.14


# Evidently's own comparison, by method, at the threshold, just under and just over: p-values
# drift below the threshold (K-S and Cramer-von Mises at it too), distances at or above it
# (energy distance only above).
BOUNDARIES = [
    ("ks", 0.05, [(0.05, True), (0.0499, True), (0.0501, False)]),
    ("K-S p_value", 0.05, [(0.05, True), (0.0499, True), (0.0501, False)]),
    ("cramer_von_mises", 0.1, [(0.1, True), (0.0999, True), (0.1001, False)]),
    ("chisquare", 0.05, [(0.05, False), (0.0499, True), (0.0501, False)]),
    ("TVD", 0.1, [(0.1, False), (0.0999, True), (0.1001, False)]),
    ("psi", 0.1, [(0.1, True), (0.0999, False), (0.1001, True)]),
    ("Wasserstein distance (normed)", 0.1, [(0.1, True), (0.0999, False), (0.1001, True)]),
    ("ed", 0.1, [(0.1, False), (0.0999, False), (0.1001, True)]),
]


@pytest.mark.parametrize(("method", "threshold", "cases"), BOUNDARIES, ids=lambda v: str(v))
def test_a_derived_verdict_keeps_evidentlys_boundary(
    method: str, threshold: float, cases: list[tuple[float, bool]]
) -> None:
    for score, drifted in cases:
        part = evidently.drift_part(value_drift(method, threshold, score))

        assert part["features"][0]["drifted"] is drifted, (method, score)


@pytest.mark.parametrize(
    ("method", "threshold", "said"),
    [
        ("perc_text_content_drift", 0.95, "the method 'perc_text_content_drift'"),
        ("psi", None, "the method 'psi' and no threshold"),
        (None, 0.1, "no method"),
    ],
)
def test_a_value_drift_without_verdict_or_known_comparison_is_refused(
    method: str | None, threshold: float | None, said: str
) -> None:
    with pytest.raises(InvalidField) as raised:
        evidently.drift_part(value_drift(method, threshold, 0.5))

    assert raised.value.field == "metrics[0]"
    assert said in raised.value.message
    assert "include_tests=True" in raised.value.message


def test_the_0_7_10_layout_reads_column_and_method_from_the_bound_tests() -> None:
    part = evidently.drift_part(report("evidently_0.7.10_value_drift"))

    assert part["features"] == [
        {"name": "age", "score": 0.0004, "method": "ks", "threshold": 0.05, "drifted": True},
        {"name": "country", "score": 0.0312, "threshold": None, "drifted": False},
    ]


def test_the_0_7_10_layout_without_tests_reads_method_and_threshold_from_the_label() -> None:
    labelled = report("evidently_0.7.10_value_drift")
    labelled["tests"] = []
    labelled["metrics"] = labelled["metrics"][:1]

    part = evidently.drift_part(labelled)

    assert part["features"] == [
        {"name": "age", "score": 0.0004, "method": "ks", "threshold": 0.05, "drifted": True},
    ]


def test_the_0_6_0_tests_object_is_refused_for_naming_no_metric() -> None:
    early = report("evidently_0.7.10_value_drift")
    early["tests"] = {"3c5e1b": early["tests"][0]}

    with pytest.raises(InvalidField) as raised:
        evidently.drift_part(early)

    assert raised.value.field == "tests"
    assert "0.6.0 to 0.6.6" in raised.value.message


def test_metrics_evidently_wrote_empty_are_passed_over() -> None:
    tests = report("evidently_0.7_value_drift_tests")
    tests["metrics"].insert(0, {})

    assert evidently.drift_part(tests) == evidently.drift_part(
        report("evidently_0.7_value_drift_tests")
    )


def set_at(document: Any, path: list[Any], value: Any) -> None:
    """Set the value at `path`, or delete it when `value` is KeyError."""
    for part in path[:-1]:
        document = document[part]
    if value is KeyError:
        del document[path[-1]]
    else:
        document[path[-1]] = value


AGE = ["metrics", 1, "result", "drift_by_columns", "age"]
MALFORMED_EVIDENTLY = [
    ("evidently_legacy_data_drift", ["metrics"], KeyError, "metrics"),
    ("evidently_legacy_data_drift", ["metrics"], {"age": 1}, "metrics"),
    ("evidently_legacy_data_drift", ["metrics", 0], {"foo": 1}, "metrics[0]"),
    ("evidently_legacy_data_drift", ["metrics", 1, "result"], None, "metrics[1].result"),
    (
        "evidently_legacy_data_drift",
        [*AGE, "drift_detected"],
        "yes",
        "metrics[1].result.drift_by_columns.age.drift_detected",
    ),
    (
        "evidently_legacy_data_drift",
        [*AGE, "drift_score"],
        float("nan"),
        "metrics[1].result.drift_by_columns.age.drift_score",
    ),
    (
        "evidently_legacy_data_drift",
        [*AGE, "column_name"],
        KeyError,
        "metrics[1].result.drift_by_columns.age.column_name",
    ),
    (
        "evidently_legacy_data_drift",
        ["metrics", 2, "result", "stattest_threshold"],
        "0.05",
        "metrics[2].result.stattest_threshold",
    ),
    ("evidently_0.7_value_drift_tests", ["metrics", 1, "value"], "0.23", "metrics[1].value"),
    ("evidently_0.7_value_drift_tests", ["metrics", 1, "value"], True, "metrics[1].value"),
    ("evidently_0.7_value_drift_tests", ["tests", 0, "status"], "PASSED", "tests[0].status"),
    (
        "evidently_0.7_value_drift_tests",
        ["tests", 0, "metric_config", "metric_id"],
        "not-a-metric",
        "tests[0].metric_config.metric_id",
    ),
    (
        "evidently_0.7_value_drift_tests",
        ["metrics", 1, "config", "column"],
        KeyError,
        "metrics[1].config.column",
    ),
    ("evidently_0.7.10_value_drift", ["tests"], [], "metrics[1]"),  # no method to judge by
    (
        "evidently_0.7.10_value_drift",
        ["tests", 1, "metric_config", "params", "column"],
        "",
        "tests[1].metric_config.params.column",
    ),
]


@pytest.mark.parametrize(("fixture", "path", "value", "field"), MALFORMED_EVIDENTLY)
def test_a_malformed_evidently_report_is_refused_naming_the_field_in_the_snapshot(
    fixture: str, path: list[Any], value: Any, field: str
) -> None:
    broken = report(fixture)
    set_at(broken, path, value)

    with pytest.raises(InvalidField) as raised:
        convert_reports(snapshot(reports={"evidently": broken}))

    assert raised.value.field == f"reports.evidently.{field}"
    assert "expected" in raised.value.message


def test_an_unreadable_label_is_refused_naming_it() -> None:
    labelled = report("evidently_0.7.10_value_drift")
    labelled["tests"] = []
    labelled["metrics"][0]["metric_id"] = "ValueDrift(threshold=0.05)"

    with pytest.raises(InvalidField) as raised:
        evidently.drift_part(labelled)

    assert raised.value.field == "metrics[0].metric_id"
    assert "ValueDrift(column=<name>" in raised.value.message


# Great Expectations


def test_a_1x_validation_result_counts_failures_exceptions_and_rates() -> None:
    part = great_expectations.data_quality_part(report("gx_1x_validation_result"))

    assert part == {
        "expectations": {
            "evaluated": 4,
            "failed": 2,
            "failed_names": [
                "expect_column_values_to_be_between(column=income)",
                "expect_column_values_to_be_between(column=tenure_months)",  # raised
            ],
        },
        "null_rate": {"age": 0.012},
        "out_of_range_rate": {"income": 0.025},
        "source": "great_expectations",
    }


def test_a_0_18_checkpoint_result_is_read_through_its_run_results() -> None:
    part = great_expectations.data_quality_part(report("gx_018_checkpoint_result"))

    assert part == {
        "expectations": {
            "evaluated": 3,
            "failed": 2,
            "failed_names": [
                "expect_column_values_to_not_be_null(column=age)",
                "expect_column_values_to_be_between(column=tenure_months)",  # raised
            ],
        },
        "null_rate": {"age": 0.04},
        "out_of_range_rate": {"income": 0.0030090270812437314},
        "source": "great_expectations",
    }


def test_a_checkpoint_result_reads_as_the_validation_results_it_wraps() -> None:
    checkpoint = report("gx_018_checkpoint_result")
    (run,) = checkpoint["run_results"].values()
    as_1x = {**checkpoint, "run_results": {"id": run["validation_result"]}}

    plain = great_expectations.data_quality_part(run["validation_result"])

    assert great_expectations.data_quality_part(checkpoint) == plain
    assert great_expectations.data_quality_part(as_1x) == plain


def test_a_checkpoint_of_two_validations_adds_them_up_and_keeps_the_highest_rate() -> None:
    suite = report("gx_1x_validation_result")
    worse = copy.deepcopy(suite)
    worse["results"][0]["result"]["unexpected_percent"] = 30.0
    checkpoint = {"run_results": {"a": suite, "b": worse}, "success": False}

    part = great_expectations.data_quality_part(checkpoint)

    assert part["expectations"]["evaluated"] == 8 and part["expectations"]["failed"] == 4
    assert part["null_rate"] == {"age": 0.3}


def test_zero_expectations_evaluated_is_reported_as_no_evidence_not_a_pass() -> None:
    part = great_expectations.data_quality_part(report("gx_1x_zero_evaluated"))

    assert part == {
        "expectations": {"evaluated": 0, "failed": 0, "failed_names": []},
        "source": "great_expectations",
    }


def test_an_expectation_that_raised_counts_as_failed_even_if_marked_successful() -> None:
    suite = report("gx_1x_validation_result")
    suite["results"][3]["success"] = True
    suite["results"][3]["result"] = {"unexpected_percent": 0.0}

    part = great_expectations.data_quality_part(suite)

    assert part["expectations"]["failed"] == 2
    assert "tenure_months" not in part["out_of_range_rate"]  # no figure from a raised check


def test_a_result_format_without_figures_gives_no_rates() -> None:
    suite = report("gx_1x_validation_result")
    for result in suite["results"]:
        result.pop("result")

    part = great_expectations.data_quality_part(suite)

    assert set(part) == {"expectations", "source"}


@pytest.mark.parametrize(
    ("percent", "rate"), [(0, 0.0), (0.0, 0.0), (100, 1.0), (-0.001, None), (100.001, None)]
)
def test_a_rate_is_a_percentage_from_0_to_100_over_100(percent: float, rate: float | None) -> None:
    suite = report("gx_1x_validation_result")
    suite["results"][0]["result"]["unexpected_percent"] = percent

    if rate is None:
        with pytest.raises(InvalidField) as raised:
            great_expectations.data_quality_part(suite)
        assert raised.value.field == "results[0].result.unexpected_percent"
    else:
        assert great_expectations.data_quality_part(suite)["null_rate"] == {"age": rate}


def test_failures_past_the_schemas_name_limit_are_all_counted_and_the_first_named() -> None:
    suite = report("gx_1x_validation_result")
    failing = suite["results"][1]
    suite["results"] = [failing] * (great_expectations.MAX_FAILED_NAMES + 1)
    suite["statistics"]["evaluated_expectations"] = len(suite["results"])

    expectations = great_expectations.data_quality_part(suite)["expectations"]

    assert expectations["evaluated"] == expectations["failed"] == 1001
    assert len(expectations["failed_names"]) == great_expectations.MAX_FAILED_NAMES


MALFORMED_GX = [
    ("gx_1x_validation_result", ["results"], KeyError, "(document)"),
    ("gx_1x_validation_result", ["results"], {"a": 1}, "results"),
    ("gx_1x_validation_result", ["results", 0, "success"], KeyError, "results[0].success"),
    ("gx_1x_validation_result", ["results", 0, "success"], None, "results[0].success"),
    (
        "gx_1x_validation_result",
        ["results", 1, "expectation_config", "type"],
        KeyError,
        "results[1].expectation_config.type",
    ),
    (
        "gx_1x_validation_result",
        ["results", 1, "result", "unexpected_percent"],
        250.0,
        "results[1].result.unexpected_percent",
    ),
    (
        "gx_1x_validation_result",
        ["results", 0, "exception_info", "raised_exception"],
        "no",
        "results[0].exception_info.raised_exception",
    ),
    (
        "gx_1x_validation_result",
        ["statistics", "evaluated_expectations"],
        5,
        "statistics.evaluated_expectations",
    ),
    (
        "gx_1x_validation_result",
        ["results", 0, "expectation_config", "kwargs", "column"],
        7,
        "results[0].expectation_config.kwargs.column",
    ),
    (
        "gx_018_checkpoint_result",
        ["run_results"],
        {"id": {"validation_result": {"success": True}}},
        "run_results.id.validation_result.results",
    ),
]


@pytest.mark.parametrize(("fixture", "path", "value", "field"), MALFORMED_GX)
def test_a_malformed_validation_result_is_refused_naming_the_field_in_the_snapshot(
    fixture: str, path: list[Any], value: Any, field: str
) -> None:
    broken = report(fixture)
    set_at(broken, path, value)
    expected = "reports.great_expectations" + ("" if field == "(document)" else f".{field}")

    with pytest.raises(InvalidField) as raised:
        convert_reports(snapshot(reports={"great_expectations": broken}))

    assert raised.value.field == expected
    assert "expected" in raised.value.message


# The conversion at ingestion


FIXTURES = {
    "evidently": [
        "evidently_legacy_data_drift",
        "evidently_0.7_value_drift_tests",
        "evidently_0.7_value_drift_no_tests",
        "evidently_0.7.10_value_drift",
    ],
    "great_expectations": [
        "gx_1x_validation_result",
        "gx_1x_zero_evaluated",
        "gx_018_checkpoint_result",
    ],
}


@pytest.mark.parametrize("drift_report", FIXTURES["evidently"])
@pytest.mark.parametrize("quality_report", FIXTURES["great_expectations"])
def test_a_converted_snapshot_keeps_the_schema_and_the_reports_digests(
    schemas: SchemaSet, drift_report: str, quality_report: str
) -> None:
    sent = snapshot(
        operational={"error_rate": 0.01},
        reports={"evidently": report(drift_report), "great_expectations": report(quality_report)},
    )
    assert schemas.violations("metric_snapshot", sent) == []

    converted = convert_reports(sent)

    assert schemas.violations("metric_snapshot", converted) == []
    assert converted == {
        **snapshot(operational={"error_rate": 0.01}),
        "drift": evidently.drift_part(report(drift_report)),
        "data_quality": great_expectations.data_quality_part(report(quality_report)),
        "reported_from": {
            "evidently": sha256_digest(canonical_json(report(drift_report))),
            "great_expectations": sha256_digest(canonical_json(report(quality_report))),
        },
    }


def test_the_digest_is_of_the_canonical_json_whatever_the_key_order() -> None:
    legacy = report("evidently_legacy_data_drift")
    reordered = dict(reversed(list(legacy.items())))

    ours = convert_reports(snapshot(reports={"evidently": legacy}))
    theirs = convert_reports(snapshot(reports={"evidently": reordered}))

    assert ours["reported_from"] == theirs["reported_from"]
    assert ours["reported_from"]["evidently"].startswith("sha256:")


def test_a_snapshot_without_reports_is_returned_as_it_was() -> None:
    sent = snapshot(drift={"features": [{"name": "age", "drifted": False}], "source": "whylogs"})

    assert convert_reports(sent) == sent
    assert convert_reports({**sent, "reports": {}}) == sent


def test_the_snapshot_sent_is_left_as_it_was() -> None:
    sent = snapshot(reports={"great_expectations": report("gx_1x_validation_result")})
    before = copy.deepcopy(sent)

    convert_reports(sent)

    assert sent == before


@pytest.mark.parametrize(
    ("kind", "part", "fixture"),
    [
        ("evidently", "drift", "evidently_legacy_data_drift"),
        ("great_expectations", "data_quality", "gx_1x_validation_result"),
    ],
)
def test_a_report_and_the_part_it_becomes_are_refused_together(
    kind: str, part: str, fixture: str
) -> None:
    sent = snapshot(reports={kind: report(fixture)}, **{part: {}})

    with pytest.raises(InvalidField) as raised:
        convert_reports(sent)

    assert raised.value.field == f"reports.{kind}"
    assert "send one of the two" in raised.value.message


def test_reported_from_sent_by_a_monitor_is_refused() -> None:
    sent = snapshot(reported_from={"evidently": "sha256:" + "0" * 64})

    with pytest.raises(InvalidField) as raised:
        convert_reports(sent)

    assert raised.value.field == "reported_from"


@pytest.mark.parametrize(
    ("reports", "field"),
    [
        ({"whylogs": {}}, "reports.whylogs"),
        ({"evidently": ["not", "an", "object"]}, "reports.evidently"),
        (["evidently"], "reports"),
    ],
)
def test_reports_of_an_unknown_kind_or_shape_are_refused(reports: Any, field: str) -> None:
    with pytest.raises(InvalidField) as raised:
        convert_reports(snapshot(reports=reports))

    assert raised.value.field == field
