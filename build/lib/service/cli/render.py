"""Decisions for people (text, markdown for CI job summaries), for machines (JSON) and for CI
systems' reports (GitHub annotations, JUnit XML, SARIF)."""

from __future__ import annotations

import json

from service.decision.model import DecisionAnswer, Reason
from service.gates.registry import default_gates
from service.review.catalogue import ReportCatalogue
from service.review.junit import decision_junit
from service.review.sarif import decision_sarif

FORMATS = ("text", "json", "markdown", "github", "junit", "sarif")
# The formats that report a decision and those it triggered in one document, described with
# the rule catalogue.
REPORT_FORMATS = ("junit", "sarif")
_MARK = {"allow": "✅", "hold": "⏸️", "deny": "⛔", "rollback": "↩️"}


def render(decision: DecisionAnswer, fmt: str, catalogue: ReportCatalogue | None = None) -> str:
    """`decision` in format `fmt`; the REPORT_FORMATS need the `catalogue` (ValueError without
    it) and include the decisions `decision` triggered."""
    if fmt in REPORT_FORMATS:
        if catalogue is None:
            raise ValueError(f"--format {fmt} needs the rule catalogue")
        if fmt == "junit":
            return decision_junit(decision, catalogue, _headline)
        return decision_sarif(decision, catalogue)
    if fmt == "json":
        return json.dumps(decision.model_dump(mode="json", exclude_none=True), indent=2)
    if fmt == "markdown":
        return _markdown(decision)
    if fmt == "github":
        return _github(decision)
    return _text(decision)


# GitHub Actions' workflow commands: each reason an annotation on the job (deny, rollback and
# hold reasons as errors, warnings and waivers as warnings), then the decision's line.
# https://docs.github.com/actions/reference/workflow-commands-for-github-actions
_ANNOTATION = {"allow": "notice", "hold": "error", "deny": "error", "rollback": "error"}


def _github(decision: DecisionAnswer) -> str:
    level = _ANNOTATION.get(decision.outcome, "error")
    lines = [
        f"::{level} title={_property(r.code)}::{_data(r.message + _controls(r))}"
        for r in decision.reasons
    ]
    lines += [
        f"::warning title={_property(r.code + _waived(r))}::{_data(r.message + _waiver(r))}"
        for r in decision.warnings
    ]
    if decision.enactment is not None:
        lines.append(f"::notice title=enact::{_data(decision.enactment.note)}")
    lines.append(
        f"{decision.outcome.upper()}  {_headline(decision)}  decision {decision.decision_id}"
    )
    return "\n".join(lines)


def _data(text: str) -> str:
    """A workflow command's message, escaped as the runner's toolkit escapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    """A workflow command's property value, escaped as the runner's toolkit escapes it."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _headline(decision: DecisionAnswer) -> str:
    target = (decision.target or {}).get("stage")
    spec = default_gates().get(decision.gate)
    where = f" {spec.stage_preposition if spec else 'to'} {target}" if target else ""
    if decision.target_version:
        where += f", back to v{decision.target_version}"
    return f"{decision.gate} of {decision.model.name} v{decision.model.version}{where}"


def _text(decision: DecisionAnswer) -> str:
    lines = [f"{decision.outcome.upper()}  {_headline(decision)}"]
    lines += [f"  ✗ {r.code}: {r.message}{_controls(r)}" for r in decision.reasons]
    lines += [f"  ! {r.code}{_waived(r)}: {r.message}{_waiver(r)}" for r in decision.warnings]
    lines.append(f"decision {decision.decision_id}  policy {decision.policy_revision[:19]}")
    if decision.audit is not None:
        lines[-1] += f"  audit seq {decision.audit.seq}"
    if decision.enactment is not None:
        record = decision.enactment.record
        lines.append(f"enact: {decision.enactment.note}" + (f"  (seq {record})" if record else ""))
    return "\n".join(lines)


def _waived(reason: Reason) -> str:
    return " (waived)" if reason.waiver else ""


def _controls(reason: Reason) -> str:
    return f"  [{', '.join(reason.controls)}]" if reason.controls else ""


def _waiver(reason: Reason) -> str:
    if not reason.waiver:
        return ""
    w = reason.waiver
    return f" (waived by {w.get('approved_by')} until {w.get('expires_at')}: {w.get('reason')})"


def _markdown(decision: DecisionAnswer) -> str:
    mark = _MARK.get(decision.outcome, "")
    lines = [f"### {mark} {decision.outcome.upper()}: {_headline(decision)}", ""]
    if decision.reasons:
        lines += ["| code | severity | reason | controls |", "| --- | --- | --- | --- |"]
        lines += [
            f"| `{r.code}` | {r.severity} | {_cell(r.message)} | {_cell(', '.join(r.controls))} |"
            for r in decision.reasons
        ]
        lines.append("")
    waived = [r for r in decision.warnings if r.waiver]
    others = [r for r in decision.warnings if not r.waiver]
    for title, listed in (("Warnings", others), ("Waived", waived)):
        if listed:
            lines += [f"**{title}**", ""]
            lines += [f"- `{r.code}`: {_cell(r.message)}{_waiver(r)}" for r in listed]
            lines.append("")
    if decision.enactment is not None:
        lines += [f"**Enact**: {_cell(decision.enactment.note)}", ""]
    audit = f", audit seq {decision.audit.seq}" if decision.audit else ""
    lines.append(
        f"<sub>decision `{decision.decision_id}`, policy `{decision.policy_revision[:19]}`"
        f"{audit}</sub>"
    )
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
