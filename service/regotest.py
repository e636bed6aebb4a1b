"""Runs every `test_*` rule of a Rego library in one OPA evaluation and measures line coverage.

Works on any library laid out the usual way: .rego files anywhere, tests in packages of their own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.engine.embedded import load_into, new_opa, opa_message
from service.engine.policyset import PolicySet, load_policy_set

try:
    from opa_bindings import OpaError
except ImportError:  # pragma: no cover - new_opa() reports the missing engine
    OpaError = Exception


@dataclass(frozen=True)
class RegoTest:
    package: tuple[str, ...]
    rule: str
    file: str
    is_table: bool  # test_x[case] rules: each key of the resulting object is one case

    @property
    def name(self) -> str:
        return ".".join([*self.package, self.rule])

    @property
    def query_ref(self) -> str:
        return "data" + "".join(f"[{json.dumps(p)}]" for p in (*self.package, self.rule))


@dataclass(frozen=True)
class TestResult:
    name: str
    file: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class FileCoverage:
    file: str
    covered: int
    not_covered: int
    missed_lines: tuple[int, ...]

    @property
    def percent(self) -> float:
        total = self.covered + self.not_covered
        return 100.0 * self.covered / total if total else 100.0


@dataclass
class TestReport:
    results: list[TestResult] = field(default_factory=list)
    coverage: list[FileCoverage] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed

    @property
    def coverage_percent(self) -> float:
        covered = sum(c.covered for c in self.coverage)
        total = covered + sum(c.not_covered for c in self.coverage)
        return 100.0 * covered / total if total else 100.0


def run_rego_tests(root: Path) -> TestReport:
    """Load the library under `root`, run its tests in one evaluation, and measure coverage."""
    policy_set = load_policy_set(root)
    opa = new_opa()
    try:
        load_into(opa, policy_set)
        tests = discover_tests(opa, policy_set)
        return _run(opa, policy_set, tests)
    finally:
        opa.close()


def discover_tests(opa: Any, policy_set: PolicySet) -> list[RegoTest]:
    """Test rules found by parsing each module with OPA's own parser (rego.parse_module)."""
    prefix = policy_set.root.name
    sources = {f"{prefix}/{rel}": src for rel, src in policy_set.modules.items()}
    query = "parsed := {f: rego.parse_module(f, src) | some f, src in input}"
    parsed = opa.eval_query(query, sources)[0]["parsed"]
    tests: dict[tuple[tuple[str, ...], str], RegoTest] = {}
    for file, module in sorted(parsed.items()):
        package = tuple(str(p["value"]) for p in module["package"]["path"][1:])
        for rule in module.get("rules", []):
            head = rule["head"]
            name = str(head["ref"][0]["value"])
            if not name.startswith("test_") or head.get("args"):
                continue
            # Incremental definitions of one test rule are one test.
            key = (package, name)
            tests.setdefault(key, RegoTest(package, name, file, len(head["ref"]) > 1))
    return list(tests.values())


def _run(opa: Any, policy_set: PolicySet, tests: list[RegoTest]) -> TestReport:
    report = TestReport()
    if not tests:
        return report
    bindings: dict[str, Any] | None
    try:
        # Undefined tests make the whole conjunction undefined, so wrap each in a comprehension.
        wrapped = "; ".join(f"t{i} := [x | x := {t.query_ref}]" for i, t in enumerate(tests))
        rows = opa.eval_query(wrapped, None, coverage=True)
        bindings = rows[0] if rows else {}
        coverage = opa.last_coverage
    except OpaError:
        bindings, coverage = None, None
    for i, test in enumerate(tests):
        if bindings is None:  # some test raised an error: run each alone to say which
            report.results.extend(_run_alone(opa, test))
        else:
            report.results.extend(_judge(test, bindings.get(f"t{i}", [])))
    if coverage is None:  # the shared evaluation failed; measure coverage without the failures
        coverage = _coverage_without_errors(opa, tests, report)
    report.coverage = _file_coverage(coverage or {}, policy_set.root.name)
    return report


def _judge(test: RegoTest, values: list[Any]) -> list[TestResult]:
    if not values:
        return [TestResult(test.name, test.file, False, "undefined: a condition did not hold")]
    value = values[0]
    if not test.is_table:
        ok = value is True
        return [TestResult(test.name, test.file, ok, "" if ok else f"evaluated to {value!r}")]
    if not isinstance(value, (dict, list)) or not value:
        return [TestResult(test.name, test.file, False, "no table case produced a result")]
    cases = value.items() if isinstance(value, dict) else ((v, True) for v in value)
    return [
        TestResult(
            f"{test.name}[{json.dumps(case)}]",
            test.file,
            result is True,
            "" if result is True else f"evaluated to {json.dumps(result)}",
        )
        for case, result in cases
    ]


def _run_alone(opa: Any, test: RegoTest) -> list[TestResult]:
    try:
        rows = opa.eval_query(f"t := [x | x := {test.query_ref}]")
    except OpaError as exc:
        return [TestResult(test.name, test.file, False, f"error: {opa_message(exc)}")]
    return _judge(test, rows[0]["t"] if rows else [])


def _coverage_without_errors(
    opa: Any, tests: list[RegoTest], report: TestReport
) -> dict[str, Any] | None:
    failed = {r.name for r in report.results if r.detail.startswith("error:")}
    healthy = [t for t in tests if t.name not in failed]
    if not healthy:
        return None
    query = "; ".join(f"t{i} := [x | x := {t.query_ref}]" for i, t in enumerate(healthy))
    try:
        opa.eval_query(query, None, coverage=True)
    except OpaError:
        return None
    coverage: dict[str, Any] | None = opa.last_coverage
    return coverage


def _file_coverage(coverage: dict[str, Any], prefix: str) -> list[FileCoverage]:
    """Coverage of the library's own non-test files (tests cover code; they are not the code)."""
    files = []
    for file, info in sorted(coverage.get("files", {}).items()):
        if not file.startswith(f"{prefix}/") or file.endswith("_test.rego"):
            continue
        missed = sorted(
            {
                row
                for span in info.get("not_covered") or []
                for row in range(span["start"]["row"], span["end"]["row"] + 1)
            }
        )
        files.append(
            FileCoverage(
                file,
                int(info.get("covered_lines", 0)),
                int(info.get("not_covered_lines", 0)),
                tuple(missed),
            )
        )
    return files
