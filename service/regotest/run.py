"""Runs every `test_*` rule of a Rego library with OPA and measures line coverage, as `opa test`.

Works on any library laid out the usual way: .rego files anywhere, tests in packages of their own.
The library is compiled once, for one fixed query that evaluates the tests a Python built-in
names; each test is one evaluation of that prepared query (time linear in the number of tests,
a duration per test), and coverage is one more evaluation of them all with OPA's cover tracer.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.engine.bindings import new_opa, opa_message
from service.errors import PolicyLoadError
from service.regotest.explain import failed_expression
from service.regotest.library import RegoLibrary, load_library
from service.regotest.source import package_of, test_rules
from service.regotest.tablecases import NO_CASE_RULES, case_rules
from service.regotest.v0 import looks_like_v0

try:
    from opa_bindings import OpaError
except ImportError:  # pragma: no cover - new_opa() reports the missing engine
    OpaError = Exception

# The built-in through which each evaluation learns which tests to run: data paths, as lists.
TARGETS_BUILTIN = "mlgate.test_targets"
V0_HINT = "this library is written in Rego v0 (OPA before 1.0): run `mlgate test --v0-compatible`"


@dataclass(frozen=True)
class RunOptions:
    """`data_paths` are extra data files or directories; `run` a regular expression a test's
    full name (`data.pkg.test_x`) must contain; `timeout` is in seconds per test."""

    data_paths: tuple[Path, ...] = ()
    v0_compatible: bool = False
    run: str | None = None
    var_values: bool = False
    timeout: float | None = None


@dataclass(frozen=True)
class RegoTest:
    package: tuple[str, ...]
    rule: str
    file: str
    is_table: bool  # test_x[case] rules: each key of the resulting object is one case
    rows: tuple[int, int] = (0, 0)  # first and last row of the (first) definition

    @property
    def path(self) -> list[str]:
        return [*self.package, self.rule]

    @property
    def name(self) -> str:
        return ".".join([*self.package, self.rule])

    @property
    def query_ref(self) -> str:
        return "data" + "".join(f"[{json.dumps(p)}]" for p in (*self.package, self.rule))


@dataclass(frozen=True)
class TestResult:
    """One test (one case of a table test); `duration` in seconds, `row` where it is defined."""

    name: str
    file: str
    passed: bool
    detail: str = ""
    duration: float = 0.0
    row: int = 0
    explanation: str = ""  # with --var-values: the failing expression and its variables

    @property
    def errored(self) -> bool:
        """The test raised or timed out, rather than evaluating to something other than true."""
        return self.detail.startswith(("error:", "timed out"))


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


def run_rego_tests(root: Path, options: RunOptions | None = None) -> TestReport:
    """Load the library under `root`, run its tests one evaluation each, measure coverage.

    Raises PolicyLoadError when a file does not parse or compile (naming file and line, and
    saying so when the library is Rego v0 and `v0_compatible` is off)."""
    options = options or RunOptions()
    library = load_library(root, options.data_paths, v0_compatible=options.v0_compatible)
    tests = discover_tests(library)
    if options.run is not None:
        pattern = re.compile(options.run)
        tests = [t for t in tests if pattern.search("data." + t.name)]
    session = _Session(library, tests, options)
    try:
        return session.run()
    finally:
        session.close()


def discover_tests(library: RegoLibrary) -> list[RegoTest]:
    """Test rules of every module: top-level `test_*` rules without arguments."""
    tests: dict[tuple[str, ...], RegoTest] = {}
    for file, source in sorted(library.modules.items()):
        package = package_of(source)
        for rule in test_rules(source):
            test = RegoTest(
                package, rule.name, file, rule.is_table, (rule.first_row, rule.last_row)
            )
            tests.setdefault((*package, rule.name), test)
    return list(tests.values())


def _targets_query(depths: set[int]) -> str:
    """One query for every test: per package depth, the tests the built-in names at that depth
    (`data[p[0]][p[1]]`: the keys are bound when evaluated, so only those rules run)."""
    parts = [f"ps := {TARGETS_BUILTIN}()"]
    for n in sorted(depths):
        ref = "data" + "".join(f"[p[{i}]]" for i in range(n))
        parts.append(f"d{n} := [[i, [v | v := {ref}]] | some i, p in ps; count(p) == {n}]")
    return "; ".join(parts)


class TestTimedOut(Exception):
    """An evaluation ran past its timeout; its engine is still busy and must be abandoned."""


class _Session:
    """One engine with the library compiled for the tests' query."""

    def __init__(self, library: RegoLibrary, tests: list[RegoTest], options: RunOptions) -> None:
        self._library = library
        self._tests = tests
        self._options = options
        self._targets: list[list[str]] = []
        self._query = _targets_query({len(t.path) for t in tests} or {1})
        self._cases = NO_CASE_RULES if options.v0_compatible else case_rules(library.modules)
        self._opa = self._new_engine()

    def _new_engine(self) -> Any:
        if self._cases.modules:
            try:
                return self._compiled({**self._library.modules, **self._cases.modules})
            except OpaError:  # a case rule OPA refuses: those tests' cases come from the trace
                self._cases = NO_CASE_RULES
        try:
            return self._compiled(self._library.modules)
        except OpaError as exc:
            message = opa_message(exc)
            if looks_like_v0(message) and not self._options.v0_compatible:
                message = f"{message}\n{V0_HINT}"
            raise PolicyLoadError(message) from None

    def _compiled(self, modules: dict[str, str]) -> Any:
        """An engine with `modules` and the library's data, compiled for the tests' query."""
        opa = new_opa()
        opa.register_function(TARGETS_BUILTIN, lambda: self._targets)
        try:
            for name, source in modules.items():
                opa.add_policy(name, source)
            opa.add_data(self._library.data)
            self._targets = []
            opa.eval_query(self._query)  # compiles the library and prepares the query, once
        except OpaError:
            opa.close()
            raise
        return opa

    def close(self) -> None:
        if self._opa is not None:
            self._opa.close()

    def run(self) -> TestReport:
        report = TestReport()
        if not self._tests:
            return report
        healthy: list[RegoTest] = []
        for test in self._tests:
            results = self._run_one(test)
            report.results.extend(results)
            if not any(r.errored for r in results):
                healthy.append(test)
        report.coverage = self._coverage(healthy)
        return report

    def _evaluate(self, targets: list[list[str]], **flags: bool) -> dict[str, Any]:
        self._targets = targets
        timeout = self._options.timeout
        if timeout is None:
            rows = self._opa.eval_query(self._query, None, **flags)
            return rows[0] if rows else {}
        outcome: dict[str, Any] = {}

        def evaluate() -> None:
            try:
                outcome["rows"] = self._opa.eval_query(self._query, None, **flags)
            except OpaError as exc:
                outcome["error"] = exc

        # The bindings cannot cancel an evaluation: past the timeout the engine is left to
        # finish on its own thread and the remaining tests get a fresh one.
        worker = threading.Thread(target=evaluate, daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            self._opa = self._new_engine()
            raise TestTimedOut
        if "error" in outcome:
            raise outcome["error"]
        rows = outcome["rows"]
        return rows[0] if rows else {}

    def _run_one(self, test: RegoTest) -> list[TestResult]:
        started = time.perf_counter()
        try:
            bindings = self._evaluate([test.path])
        except TestTimedOut:
            detail = f"timed out after {self._options.timeout:g}s"
            return [TestResult(test.name, test.file, False, detail, self._options.timeout or 0)]
        except OpaError as exc:
            elapsed = time.perf_counter() - started
            detail = f"error: {opa_message(exc)}"
            return [TestResult(test.name, test.file, False, detail, elapsed, test.rows[0])]
        elapsed = time.perf_counter() - started
        values: list[Any] = next((v for _, v in bindings.get(f"d{len(test.path)}", [])), [])
        results = _judge(test, values)
        if test.is_table and values and isinstance(values[0], dict | list):
            results += self._absent_cases(test, values[0])
        # A table test's cases share one evaluation: its time is on the first case.
        results = [_with(results[0], duration=elapsed), *results[1:]]
        if self._options.var_values and not all(r.passed for r in results):
            explanation = self._explain(test)
            results = [r if r.passed else _with(r, explanation=explanation) for r in results]
        return results

    def _absent_cases(
        self, test: RegoTest, produced: dict[str, Any] | list[Any]
    ) -> list[TestResult]:
        """The cases of a `test_x[case] if {...}` table whose body did not hold. Such a rule's
        value has a key only for the cases whose body held, so a failing case is simply
        absent: the cases the body reached are those its first statement names (a case rule,
        service/regotest/tablecases.py) or, as `opa test` finds them, read from the
        evaluation's trace (the values the case variable took inside the rule); those the
        value lacks failed."""
        variable = _case_variable(self._library.modules[test.file], test.rows[0])
        if variable is None:
            return []
        rule = self._cases.rules.get((test.file, test.rule))
        try:
            if rule is not None:
                reached = self._named_cases([*test.package, rule])
            else:
                reached = self._traced_cases(test, variable)
        except (OpaError, TestTimedOut):
            return []
        held = {json.dumps(case, sort_keys=True) for case in produced}
        absent = []
        for _, case in sorted(reached.items()):
            if isinstance(produced, dict) and not isinstance(case, str):
                # An object's keys are strings in its JSON: the case 1 is the key "1".
                case = json.dumps(case, sort_keys=True, separators=(",", ":"))
            if json.dumps(case, sort_keys=True) not in held:
                absent.append(
                    TestResult(
                        f"{test.name}[{json.dumps(case)}]",
                        test.file,
                        False,
                        "the case's body did not hold",
                        row=test.rows[0],
                    )
                )
        return absent

    def _named_cases(self, rule: list[str]) -> dict[str, Any]:
        """The cases a case rule (at data path `rule`) names, by their JSON."""
        found = self._evaluate([rule]).get(f"d{len(rule)}", [])
        values: list[Any] = next((v for _, v in found), [])
        return {json.dumps(case, sort_keys=True): case for case in (values[0] if values else [])}

    def _traced_cases(self, test: RegoTest, variable: str) -> dict[str, Any]:
        """The values `variable` took inside the test's rule, from a traced evaluation."""
        self._evaluate([test.path], trace=True)
        reached: dict[str, Any] = {}
        for event in self._opa.last_trace or []:
            match = _TRACE_LOCATION.match(str(event.get("location", "")))
            if match is None or match.group(1) != test.file:
                continue
            if not test.rows[0] <= int(match.group(2)) <= test.rows[1]:
                continue
            local_values = event.get("locals") or {}
            if variable in local_values:
                case = local_values[variable]
                reached[json.dumps(case, sort_keys=True)] = case
        return reached

    def _explain(self, test: RegoTest) -> str:
        try:
            self._evaluate([test.path], trace=True)
        except (OpaError, TestTimedOut):
            return ""
        source = self._library.modules[test.file]
        found = failed_expression(self._opa.last_trace or [], test.file, test.rows, source)
        return found.describe() if found else ""

    def _coverage(self, tests: list[RegoTest]) -> list[FileCoverage]:
        """Coverage of one evaluation of every test that did not error or time out."""
        if not tests:
            return []
        try:
            self._evaluate([t.path for t in tests], coverage=True)
        except (OpaError, TestTimedOut):
            return []
        return _file_coverage(self._opa.last_coverage or {}, self._library.root.name)


def _with(result: TestResult, **changes: Any) -> TestResult:
    return TestResult(**{**result.__dict__, **changes})


_TRACE_LOCATION = re.compile(r"^(.*):(\d+)$")


def _case_variable(source: str, row: int) -> str | None:
    """The variable naming the cases in the head of a `test_x[case]` rule at `row`, or None
    when the key is not a variable."""
    lines = source.splitlines()
    found = re.search(
        r"test_\w*\[\s*([A-Za-z_]\w*)\s*\]", lines[row - 1] if row <= len(lines) else ""
    )
    return found.group(1) if found else None


def _judge(test: RegoTest, values: list[Any]) -> list[TestResult]:
    if not values:
        detail = "undefined: a condition did not hold"
        return [TestResult(test.name, test.file, False, detail, row=test.rows[0])]
    value = values[0]
    if not test.is_table:
        ok = value is True
        detail = "" if ok else f"evaluated to {json.dumps(value)}"
        return [TestResult(test.name, test.file, ok, detail, row=test.rows[0])]
    if not isinstance(value, (dict, list)) or not value:
        detail = "no table case produced a result"
        return [TestResult(test.name, test.file, False, detail, row=test.rows[0])]
    cases = value.items() if isinstance(value, dict) else ((v, True) for v in value)
    return [
        TestResult(
            f"{test.name}[{json.dumps(case)}]",
            test.file,
            result is True,
            "" if result is True else f"evaluated to {json.dumps(result)}",
            row=test.rows[0],
        )
        for case, result in cases
    ]


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
