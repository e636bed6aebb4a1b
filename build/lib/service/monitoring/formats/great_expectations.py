"""Input data checks from a Great Expectations validation result, 1.x or 0.18.

Field names as read in great-expectations/great_expectations' source:

An ExpectationSuiteValidationResult's JSON (`to_json_dict`,
great_expectations/core/expectation_validation_result.py at 1.2.0 and 0.18.21) is `{"success",
"results": [...], "statistics": {"evaluated_expectations", "successful_expectations",
"unsuccessful_expectations", "success_percent"}, "meta", ...}`; the statistics count the
results (great_expectations/validator/validation_statistics.py). Each result is `{"success",
"expectation_config": {"type" (1.x) or "expectation_type" (0.18), "kwargs", ...}, "result",
"exception_info", "meta"}` (ExpectationConfigurationSchema,
great_expectations/expectations/expectation_configuration.py at 1.2.0,
great_expectations/core/expectation_configuration.py at 0.18.21). `exception_info` is either
`{"raised_exception", "exception_message", "exception_traceback"}` or, when a metric the
expectation needs could not be computed, such an object under each metric's id
(great_expectations/validator/validator.py, validation_graph.py `get_exception_info`).
A 0.18 CheckpointResult's JSON wraps suite results as `{"run_results": {<id>: {"validation_result":
{...}, "actions_results": {...}}}, "success", ...}`
(great_expectations/checkpoint/types/checkpoint_result.py at 0.18.21); a 1.x CheckpointResult
holds the suite result itself under each id (great_expectations/checkpoint/checkpoint.py at 1.2.0).

Rates: a column map expectation's `result.unexpected_percent` is the share of the non-null
values that broke it (`_format_map_output`, great_expectations/expectations/expectation.py);
for expect_column_values_to_not_be_null, which counts no missing values, it is the share of
all rows that are null. A result format without figures (BOOLEAN_ONLY) gives no rate.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from service.errors import InvalidField
from service.monitoring.formats.fields import ReportField

SOURCE = "great_expectations"
MAX_FAILED_NAMES = 1000  # metric_snapshot.schema.json: expectations.failed_names.maxItems
RATE_EXPECTATIONS = {
    "expect_column_values_to_not_be_null": "null_rate",
    "expect_column_values_to_be_between": "out_of_range_rate",
}


def data_quality_part(result: Mapping[str, Any], *, at: str = "") -> dict[str, Any]:
    """The `data_quality` part of a metric snapshot from a validation result or a checkpoint's.

    Every expectation evaluated counts, across every suite result of a checkpoint; one that
    raised an exception counts as failed. Zero evaluated is reported as such (`evaluated: 0`),
    which the policy reads as no evidence, never as a pass. A column checked more than once
    keeps its highest rate. `at` is where the result sits in the document being read
    (`reports.great_expectations`): errors name fields by their full path.
    """
    evaluated = 0
    failed_names: list[str] = []
    rates: dict[str, dict[str, float]] = {"null_rate": {}, "out_of_range_rate": {}}
    for suite in _suite_results(ReportField(result, at)):
        results = list(suite.get("results").elements())
        _check_statistics(suite, len(results))
        evaluated += len(results)
        for expectation in results:
            name, failed, rate = _read_expectation(expectation)
            if failed:
                failed_names.append(name)
            if rate is not None:
                kind, column, value = rate
                rates[kind][column] = max(value, rates[kind].get(column, 0.0))
    part: dict[str, Any] = {
        "expectations": {
            "evaluated": evaluated,
            "failed": len(failed_names),
            "failed_names": failed_names[:MAX_FAILED_NAMES],
        },
        "source": SOURCE,
    }
    part.update((kind, by_column) for kind, by_column in rates.items() if by_column)
    return part


def _suite_results(root: ReportField) -> Iterator[ReportField]:
    """The suite validation result, or each one a checkpoint result holds."""
    if root.has("results"):
        yield root
        return
    run_results = root.get_optional("run_results")
    if run_results is None:
        raise root.problem(
            'a validation result {"results", "statistics", ...} or a checkpoint result '
            '{"run_results", ...}'
        )
    for _, run in run_results.members():
        yield run.get("validation_result") if run.has("validation_result") else run


def _check_statistics(suite: ReportField, counted: int) -> None:
    statistics = suite.get_optional("statistics")
    evaluated = None if statistics is None else statistics.get_optional("evaluated_expectations")
    if evaluated is not None and evaluated.count() != counted:
        raise evaluated.problem(f"{counted}, the number of results")


def _read_expectation(
    expectation: ReportField,
) -> tuple[str, bool, tuple[str, str, float] | None]:
    """The expectation's name, whether it failed, and the rate it measured (kind, column,
    value) if it is one the snapshot carries."""
    config = expectation.get("expectation_config")
    kind = _expectation_type(config)
    kwargs = config.get_optional("kwargs")
    column = None if kwargs is None else kwargs.get_optional("column")
    column_name = None if column is None else column.text()
    name = kind if column_name is None else f"{kind}(column={column_name})"
    raised = _raised_exception(expectation.get_optional("exception_info"))
    failed = raised or not expectation.get("success").flag()
    rate_kind = RATE_EXPECTATIONS.get(kind)
    figures = expectation.get_optional("result")
    if raised or rate_kind is None or column_name is None or figures is None:
        return name, failed, None
    percent = figures.get_optional("unexpected_percent")
    if percent is None:
        return name, failed, None
    if not 0 <= percent.number() <= 100:
        raise percent.problem("a percentage from 0 to 100")
    return name, failed, (rate_kind, column_name, percent.number() / 100)


def _expectation_type(config: ReportField) -> str:
    for key in ("type", "expectation_type"):  # 1.x, 0.18
        if config.has(key):
            return config.get(key).text()
    raise InvalidField(
        config.at("type"),
        'expected the expectation\'s type ("type" in 1.x, "expectation_type" in 0.18), '
        "found neither",
    )


def _raised_exception(info: ReportField | None) -> bool:
    """Whether `exception_info` records an exception: its own `raised_exception`, or that of
    any metric it is keyed by."""
    if info is None:
        return False
    flag = info.get_optional("raised_exception")
    if flag is not None:
        return flag.flag()
    return any(
        isinstance(metric.value, Mapping) and _raised_exception(metric)
        for _, metric in info.members()
    )
