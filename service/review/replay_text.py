"""A replay report for people: a terminal table (text) and a pull-request comment (markdown),
outcome flips first, then decisions that keep their outcome with other reasons. The machine
form is ReplayReport.to_json()."""

from __future__ import annotations

from service.review.replay import Replayed, ReplayReport

_COLUMNS = ("seq", "decision", "gate", "model", "stage", "recorded -> now", "reasons")


def summary_lines(report: ReplayReport, policies: str) -> list[str]:
    """The counts, one line each: what a person reads first."""
    flips = report.flips
    lines = [
        f"replayed {_decisions(len(report.replayed))} under policy revision "
        f"{report.revision} ({policies}); nothing was recorded or enacted"
    ]
    if flips:
        kinds = ", ".join(f"{transition} {count}" for transition, count in report.transitions())
        lines.append(f"  {len(flips)} would change outcome: {kinds}")
    else:
        lines.append("  no outcome would change")
    lines.append(f"  {len(report.changes)} would keep their outcome with other reasons")
    unchanged = len(report.replayed) - len(flips) - len(report.changes)
    lines.append(f"  {unchanged} unchanged")
    if report.unreplayable:
        lines.append(
            f"  {len(report.unreplayable)} could not be replayed, so this replay does not show "
            "that nothing flips"
        )
    return lines


def text(report: ReplayReport, policies: str) -> str:
    """The summary, then a table of the flips and one of the changed reason sets, then the
    decisions that could not be replayed and why."""
    lines = summary_lines(report, policies)
    for title, rows in (
        ("outcome flips", report.flips),
        ("same outcome, other reasons or warnings", report.changes),
    ):
        if rows:
            lines += ["", title, *_table([_cells(row) for row in rows])]
    if report.unreplayable:
        lines += ["", "could not be replayed"]
        lines += [f"  seq {u.seq} ({u.decision_id}): {u.problem}" for u in report.unreplayable]
    return "\n".join(lines)


def markdown(report: ReplayReport, policies: str) -> str:
    """GitHub-flavoured markdown for a policy pull request's comment or job summary."""
    verdict = (
        f"**{_decisions(len(report.flips))} would change outcome**"
        if report.flips
        else "**No recorded decision would change outcome**"
    )
    lines = ["### mlgate replay", "", verdict, ""]
    lines += [f"- {line.strip()}" for line in summary_lines(report, policies)[1:]]
    lines.append(f"- policy revision `{report.revision}` ({policies})")
    for title, rows in (
        ("Outcome flips", report.flips),
        ("Same outcome, other reasons or warnings", report.changes),
    ):
        if rows:
            lines += ["", f"#### {title}", "", "| " + " | ".join(_COLUMNS) + " |"]
            lines.append("|" + " --- |" * len(_COLUMNS))
            for row in rows:
                cells = [cell.replace("|", "\\|") for cell in _cells(row)]
                lines.append("| " + " | ".join(cells) + " |")
    if report.unreplayable:
        lines += ["", "#### Could not be replayed", ""]
        lines += [f"- seq {u.seq} (`{u.decision_id}`): {u.problem}" for u in report.unreplayable]
    return "\n".join(lines) + "\n"


def _decisions(count: int) -> str:
    return f"{count} recorded decision{'' if count == 1 else 's'}"


def _cells(row: Replayed) -> list[str]:
    described = row.to_json()
    changes = [f"+{code}" for code in described["reasons_added"]]
    changes += [f"-{code}" for code in described["reasons_removed"]]
    changes += [f"+warning {code}" for code in described["warnings_added"]]
    changes += [f"-warning {code}" for code in described["warnings_removed"]]
    return [
        str(row.seq),
        row.decision_id,
        row.gate,
        row.model,
        row.stage or "-",
        row.transition if row.flipped else row.outcome,
        " ".join(changes) or "-",
    ]


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [list(_COLUMNS), *rows]) for i in range(len(_COLUMNS))]
    return [
        "  "
        + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [list(_COLUMNS), *rows]
    ]
