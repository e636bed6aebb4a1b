"""Coverage thresholds of `mlgate test`: one for the library's total and one for each file, so a
new file nobody tests, or a new rule in a fully tested file, fails the run instead of vanishing
in a total.

`opa test --coverage --threshold` judges the total only
(https://www.openpolicyagent.org/docs/policy-testing#coverage). Here each file must reach the
total's threshold too, unless a file threshold says otherwise: `PERCENT` (every file) or
`GLOB=PERCENT` (the files whose path, as the coverage lists it, e.g. `policies/lib/x.rego`,
matches the shell pattern GLOB; the last matching one wins).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from service.errors import UsageError
from service.regotest.run import FileCoverage, TestReport


@dataclass(frozen=True)
class FileThreshold:
    """`percent` for the files matching `glob` (every file when `glob` is "*")."""

    glob: str
    percent: float

    @classmethod
    def parse(cls, text: str) -> FileThreshold:
        """`PERCENT` or `GLOB=PERCENT`; UsageError naming the flag and what was found."""
        glob, _, value = text.rpartition("=")
        return cls(glob or "*", percent(f"--file-threshold {text!r}", value))


def percent(what: str, value: str) -> float:
    """`value` as a percentage from 0 to 100; UsageError naming `what` otherwise."""
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number <= 100:
        raise UsageError(f"{what}: expected a percentage from 0 to 100, found {value!r}")
    return number


@dataclass(frozen=True)
class CoverageThresholds:
    """The total's threshold and the files' (in order: the last matching one applies)."""

    total: float
    files: tuple[FileThreshold, ...] = ()

    def for_file(self, file: str) -> float:
        """The threshold of `file`: the last file threshold matching it, else the total's."""
        found = self.total
        for rule in self.files:
            if fnmatchcase(file, rule.glob):
                found = rule.percent
        return found

    def problems(self, report: TestReport) -> list[str]:
        """One line per threshold missed: the total's, then each file's with its uncovered
        lines."""
        found = []
        if report.coverage_percent < self.total:
            found.append(f"coverage {report.coverage_percent:.1f}% is under {self.total:g}%")
        for file in report.coverage:
            threshold = self.for_file(file.file)
            if file.percent < threshold:
                found.append(_file_problem(file, threshold))
        return found


def _file_problem(file: FileCoverage, threshold: float) -> str:
    return (
        f"coverage of {file.file} {file.percent:.1f}% is under {threshold:g}% "
        f"(lines {line_ranges(file.missed_lines)}: no test reaches them)"
    )


def line_ranges(rows: tuple[int, ...]) -> str:
    """Sorted row numbers as spans: (3, 4, 5, 9) is "3-5, 9"."""
    spans: list[list[int]] = []
    for row in rows:
        if spans and row == spans[-1][1] + 1:
            spans[-1][1] = row
        else:
            spans.append([row, row])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
