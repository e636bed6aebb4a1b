"""A decision as a JUnit XML report, the test-result format CI systems show (GitLab's
`artifacts:reports:junit`, GitHub Actions test reporters, Jenkins): one testsuite per decision
(the decision and any it triggered), one testcase per rule the gate evaluated, a <failure> per
reason that stopped the decision, the decision's facts as the suite's properties.

The elements are those GitLab's reader takes (gitlab-org/gitlab,
lib/gitlab/ci/parsers/test/junit.rb: a case's <failure>, <error> or <skipped> text becomes its
details) and `mlgate test --format junit` writes (service/regotest/junit.py)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

from service.decision.model import DecisionAnswer
from service.review.catalogue import ReportCatalogue
from service.review.reports import (
    RuleFindings,
    chain,
    facts,
    findings,
    reason_details,
    reason_text,
    waiver_text,
)

SERVICE_CLASS = "mlgate.service"
UNCATALOGUED_CLASS = "uncatalogued"
# Characters XML 1.0 cannot carry even escaped (https://www.w3.org/TR/xml/#charsets): a message
# quoting evidence could hold one, and a parser would refuse the whole report.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def decision_junit(
    decision: DecisionAnswer,
    catalogue: ReportCatalogue,
    headline: Callable[[DecisionAnswer], str],
) -> str:
    """The report as `<testsuites>`: a `<testsuite>` named `headline(d)` for `decision` and for
    each decision it triggered. ElementTree escapes the text; characters XML cannot carry
    become U+FFFD."""
    root = ET.Element("testsuites", name="mlgate")
    for judged in chain(decision):
        _suite(root, judged, catalogue, headline(judged))
    _count(root, root.findall("testsuite"))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _suite(
    root: ET.Element, decision: DecisionAnswer, catalogue: ReportCatalogue, name: str
) -> None:
    suite = ET.SubElement(root, "testsuite", name=_xml(name))
    properties = ET.SubElement(suite, "properties")
    for key, value in facts(decision, catalogue).items():
        ET.SubElement(properties, "property", name=key, value=_xml(value))
    for found in findings(decision, catalogue):
        _case(suite, found, catalogue)
    _count(suite, [suite])
    note = catalogue.revision_note(decision)
    if note is not None:
        ET.SubElement(suite, "system-err").text = _xml(note)


def _case(suite: ET.Element, found: RuleFindings, catalogue: ReportCatalogue) -> None:
    entry = found.entry
    case = ET.SubElement(suite, "testcase", name=found.code, classname=UNCATALOGUED_CLASS)
    if entry is not None:
        case.set("name", _xml(f"{entry.code}: {entry.title}" if entry.title else entry.code))
        if entry.package:
            case.set("classname", f"data.{entry.package}")
            case.set("file", entry.file)  # relative to the policy directory
            case.set("line", str(entry.line))
        else:
            case.set("classname", SERVICE_CLASS)
    for reason in found.reasons:
        failure = ET.SubElement(
            case, "failure", type=reason.code, message=_xml(reason_text(reason))
        )
        failure.text = _xml(reason_details(reason))
    # A waived reason did not stop the decision, nor did it pass: a person set it aside until a
    # date. <skipped> is the state JUnit readers show apart from passes and failures, with its
    # message (GitLab shows a skipped case's text as its details; the GitHub Actions reporters
    # list skipped cases separately), and it does not fail the report as the decision did not.
    if found.waived and not found.reasons:
        skipped = ET.SubElement(case, "skipped", message=_xml(waiver_text(found.waived[0])))
        skipped.text = _xml("\n\n".join(reason_details(r) for r in found.waived))
    # Each warning is also a line of the case's output, saying whether it is a waiver or a
    # warning that waives nothing: a case whose rule only warned stays passed (the rule did not
    # stop the decision) and still shows what it warned of.
    output = [] if entry else [f"{found.code} is not in the rule catalogue ({catalogue.source})"]
    output += [f"warning {r.code}: {reason_text(r)}" for r in found.warnings]
    output += [f"waived {r.code}: {reason_text(r)} ({waiver_text(r)})" for r in found.waived]
    if output:
        ET.SubElement(case, "system-out").text = _xml("\n".join(output))


def _count(element: ET.Element, suites: list[ET.Element]) -> None:
    cases = [case for suite in suites for case in suite.findall("testcase")]
    element.set("tests", str(len(cases)))
    element.set("failures", str(sum(case.find("failure") is not None for case in cases)))
    element.set("errors", "0")
    element.set("skipped", str(sum(case.find("skipped") is not None for case in cases)))


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)
