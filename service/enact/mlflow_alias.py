"""Move the stage's MLflow alias to a version after a durable allow; the move is a ledger record.

MLflow keeps no history of aliases; the ledger does: every move the gate makes (or fails to
make) is a signed `alias_move` record naming the alias, the version it left and the one it
now names, the decision it rests on and who asked. Deny and hold move nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from service.decision import Decision, Enactment
from service.errors import MlgateError
from service.evidence.registry import stage_alias
from service.inputdoc import now_rfc3339

if TYPE_CHECKING:
    from service.pipeline import GateRequest, RecordedEvidence


def enact(
    decision: Decision,
    request: GateRequest,
    recorded: RecordedEvidence,
    config: Mapping[str, Any],
) -> None:
    """For an allowed promotion whose record is durable, move the target stage's alias to the
    version and record the move; sets `decision.enactment` either way. A failed move is
    recorded as such and the answer says the decision was made but not enacted; only a
    failure to record the move raises (AuditWriteFailed)."""
    stage = str((decision.target or {}).get("stage", ""))
    alias = stage_alias(config, stage)
    if decision.gate != "promotion" or decision.outcome != "allow" or decision.audit is None:
        decision.enactment = Enactment(
            alias=alias, moved=False, note=f"nothing moved: the outcome is {decision.outcome}"
        )
        return
    name, version = decision.model.name, decision.model.version
    registry = recorded.registry
    previous: str | None = None
    error: str | None = None
    try:
        previous = registry.alias_version(name, alias)
        if previous == version:
            decision.enactment = Enactment(
                alias=alias, moved=False, note=f"alias {alias!r} already names v{version}"
            )
            return
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
        "decision_seq": decision.audit.seq,
        "requested_by": decision.caller.id,
        "moved_at": now_rfc3339(),
    }
    receipt = recorded.ledger.record_event(
        "alias_move",
        move_id,
        move,
        model=(name, version, decision.model.artifact_digest),
        outcome="moved" if error is None else "failed",
        by=decision.caller.id,
    )
    decision.enactment = Enactment(
        alias=alias,
        moved=error is None,
        from_version=previous,
        to_version=version,
        record=receipt.seq,
        note=(
            f"alias {alias!r} moved from {f'v{previous}' if previous else '(unset)'} to v{version}"
            if error is None
            else f"the decision was made but not enacted: {error}"
        ),
    )
