"""What the CI reports (junit.py, sarif.py) share: a decision and the decisions it triggered,
each rule the gate evaluated with the reasons and warnings it gave, and the decision's facts
(id, policy revision, audit seq, the enact line)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from service.decision.model import DecisionAnswer, Reason
from service.engine.catalogue import RuleEntry
from service.review.catalogue import ReportCatalogue


@dataclass(frozen=True)
class RuleFindings:
    """One rule of a decision: its catalogue entry (None for a code the catalogue lacks), the
    reasons it gave (each stopped the decision), its waived warnings and its other warnings."""

    code: str
    entry: RuleEntry | None
    reasons: list[Reason] = field(default_factory=list)
    waived: list[Reason] = field(default_factory=list)
    warnings: list[Reason] = field(default_factory=list)


def chain(decision: DecisionAnswer) -> Iterator[DecisionAnswer]:
    """`decision`, then the decision it triggered (a monitoring rollback's rollback), and so on."""
    current: DecisionAnswer | None = decision
    while current is not None:
        yield current
        current = current.triggered


def findings(decision: DecisionAnswer, catalogue: ReportCatalogue) -> list[RuleFindings]:
    """Every rule the gate evaluated, in catalogue order, then each code a reason or warning
    carries that the catalogue lacks (never dropped), in the decision's order."""
    by_code = {
        entry.code: RuleFindings(entry.code, entry) for entry in catalogue.evaluated(decision)
    }
    for reason in decision.reasons:
        by_code.setdefault(reason.code, RuleFindings(reason.code, None)).reasons.append(reason)
    for warning in decision.warnings:
        found = by_code.setdefault(warning.code, RuleFindings(warning.code, None))
        (found.waived if warning.waiver else found.warnings).append(warning)
    return list(by_code.values())


def reason_text(reason: Reason) -> str:
    """The reason's message with its control ids, as the text format prints it."""
    controls = f"  [{', '.join(reason.controls)}]" if reason.controls else ""
    return reason.message + controls


def reason_details(reason: Reason) -> str:
    """The reason in full, one fact a line: message, severity, controls, the figures."""
    lines = [reason.message, f"severity: {reason.severity}"]
    if reason.controls:
        lines.append(f"controls: {', '.join(reason.controls)}")
    lines += [
        f"{name}: {value}" for name, value in reason_figures(reason).items() if value is not None
    ]
    return "\n".join(lines)


def reason_figures(reason: Reason) -> dict[str, Any]:
    """The figures a reason quotes, None where it quotes none: the field or metric at fault,
    and the actual value, threshold, baseline and relative change (the metric's units)."""
    return {
        "field": reason.field,
        "metric": reason.metric,
        "actual": reason.actual,
        "threshold": reason.threshold,
        "baseline": reason.baseline,
        "relative_change": reason.relative_change,
    }


def waiver_text(reason: Reason) -> str:
    """Who waived `reason`, until when, and why."""
    w = reason.waiver or {}
    return f"waived by {w.get('approved_by')} until {w.get('expires_at')}: {w.get('reason')}"


def enact_line(decision: DecisionAnswer) -> str | None:
    """The enact line of the text format, or None when nothing was asked to be enacted."""
    if decision.enactment is None:
        return None
    record = decision.enactment.record
    return decision.enactment.note + (f"  (seq {record})" if record else "")


def facts(decision: DecisionAnswer, catalogue: ReportCatalogue) -> dict[str, str]:
    """The decision's facts a report carries as properties, by name."""
    found = {
        "decision_id": decision.decision_id,
        "gate": decision.gate,
        "outcome": decision.outcome,
        "model": f"{decision.model.name} v{decision.model.version}",
        "policy_revision": decision.policy_revision,
        "audit_seq": str(decision.audit.seq) if decision.audit is not None else None,
        "enact": enact_line(decision),
        "catalogue_revision": catalogue.revision,
        "catalogue_note": catalogue.revision_note(decision),
    }
    return {name: value for name, value in found.items() if value is not None}
