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

from dataclasses import dataclass
from typing import Any

from service.audit.kinds import MOVE_BACK, MOVE_INSTALL
from service.clock import now_rfc3339
from service.decision.model import AuditReceipt, Decision, Enactment
from service.errors import MlgateError
from service.evidence.context import EvidenceContext
from service.record_ids import new_record_id


def move_alias(
    decision: Decision, receipt: AuditReceipt, alias: str, context: EvidenceContext
) -> Enactment:
    """Promotion: point `alias` of the decision's model at its version, compare-and-set, and
    record the move (or the failure to move). The alias must still name the baseline the
    decision was judged against, and the version's artifacts must still hash to the decision's
    digest. A failed move is recorded as such and the enactment says the decision was made but
    not enacted; only a failure to record raises (AuditWriteFailed)."""
    return _move(
        decision,
        receipt,
        alias,
        context,
        Move(
            kind=MOVE_INSTALL,
            to_version=decision.model.version,
            expected=_baseline_version(decision, receipt, context),
            judged_against="the decision was judged against",
            digest=decision.model.artifact_digest,
        ),
    )


def move_back(
    decision: Decision, receipt: AuditReceipt, alias: str, context: EvidenceContext
) -> Enactment:
    """Rollback: point `alias` back at the decision's target version, compare-and-set, and
    record the move as a rollback naming the decision. The alias must still name the version
    being rolled back (a concurrent promotion is never overwritten), and the target's
    artifacts must still hash to the digest it was allowed with. Failures as move_alias's."""
    if decision.target_version is None:
        return Enactment(
            alias=alias, moved=False, note="nothing moved: the decision names no target"
        )
    return _move(
        decision,
        receipt,
        alias,
        context,
        Move(
            kind=MOVE_BACK,
            to_version=decision.target_version,
            expected=decision.model.version,
            judged_against="the rollback was decided for",
            digest=decision.target_artifact_digest,
        ),
    )


@dataclass(frozen=True)
class Move:
    """One alias move: its kind (MOVE_INSTALL after an allow, or MOVE_BACK), the version the
    alias goes to, the version it must still name (compare-and-set; `judged_against` says why
    in a refusal) and the digest the version's artifacts must still hash to."""

    kind: str
    to_version: str
    expected: str | None
    judged_against: str
    digest: str | None


def _move(
    decision: Decision,
    receipt: AuditReceipt,
    alias: str,
    context: EvidenceContext,
    move: Move,
) -> Enactment:
    name, version = decision.model.name, move.to_version
    with context.ledger.exclusive(f"alias:{name}:{alias}"):
        previous: str | None = None
        try:
            previous = context.registry.alias_version(name, alias)
            if previous == version:
                return Enactment(
                    alias=alias, moved=False, note=_named_already(name, alias, version, context)
                )
            error = _refusal(name, alias, previous, move, context)
            if error is None:
                context.registry.set_alias(name, alias, version)
        except MlgateError as exc:
            error = exc.message
        record = _record_move(decision, receipt, alias, previous, error, move, context)
    return Enactment(
        alias=alias,
        moved=error is None,
        from_version=previous,
        to_version=version,
        record=record,
        note=(
            f"alias {alias!r} moved from {f'v{previous}' if previous else '(unset)'} to v{version}"
            + (" (rollback)" if move.kind == MOVE_BACK else "")
            if error is None
            else f"the decision was made but not enacted: {error}"
        ),
    )


def _named_already(name: str, alias: str, version: str, context: EvidenceContext) -> str:
    """What a move to the version the alias names already says: which recorded move put it
    there, when and for whom, or that none did; nothing is moved or recorded."""
    found = context.ledger.find(
        kind="alias_move", model=name, alias=alias, outcome="moved", limit=1
    )
    said = f"alias {alias!r} already names v{version}"
    move = found[0].predicate() if found else None
    if move is None or move.get("to_version") != version:
        return f"{said}, set outside the gate (no alias move on record put it there); nothing moved"
    return (
        f"{said}: alias move {move['id']} (record {found[0].seq}) put it there at "
        f"{move['moved_at']}, on decision {move['decision_id']} requested by "
        f"{move['requested_by']}; nothing moved"
    )


def _refusal(
    name: str, alias: str, current: str | None, move: Move, context: EvidenceContext
) -> str | None:
    """Why the alias must not move now, or None: it no longer names the version the decision
    expects (another move came first), or the version's artifacts changed."""
    if current != move.expected:
        return (
            f"conflict: alias {alias!r} names {_named(current)}, but {move.judged_against} "
            f"{_named(move.expected)}; the alias moved since the decision; decide again"
        )
    digest = context.versions.artifact_digest_now(name, move.to_version)
    if digest != move.digest:
        return (
            f"the artifacts of {name} v{move.to_version} hash to {digest} now, but the decision "
            f"was made on {move.digest}: they changed since the decision; decide again"
        )
    return None


def _baseline_version(
    decision: Decision, receipt: AuditReceipt, context: EvidenceContext
) -> str | None:
    """The version of the baseline in the input the decision was judged on (None: none)."""
    document = context.ledger.input_document(receipt.seq, decision.input_digest)
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
    how: Move,
    context: EvidenceContext,
) -> int:
    """Record the move (or the failed move) in the ledger; the record's seq. A rollback says
    so (`move`) and names the version it rolled back."""
    name, version = decision.model.name, how.to_version
    move_id = new_record_id()
    move: dict[str, Any] = {
        "id": move_id,
        "model": name,
        "version": version,
        "artifact_digest": how.digest,
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
    if how.kind == MOVE_BACK:  # an installation's record keeps the fields it always had
        move["move"] = MOVE_BACK
        move["rolled_back_version"] = decision.model.version
    return context.ledger.record_event(
        "alias_move",
        move_id,
        move,
        model=(name, version, how.digest),
        outcome="moved" if error is None else "failed",
        by=decision.caller.id,
    ).seq
