"""The indexed columns of a ledger record as its signed envelope says they must be.

Queries (`GET /v1/audit?outcome=deny`, the sign-off reads) filter on columns copied out of the
envelope; the verifier and the listings compare those columns with what this module derives
from the signed statement, so an edited column cannot hide or invent a record unnoticed. The
writer derives event columns here too (`event_columns`), so writing and checking cannot drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.audit.kinds import DecisionColumns, EventColumns, Field, record_kind
from service.canonical import canonical_json, sha256_digest

# Predicate fields the chain adds to a record's own content.
CHAIN_FIELDS = ("seq", "prev", "recorded_at")
# The columns compared, in the order problems are listed.
CHECKED = (
    "decision_id",
    "kind",
    "recorded_at",
    "gate",
    "outcome",
    "model_name",
    "model_version",
    "caller_id",
    "artifact_digest",
    "stage",
    "risk_tier",
    "alias",
    "rolled_back_version",
    "keyid",
    "input_digest",
    "envelope_hash",
)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def event_columns(kind: str, content: Mapping[str, Any]) -> dict[str, str]:
    """outcome, caller_id, stage, alias and rolled_back_version of a non-decision record, from
    its own signed content, by its kind's rules (service/audit/kinds.py).

    Raises UnknownRecordKind for a kind not in the table, ValueError for a decision (its
    columns are its own fields), and KeyError if the content lacks the field its kind's outcome
    is read from.
    """
    rules = record_kind(kind).columns
    if not isinstance(rules, EventColumns):
        raise ValueError(f"a {kind} record is indexed by its own fields, not as an event")
    return _event_columns(rules, content)


def _event_columns(rules: EventColumns, content: Mapping[str, Any]) -> dict[str, str]:
    outcome = rules.outcome
    return {
        "outcome": _text(content[outcome.name]) if isinstance(outcome, Field) else outcome,
        "caller_id": _text(content.get(rules.by)) if rules.by else "",
        "stage": _text(content.get(rules.stage)) if rules.stage else "",
        "alias": _text(content.get(rules.alias)) if rules.alias else "",
        "rolled_back_version": _text(content.get(rules.rolled_back)) if rules.rolled_back else "",
    }


def expected_columns(
    kind: str, predicate: Mapping[str, Any], keyids: tuple[str, ...], envelope_hash: str
) -> dict[str, str]:
    """Every checked column of a record, from its signed predicate (the statement's, with
    seq/prev/recorded_at), its signatures' key ids and the SHA-256 (hex) of its exact
    envelope bytes.

    `keyid` is the first signature's, when it names one. Raises UnknownRecordKind, KeyError
    or TypeError when the predicate lacks what its kind needs (the record is then malformed).
    """
    columns = {
        "kind": kind,
        "recorded_at": _text(predicate["recorded_at"]),
        "envelope_hash": envelope_hash,
    }
    if keyids and keyids[0]:  # an envelope without a key id leaves the column unchecked
        columns["keyid"] = keyids[0]
    rules = record_kind(kind).columns
    if isinstance(rules, DecisionColumns):
        model = predicate["model"]
        target = predicate.get("target") or {}
        columns |= {
            "decision_id": _text(predicate["decision_id"]),
            "gate": _text(predicate["gate"]),
            "outcome": _text(predicate["outcome"]),
            "model_name": _text(model["name"]),
            "model_version": _text(model["version"]),
            "caller_id": _text(predicate["caller"]["id"]),
            "artifact_digest": _text(model.get("artifact_digest")),
            "stage": _text(target.get("stage")) if isinstance(target, Mapping) else "",
            "risk_tier": _text(model.get("risk_tier")),
            "alias": "",
            "rolled_back_version": "",
            "input_digest": _text(predicate["input_digest"]),
        }
        return columns
    content = {k: v for k, v in predicate.items() if k not in CHAIN_FIELDS}
    columns |= _event_columns(rules, content)
    columns |= {
        "decision_id": _text(content.get("id")),
        "gate": "",
        "model_name": _text(content.get("model")),
        "model_version": _text(content.get("version")),
        "artifact_digest": _text(content.get("artifact_digest")),
        "risk_tier": "",
        "input_digest": sha256_digest(canonical_json(content)),
    }
    return columns


def row_matches(row: object, expected: Mapping[str, str]) -> bool:
    """Whether every expected column has its value in `row`'s attribute of that name (the
    common case, checked before `mismatches` says how they differ)."""
    return all(str(getattr(row, name)) == value for name, value in expected.items())


def mismatches(stored: Mapping[str, str], expected: Mapping[str, str]) -> list[str]:
    """`column 'stored' (signed: 'expected')` for each checked column that differs."""
    return [
        f"{name} {stored[name]!r} (signed: {expected[name]!r})"
        for name in CHECKED
        if name in expected and stored.get(name) != expected[name]
    ]
