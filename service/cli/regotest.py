"""`mlgate test [DIR]`: the Rego tests of a policy library, with line coverage."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from service.regotest import TestReport, run_rego_tests
from service.settings import get_settings


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "test",
        help="run the Rego tests of a policy library with coverage",
        description="Run every test_* rule under DIR in one evaluation. Fails when a test "
        "fails, when no test ran, or when coverage of the non-test files is under --threshold.",
    )
    parser.add_argument("dir", nargs="?", type=Path, help="policy library (default: policies/)")
    parser.add_argument("--threshold", type=float, default=90.0, metavar="PERCENT")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("-v", "--verbose", action="store_true", help="list passing tests too")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = args.dir or get_settings().policy_dir
    started = time.perf_counter()
    report = run_rego_tests(root)
    elapsed = time.perf_counter() - started
    problems = _problems(report, args.threshold)
    if args.format == "json":
        print(json.dumps(_as_json(report, args.threshold, problems), indent=2))
    else:
        print(_as_text(report, args.threshold, problems, args.verbose, elapsed))
    return 1 if problems else 0


def _problems(report: TestReport, threshold: float) -> list[str]:
    problems = []
    if not report.results:
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
            lines.append(f"{status}  {result.name}  {result.file}{detail}")
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
        "tests": [r.__dict__ for r in report.results],
        "files": [
            {"file": c.file, "coverage": round(c.percent, 2), "not_covered": list(c.missed_lines)}
            for c in report.coverage
        ],
    }
