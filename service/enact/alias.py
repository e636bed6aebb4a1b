"""Move a registry alias after a durable decision; the move is a ledger record of its own.

MLflow keeps no history of aliases; the ledger does: every move the gate makes (or fails to
make) is a signed `alias_move` record naming the alias, the version it left and the one it
now names, the decision it rests on and who asked.
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
    """Point `alias` of the decision's model at its version and record the move (or the
    failure to move). A failed move is recorded as such and the enactment says the decision
    was made but not enacted; only a failure to record the move raises (AuditWriteFailed)."""
    name, version = decision.model.name, decision.model.version
    registry = context.registry
    previous: str | None = None
    error: str | None = None
    try:
        previous = registry.alias_version(name, alias)
        if previous == version:
            return Enactment(
                alias=alias, moved=False, note=f"alias {alias!r} already names v{version}"
            )
        registry.set_alias(name, alias, version)
    except MlgateError as exc:
        error = exc.message
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
    record = context.ledger.record_event(
        "alias_move",
        move_id,
        move,
        model=(name, version, decision.model.artifact_digest),
        outcome="moved" if error is None else "failed",
        by=decision.caller.id,
    )
    return Enactment(
        alias=alias,
        moved=error is None,
        from_version=previous,
        to_version=version,
        record=record.seq,
        note=(
            f"alias {alias!r} moved from {f'v{previous}' if previous else '(unset)'} to v{version}"
            if error is None
            else f"the decision was made but not enacted: {error}"
        ),
    )
