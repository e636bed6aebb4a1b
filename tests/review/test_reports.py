"""The CI reports of a decision (service/review/): what no fixture decision carries, a code the
catalogue lacks, text XML cannot carry, a catalogue of another revision, a triggered decision."""

from __future__ import annotations

import json
from typing import Any

from junitparser import Failure, JUnitXml

from service.decision.judge import Judge
from service.decision.model import AuditReceipt, DecisionAnswer, Reason, answered
from service.engine.policyset import load_policy_set
from service.review.catalogue import ReportCatalogue, local_catalogue
from service.review.junit import decision_junit
from service.review.sarif import decision_sarif
from tests.conftest import POLICY_DIR, fixture_input

CATALOGUE = local_catalogue(load_policy_set(POLICY_DIR))
RECEIPT = AuditReceipt(seq=41, envelope_digest="sha256:" + "0" * 64)


def headline(decision: DecisionAnswer) -> str:
    return f"{decision.gate} {decision.decision_id}"


def denied(gatekeeper: Judge, *extra: Reason) -> DecisionAnswer:
    decision = gatekeeper.judge(fixture_input("regressed")).decision
    reasons = [*decision.reasons, *extra]
    return answered(decision.model_copy(update={"reasons": reasons}), RECEIPT)


def test_a_code_the_catalogue_lacks_is_still_a_failing_case_and_a_result(
    gatekeeper: Judge, sarif_schema: Any
) -> None:
    stray = Reason(rule="handmade", code="NOT_CATALOGUED", severity="high", message="made by hand")
    decision = denied(gatekeeper, stray)

    [suite] = JUnitXml.fromstring(decision_junit(decision, CATALOGUE, headline))
    [case] = [c for c in suite if c.name == "NOT_CATALOGUED"]
    log = json.loads(decision_sarif(decision, CATALOGUE))

    assert case.classname == "uncatalogued"
    assert [(r.type, r.message) for r in case.result] == [("NOT_CATALOGUED", "made by hand")]
    assert case.system_out == f"NOT_CATALOGUED is not in the rule catalogue ({CATALOGUE.source})"
    assert log["runs"][0]["results"][-1] == {
        "ruleId": "NOT_CATALOGUED",
        "level": "error",
        "message": {"text": "made by hand"},
        "properties": {"rule": "handmade", "severity": "high", "controls": [], "catalogued": False},
    }
    assert "NOT_CATALOGUED" not in {r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert sarif_schema.is_valid(log)


def test_text_xml_cannot_carry_is_replaced_and_markup_escaped(gatekeeper: Judge) -> None:
    message = 'field "a<b>&c" holds \x1b[31m, \x00 and \ud800'
    stray = Reason(rule="r", code="NOT_CATALOGUED", severity="high", message=message)

    xml = decision_junit(denied(gatekeeper, stray), CATALOGUE, headline)

    [suite] = JUnitXml.fromstring(xml)
    [case] = [c for c in suite if c.name == "NOT_CATALOGUED"]
    assert case.result[0].message == 'field "a<b>&c" holds \ufffd[31m, \ufffd and \ufffd'


def test_a_catalogue_of_another_revision_is_said_in_both_reports(gatekeeper: Judge) -> None:
    decision = denied(gatekeeper)
    other = ReportCatalogue(
        revision="sha256:" + "1" * 64, rules=CATALOGUE.rules, source="GET http://x/v1/policies"
    )
    note = (
        f"the rule catalogue (GET http://x/v1/policies) is of policy revision sha256:{'1' * 64}, "
        f"but decision {decision.decision_id} was made under {decision.policy_revision}: the "
        "rules' titles, files and lines shown are those of the catalogue's revision"
    )

    [suite] = JUnitXml.fromstring(decision_junit(decision, other, headline))
    [run] = json.loads(decision_sarif(decision, other))["runs"]

    properties = {p.name: p.value for p in suite.properties()}
    assert properties["catalogue_note"] == note
    assert suite._elem.findtext("system-err") == note
    assert run["invocations"] == [
        {
            "executionSuccessful": True,
            "toolExecutionNotifications": [{"level": "note", "message": {"text": note}}],
        }
    ]
    assert "uri" not in run["originalUriBaseIds"]["POLICIES"]  # no absolute base remotely


def test_a_triggered_decision_is_a_suite_and_a_run_of_its_own(
    gatekeeper: Judge, sarif_schema: Any
) -> None:
    first = gatekeeper.judge(fixture_input("regressed")).decision
    second = denied(gatekeeper)
    decision = answered(first, RECEIPT, triggered=second)

    suites = list(JUnitXml.fromstring(decision_junit(decision, CATALOGUE, headline)))
    log = json.loads(decision_sarif(decision, CATALOGUE))

    assert [s.name for s in suites] == [headline(first), headline(second)]
    assert [r["properties"]["decision_id"] for r in log["runs"]] == [
        first.decision_id,
        second.decision_id,
    ]
    assert all(isinstance(c.result[0], Failure) for s in suites for c in s if c.result)
    assert sarif_schema.is_valid(log)


def test_a_warning_that_waives_nothing_passes_its_case_and_is_no_suppression(
    gatekeeper: Judge, sarif_schema: Any
) -> None:
    judged = gatekeeper.judge(fixture_input("approved")).decision
    conflict = Reason(
        rule="Evidence agrees with the registry",
        code="EVIDENCE_CONFLICT",
        severity="low",
        message="the card sent differs from the registry's; the registry's is used",
    )
    decision = answered(judged.model_copy(update={"warnings": [conflict]}), RECEIPT)

    [suite] = JUnitXml.fromstring(decision_junit(decision, CATALOGUE, headline))
    [case] = [c for c in suite if c.name.startswith("EVIDENCE_CONFLICT:")]
    [run] = json.loads(decision_sarif(decision, CATALOGUE))["runs"]

    assert (case.classname, case.result, case.system_out) == (
        "mlgate.service",
        [],
        f"warning EVIDENCE_CONFLICT: {conflict.message}",
    )
    [result] = run["results"]
    assert (result["ruleId"], result["level"], "suppressions" in result) == (
        "EVIDENCE_CONFLICT",
        "warning",
        False,
    )
    assert result["locations"] == [
        {"logicalLocations": [{"fullyQualifiedName": "mlgate service", "kind": "module"}]}
    ]
    assert sarif_schema.is_valid({"version": "2.1.0", "runs": [run]})
