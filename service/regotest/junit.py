"""A `mlgate test` report as a JUnit XML document, the format CI systems read test results in
(GitLab, Jenkins, GitHub Actions reporters): one testsuite per Rego package, one testcase per
test or table case, `time` in seconds."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from service.regotest.run import TestReport, TestResult


def junit_xml(report: TestReport, elapsed: float) -> str:
    """The report as `<testsuites>`; failures carry the detail and, with --var-values, the
    failing expression; errors (a test that raised) are `<error>`."""
    suites: dict[str, list[TestResult]] = defaultdict(list)
    for result in report.results:
        suites[_package(result.name)].append(result)
    root = ET.Element(
        "testsuites",
        name="mlgate test",
        tests=str(len(report.results)),
        failures=str(sum(not r.passed and not r.errored for r in report.results)),
        errors=str(sum(r.errored for r in report.results)),
        time=f"{elapsed:.3f}",
    )
    for package, results in suites.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=package,
            tests=str(len(results)),
            failures=str(sum(not r.passed and not r.errored for r in results)),
            errors=str(sum(r.errored for r in results)),
            time=f"{sum(r.duration for r in results):.6f}",
        )
        for result in results:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=package,
                name=result.name.removeprefix(package.removeprefix("data.") + "."),
                file=result.file,
                line=str(result.row),
                time=f"{result.duration:.6f}",
            )
            if not result.passed:
                tag = "error" if result.errored else "failure"
                problem = ET.SubElement(case, tag, message=result.detail)
                problem.text = result.explanation or result.detail
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _package(name: str) -> str:
    return "data." + name.split("[", 1)[0].rsplit(".", 1)[0]
