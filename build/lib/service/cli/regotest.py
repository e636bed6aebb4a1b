"""`mlgate test [DIR [DATA ...]]`: the Rego tests of a policy library, with line coverage."""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path
from typing import Any

from service.errors import UsageError
from service.regotest.junit import junit_xml
from service.regotest.run import RunOptions, TestReport, run_rego_tests
from service.settings import get_settings


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "test",
        help="run the Rego tests of a policy library with coverage",
        description="Run every test_* rule under DIR, each as one evaluation of the library "
        "compiled once. Fails when a test fails, when no test ran, or when coverage of the "
        "non-test files is under --threshold. Flags as in `opa test`.",
    )
    parser.add_argument("dir", nargs="?", type=Path, help="policy library (default: policies/)")
    parser.add_argument(
        "data",
        nargs="*",
        type=Path,
        help="extra data files (merged at the root of data) or directories",
    )
    parser.add_argument("--threshold", type=float, default=90.0, metavar="PERCENT")
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
    options = RunOptions(
        data_paths=tuple(args.data),
        v0_compatible=args.v0_compatible,
        run=_regex(args.run),
        var_values=args.var_values,
        timeout=args.timeout,
    )
    started = time.perf_counter()
    report = run_rego_tests(root, options)
    elapsed = time.perf_counter() - started
    problems = _problems(report, args.threshold, args.fail_on_empty)
    if args.format == "json":
        print(json.dumps(_as_json(report, args.threshold, problems), indent=2))
    elif args.format == "junit":
        print(junit_xml(report, elapsed))
    else:
        print(_as_text(report, args.threshold, problems, args.verbose, elapsed))
    return 1 if problems else 0


def _regex(pattern: str | None) -> str | None:
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise UsageError(f"--run {pattern!r} is not a regular expression: {exc}") from None
    return pattern


def _problems(report: TestReport, threshold: float, fail_on_empty: bool) -> list[str]:
    problems = []
    if not report.results and fail_on_empty:
        problems.append("no test ran: no test_* rule was found")
    if report.failed:
        problems.append(f"{report.failed} test(s) failed")
    if report.results and report.coverage_percent < threshold:
        problems.append(f"coverage {report.coverage_percent:.1f}% is under {threshold:g}%")
    return problems


def _as_text(
    report: TestReport, threshold: float, problems: list[str], verbose: bool, elapsed: float
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
            missed = f"  not covered: {_ranges(c.missed_lines)}" if c.missed_lines else ""
            lines.append(f"  {c.file:<{width}}  {c.percent:5.1f}%{missed}")
        lines.append(
            f"  {'total':<{width}}  {report.coverage_percent:5.1f}%  (threshold {threshold:g}%)"
        )
    lines += [f"FAILED: {p}" for p in problems]
    lines.append(f"{report.passed} passed, {report.failed} failed  ({elapsed:.2f}s)")
    return "\n".join(lines)


def _ranges(rows: tuple[int, ...]) -> str:
    spans: list[list[int]] = []
    for row in rows:
        if spans and row == spans[-1][1] + 1:
            spans[-1][1] = row
        else:
            spans.append([row, row])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def _as_json(report: TestReport, threshold: float, problems: list[str]) -> dict[str, Any]:
    return {
        "passed": report.passed,
        "failed": report.failed,
        "coverage": round(report.coverage_percent, 2),
        "threshold": threshold,
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
            {"file": c.file, "coverage": round(c.percent, 2), "not_covered": list(c.missed_lines)}
            for c in report.coverage
        ],
    }
