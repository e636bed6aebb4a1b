"""Move a registry alias after a durable decision; the move is a ledger record of its own.

MLflow keeps no history of aliases, and setting one is an unconditional upsert (last writer
wins); the ledger keeps the history, and the move is a compare-and-set: under a lock held in
the ledger's database (so across the processes and instances sharing it), the alias moves only
if it still names the baseline the decision was judged against, and only if the version's
artifacts still hash to the digest the decision was made on. Anything else is a recorded
failed move, never a move. Every move the gate makes (or fails to make) is a signed
`alias_move` record naming the alias, the version it left and the one it now names, the
decision it rests on and who asked.
"""

from __future__ import annotations

import uuid
from typing import Any

from service.clock import now_rfc3339
from service.decision.model import AuditReceipt, Decision, Enactment
from service.errors import MlgateError
from service.evidence.context import EvidenceContext


def move_alias(
    decision: Decision, receipt: AuditReceipt, alias: str, context: EvidenceContext
) -> Enactment:
    """Point `alias` of the decision's model at its version, compare-and-set, and record the
    move (or the failure to move). A failed move is recorded as such and the enactment says
    the decision was made but not enacted; only a failure to record raises (AuditWriteFailed).
    """
    name, version = decision.model.name, decision.model.version
    with context.ledger.exclusive(f"alias:{name}:{alias}"):
        previous: str | None = None
        try:
            previous = context.registry.alias_version(name, alias)
            if previous == version:
                return Enactment(
                    alias=alias, moved=False, note=f"alias {alias!r} already names v{version}"
                )
            error = _refusal(decision, alias, previous, context)
            if error is None:
                context.registry.set_alias(name, alias, version)
        except MlgateError as exc:
            error = exc.message
        record = _record_move(decision, receipt, alias, previous, error, context)
    return Enactment(
        alias=alias,
        moved=error is None,
        from_version=previous,
        to_version=version,
        record=record,
        note=(
            f"alias {alias!r} moved from {f'v{previous}' if previous else '(unset)'} to v{version}"
            if error is None
            else f"the decision was made but not enacted: {error}"
        ),
    )


def _refusal(
    decision: Decision, alias: str, current: str | None, context: EvidenceContext
) -> str | None:
    """Why the alias must not move now, or None: it no longer names the baseline the decision
    was judged against (another move came first), or the version's artifacts changed."""
    judged_against = _baseline_version(decision, context)
    if current != judged_against:
        return (
            f"conflict: alias {alias!r} names {_named(current)}, but the decision was judged "
            f"against {_named(judged_against)}; the alias moved since the decision; decide again"
        )
    name, version = decision.model.name, decision.model.version
    digest = context.versions.artifact_digest_now(name, version)
    if digest != decision.model.artifact_digest:
        return (
            f"the artifacts of {name} v{version} hash to {digest} now, but the decision was made "
            f"on {decision.model.artifact_digest}: they changed since the decision; decide again"
        )
    return None


def _baseline_version(decision: Decision, context: EvidenceContext) -> str | None:
    """The version of the baseline in the input the decision was judged on (None: none)."""
    document = context.ledger.input_document(decision.input_digest)
    baseline = document.get("baseline")
    version = baseline.get("version") if isinstance(baseline, dict) else None
    return str(version) if version is not None else None


def _named(version: str | None) -> str:
    return f"v{version}" if version is not None else "no version"


def _record_move(
    decision: Decision,
    receipt: AuditReceipt,
    alias: str,
    previous: str | None,
    error: str | None,
    context: EvidenceContext,
) -> int:
    """Record the move (or the failed move) in the ledger; the record's seq."""
    name, version = decision.model.name, decision.model.version
    move_id = str(uuid.uuid4())
    move: dict[str, Any] = {
        "id": move_id,
        "model": name,
        "version": version,
        "artifact_digest": decision.model.artifact_digest,
        "alias": alias,
        "from_version": previous,
        "to_version": version,
        "moved": error is None,
        "outcome": "moved" if error is None else "failed",
        "error": error,
        "decision_id": decision.decision_id,
        "decision_seq": receipt.seq,
        "requested_by": decision.caller.id,
        "moved_at": now_rfc3339(),
    }
    return context.ledger.record_event(
        "alias_move",
        move_id,
        move,
        model=(name, version, decision.model.artifact_digest),
        outcome="moved" if error is None else "failed",
        by=decision.caller.id,
    ).seq
