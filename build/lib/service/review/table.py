"""The audit listing as CSV, one row per record, for a reviewer's spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

COLUMNS = (
    "seq",
    "kind",
    "id",
    "recorded_at",
    "gate",
    "outcome",
    "model",
    "version",
    "stage",
    "caller",
    "caller_role",
    "policy_revision",
    "reasons",
    "warnings",
    "waived",
    "signoffs",
    "content",
    "envelope_digest",
)


def audit_csv(rows: Iterable[Any]) -> str:
    """RFC 4180 CSV (csv.writer's quoting) of listing rows (pydantic models or mappings with
    the listing's fields): codes joined with spaces in `reasons` (what decided), `warnings`
    (not waived) and `waived`; sign-off record ids in `signoffs`; a non-decision record's
    signed content as compact JSON in `content`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(_cells(row.model_dump() if hasattr(row, "model_dump") else row))
    return out.getvalue()


def _cells(row: Mapping[str, Any]) -> list[str]:
    model = row.get("model") or {}
    caller = row.get("caller") or {}
    target = row.get("target") or {}
    content = row.get("content")
    warnings = row.get("warnings") or []
    values = {
        **{name: row.get(name) for name in COLUMNS},
        "model": model.get("name"),
        "version": model.get("version"),
        "stage": target.get("stage") or (content or {}).get("stage"),
        "caller": caller.get("id"),
        "caller_role": caller.get("role"),
        "reasons": _codes(row.get("reasons") or []),
        "warnings": _codes(w for w in warnings if not w.get("waiver")),
        "waived": _codes(w for w in warnings if w.get("waiver")),
        "signoffs": " ".join(s["id"] for s in row.get("signoffs") or []),
        "content": json.dumps(content, sort_keys=True, separators=(",", ":")) if content else "",
    }
    return ["" if values[name] is None else str(values[name]) for name in COLUMNS]


def _codes(reasons: Iterable[Mapping[str, Any]]) -> str:
    return " ".join(reason["code"] for reason in reasons)
