"""`mlgate test [DIR [DATA ...]]`: the Rego tests of a policy library, with line coverage."""

from __future__ import annotations

import argparse
import json
import math
import re
import time
from typing import Any

from service.cli.arguments import existing_directory, existing_path
from service.errors import UsageError
from service.regotest.junit import junit_xml
from service.regotest.run import RunOptions, TestReport, run_rego_tests
from service.regotest.thresholds import CoverageThresholds, FileThreshold, line_ranges, percent
from service.settings import get_settings

DEFAULT_THRESHOLD = 90.0


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "test",
        help="run the Rego tests of a policy library with coverage",
        description="Run every test_* rule under DIR, each as one evaluation of the library "
        "compiled once. Fails when a test fails, when no test ran, or when coverage of the "
        "non-test files (in total, or of any one file) is under its threshold. A run filtered "
        "with -r covers part of the library, so its coverage is judged only when a threshold "
        "is given. Flags as in `opa test`.",
    )
    parser.add_argument(
        "dir", nargs="?", type=existing_directory, help="policy library (default: policies/)"
    )
    parser.add_argument(
        "data",
        nargs="*",
        type=existing_path,
        help="extra data files (merged at the root of data) or directories",
    )
    parser.add_argument(
        "--threshold",
        metavar="PERCENT",
        help=f"coverage the total, and each file, must reach (default {DEFAULT_THRESHOLD:g})",
    )
    parser.add_argument(
        "--file-threshold",
        action="append",
        metavar="[GLOB=]PERCENT",
        help="coverage each file (or each file matching GLOB, e.g. 'policies/lib/*') must "
        "reach; repeatable, the last match wins (default: --threshold)",
    )
    parser.add_argument("--format", choices=("text", "json", "junit"), default="text")
    parser.add_argument("-v", "--verbose", action="store_true", help="list passing tests too")
    parser.add_argument(
        "--v0-compatible",
        action="store_true",
        help="read the library as Rego v0 (OPA before 1.0: rule bodies without `if`)",
    )
    parser.add_argument("-r", "--run", metavar="REGEX", help="only tests whose name matches")
    parser.add_argument(
        "--var-values",
        "--explain",
        dest="var_values",
        action="store_true",
        help="show a failing test's failing expression and the values of its variables",
    )
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="limit per test")
    parser.add_argument(
        "--fail-on-empty",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="fail when no test ran (default; --no-fail-on-empty passes, as opa test does)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = args.dir or get_settings().policy_dir
    if args.timeout is not None and not (math.isfinite(args.timeout) and args.timeout > 0):
        raise UsageError(f"--timeout: expected a number of seconds above 0; found {args.timeout:g}")
    options = RunOptions(
        data_paths=tuple(args.data),
        v0_compatible=args.v0_compatible,
        run=_regex(args.run),
        var_values=args.var_values,
        timeout=args.timeout,
    )
    thresholds = CoverageThresholds(
        DEFAULT_THRESHOLD if args.threshold is None else percent("--threshold", args.threshold),
        tuple(FileThreshold.parse(text) for text in args.file_threshold or ()),
    )
    started = time.perf_counter()
    report = run_rego_tests(root, options)
    elapsed = time.perf_counter() - started
    unjudged = _coverage_unjudged(report, args)
    problems = _problems(report, None if unjudged else thresholds, args.fail_on_empty)
    if args.format == "json":
        print(json.dumps(_as_json(report, thresholds, unjudged, problems), indent=2))
    elif args.format == "junit":
        print(junit_xml(report, elapsed))
    else:
        print(_as_text(report, thresholds, unjudged, problems, args.verbose, elapsed))
    return 1 if problems else 0


def _coverage_unjudged(report: TestReport, args: argparse.Namespace) -> str | None:
    """Why coverage is not held to its thresholds in this run, or None when it is."""
    if not report.results:
        return "no test ran"
    explicit = args.threshold is not None or args.file_threshold is not None
    if args.run is not None and not explicit:
        return f"-r {args.run!r} ran part of the tests (--threshold or --file-threshold judges it)"
    broken = sum(r.errored for r in report.results)
    if broken:
        # Coverage leaves those tests out: the lines only they reach would fail it a second
        # time for the one problem already counted.
        return f"{broken} test(s) errored or timed out, and coverage leaves them out"
    return None


def _regex(pattern: str | None) -> str | None:
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise UsageError(f"--run {pattern!r} is not a regular expression: {exc}") from None
    return pattern


def _problems(
    report: TestReport, thresholds: CoverageThresholds | None, fail_on_empty: bool
) -> list[str]:
    """What fails the run, each once; coverage only when `thresholds` are judged."""
    problems = []
    if not report.results and fail_on_empty:
        problems.append("no test ran: no test_* rule was found")
    if report.failed:
        problems.append(f"{report.failed} test(s) failed")
    if thresholds is not None:
        problems += thresholds.problems(report)
    return problems


def _as_text(
    report: TestReport,
    thresholds: CoverageThresholds,
    unjudged: str | None,
    problems: list[str],
    verbose: bool,
    elapsed: float,
) -> str:
    lines = []
    for result in report.results:
        if verbose or not result.passed:
            status = "PASS" if result.passed else "FAIL"
            detail = f"  ({result.detail})" if result.detail else ""
            took = f"  {result.duration * 1000:.1f}ms" if verbose else ""
            lines.append(f"{status}  {result.name}  {result.file}{detail}{took}")
            if result.explanation:
                lines += ["    " + line for line in result.explanation.splitlines()]
    if report.coverage:
        width = max(len(c.file) for c in report.coverage)
        lines.append("coverage")
        for c in report.coverage:
            missed = f"  not covered: {line_ranges(c.missed_lines)}" if c.missed_lines else ""
            below = c.percent < thresholds.for_file(c.file)
            under = f"  (threshold {thresholds.for_file(c.file):g}%)" if below else ""
            lines.append(f"  {c.file:<{width}}  {c.percent:5.1f}%{under}{missed}")
        lines.append(
            f"  {'total':<{width}}  {report.coverage_percent:5.1f}%  "
            f"(threshold {thresholds.total:g}%)"
        )
        if unjudged:
            lines.append(f"  coverage not judged: {unjudged}")
    lines += [f"FAILED: {p}" for p in problems]
    lines.append(f"{report.passed} passed, {report.failed} failed  ({elapsed:.2f}s)")
    return "\n".join(lines)


def _as_json(
    report: TestReport, thresholds: CoverageThresholds, unjudged: str | None, problems: list[str]
) -> dict[str, Any]:
    return {
        "passed": report.passed,
        "failed": report.failed,
        "coverage": round(report.coverage_percent, 2),
        "threshold": thresholds.total,
        "coverage_judged": unjudged is None,
        "coverage_not_judged_because": unjudged,
        "problems": problems,
        "tests": [
            {
                "name": r.name,
                "file": r.file,
                "row": r.row,
                "passed": r.passed,
                "detail": r.detail,
                "explanation": r.explanation,
                "duration_ns": round(r.duration * 1e9),
            }
            for r in report.results
        ],
        "files": [
            {
                "file": c.file,
                "coverage": round(c.percent, 2),
                "threshold": thresholds.for_file(c.file),
                "not_covered": list(c.missed_lines),
            }
            for c in report.coverage
        ],
    }
