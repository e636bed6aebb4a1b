"""A decision as a SARIF 2.1.0 log, the format code-scanning tools read (GitHub code scanning,
GitLab, IDE viewers): one run per decision (the decision and any it triggered), one result per
reason and warning, the rules from the rule catalogue, each located at its policy file and line.

Objects and properties as the OASIS standard names them:
https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/sarif-v2.1.0-errata01-os.html"""

from __future__ import annotations

import json
from typing import Any

from service.decision.model import DecisionAnswer, Reason
from service.engine.catalogue import RuleEntry
from service.review.catalogue import ReportCatalogue
from service.review.reports import (
    chain,
    enact_line,
    facts,
    findings,
    reason_figures,
    reason_text,
)

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
# The base of every policy file's URI: the policy directory (§3.14.14 originalUriBaseIds).
POLICIES = "POLICIES"
# A rule's severity as the SARIF level of its results by default (§3.27.10).
_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


def decision_sarif(decision: DecisionAnswer, catalogue: ReportCatalogue) -> str:
    """The SARIF log of `decision` and of each decision it triggered, as indented JSON."""
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [_run(judged, catalogue) for judged in chain(decision)],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)


def _run(decision: DecisionAnswer, catalogue: ReportCatalogue) -> dict[str, Any]:
    found = findings(decision, catalogue)
    rules = [f.entry for f in found if f.entry is not None]
    index = {entry.code: i for i, entry in enumerate(rules)}
    results = [
        _result(reason, found_rule.entry, index, _reason_level(decision))
        for found_rule in found
        for reason in found_rule.reasons
    ]
    results += [
        _result(warning, found_rule.entry, index, "warning")
        for found_rule in found
        for warning in [*found_rule.warnings, *found_rule.waived]
    ]
    notes = [line for line in (enact_line(decision), catalogue.revision_note(decision)) if line]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if notes:
        invocation["toolExecutionNotifications"] = [
            {"level": "note", "message": {"text": note}} for note in notes
        ]
    # A URI base must be absolute (§3.14.14): only a policy directory on this machine has one.
    base: dict[str, Any] = {"description": {"text": f"The policy directory: {catalogue.source}"}}
    if catalogue.root is not None:
        base["uri"] = catalogue.root.as_uri() + "/"
    return {
        "tool": {"driver": {"name": "mlgate", "rules": [_descriptor(entry) for entry in rules]}},
        "automationDetails": {"id": f"mlgate/{decision.gate}/{decision.decision_id}"},
        "originalUriBaseIds": {POLICIES: base},
        "invocations": [invocation],
        "results": results,
        "properties": facts(decision, catalogue),
    }


def _reason_level(decision: DecisionAnswer) -> str:
    # A reason of a hold, deny or rollback stopped the decision; an allow carries none.
    return "note" if decision.outcome == "allow" else "error"


def _descriptor(entry: RuleEntry) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": entry.code,
        "shortDescription": {"text": entry.title or entry.code},
        "defaultConfiguration": {"level": _LEVEL.get(entry.severity, "error")},
        "properties": {
            "severity": entry.severity,
            "controls": list(entry.controls),
            "tags": list(entry.controls),
            "rule": entry.rule,
        },
    }
    if entry.description:
        descriptor["fullDescription"] = {"text": entry.description}
    return descriptor


def _result(
    reason: Reason, entry: RuleEntry | None, index: dict[str, int], level: str
) -> dict[str, Any]:
    figures = {
        "rule": reason.rule,
        "severity": reason.severity,
        "controls": reason.controls,
        **reason_figures(reason),
    }
    result: dict[str, Any] = {
        "ruleId": reason.code,
        "level": level,
        "message": {"text": reason_text(reason)},
        "properties": {k: v for k, v in figures.items() if v is not None},
    }
    if entry is not None:
        result["locations"] = _locations(entry)
        result["ruleIndex"] = index[entry.code]
    else:
        result["properties"]["catalogued"] = False
    if reason.waiver:
        waiver = dict(reason.waiver)
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": str(waiver.pop("reason", "")),
                "properties": waiver,  # who approved it, in which role, until when
            }
        ]
    return result


def _locations(entry: RuleEntry) -> list[dict[str, Any]]:
    """A policy rule at its file and line; a service rule as a logical location (its code is
    the service's, not a policy file). A code the catalogue lacks has no location."""
    if not entry.package:
        return [{"logicalLocations": [{"fullyQualifiedName": "mlgate service", "kind": "module"}]}]
    return [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": entry.file, "uriBaseId": POLICIES},
                "region": {"startLine": entry.line},
            },
            "logicalLocations": [{"fullyQualifiedName": entry.rule, "kind": "member"}],
        }
    ]
