"""Evidence of the rollback gate: the versions the gate itself installed behind the stage's alias
(the ledger's alias moves after an allow), each with what the registry holds of it now and
whether the gate rolled it back since; and what triggered the request, checked against the
ledger when it names a monitoring decision.

The registry is asked only whether each candidate still exists and what its artifacts hash to
now: which versions are candidates, and which digest each was allowed with, is the ledger's
word. A version the model's owner put behind the alias in MLflow is never a candidate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from service.audit.kinds import MOVE_BACK, MOVE_INSTALL
from service.audit.ledger import Ledger
from service.errors import InvalidField, MlgateError, NotFound
from service.evidence.base import ALIAS_MOVES
from service.evidence.context import EvidenceContext
from service.evidence.gathered import Gathered, Part
from service.evidence.registry import alias_moves


@dataclass(frozen=True)
class RollbackSource:
    """`candidates` for the alias `alias_of(config, target)`, newest installation first, and
    the checked `trigger`. When the request names no version, the version rolled back is the
    one the gate last moved the alias to."""

    alias_of: Callable[[Mapping[str, Any], Mapping[str, Any] | None], str]
    triggered_by: tuple[str, str]  # (gate, outcome): the decisions that may trigger this one

    def read(self, gathered: Gathered, context: EvidenceContext) -> Part:
        name = gathered.model.get("name")
        stage = (gathered.target or {}).get("stage")
        if not isinstance(name, str) or not isinstance(stage, str):
            return Part()
        alias = self.alias_of(gathered.config, gathered.target)
        moves = list(alias_moves(context.ledger, name, alias))
        version = gathered.model.get("version")
        learnt: dict[str, Any] = {}
        if not isinstance(version, str):
            if not moves:
                raise NotFound(
                    f"the gate never moved {name}'s alias {alias!r}, so there is no deployed "
                    "version of record to roll back; name it (--version, model.version)"
                )
            version = str(moves[0]["to_version"])
            learnt["version"] = version
        trigger = checked_trigger(
            context.ledger, gathered.trigger, (*self.triggered_by, name, version, stage)
        )
        return Part(
            documents={
                "candidates": candidates(context, name, version, moves),
                "trigger": trigger,
                "target": {"stage": stage, "alias": alias},  # the alias the policy names
            },
            provenance={"candidates": ALIAS_MOVES, "trigger": _trigger_source(trigger)},
            model=learnt,
        )


def candidates(
    context: EvidenceContext, name: str, rolled_back: str, moves: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every version the gate installed behind the alias by a promotion (an enacted allow),
    other than `rolled_back`, newest installation first, one entry per version: the
    `candidate`s of schemas/rollback_input.schema.json."""
    found: list[dict[str, Any]] = []
    seen = {rolled_back}
    for move in moves:  # newest first
        version = str(move.get("to_version"))
        if move.get("move", MOVE_INSTALL) != MOVE_INSTALL or version in seen:
            continue
        seen.add(version)
        installed_at = str(move["recorded_at"])
        rollback = next(
            (
                m
                for m in moves
                if m.get("move") == MOVE_BACK
                and str(m.get("rolled_back_version")) == version
                and str(m["recorded_at"]) > installed_at
            ),
            None,
        )
        in_registry, digest = _registry_state(context, name, version)
        found.append(
            {
                "version": version,
                "installed_at": installed_at,
                "alias_move": str(move.get("id")),
                "decision_id": str(move.get("decision_id")),
                "allowed_digest": move.get("artifact_digest"),
                "in_registry": in_registry,
                "registry_digest": digest,
                "rolled_back_at": str(rollback["recorded_at"]) if rollback else None,
                "rollback_decision_id": str(rollback.get("decision_id")) if rollback else None,
            }
        )
    return found


def _registry_state(context: EvidenceContext, name: str, version: str) -> tuple[bool, str | None]:
    """(whether the registry still has the version, the digest of its artifacts now or None
    when they cannot be read)."""
    try:
        return True, context.versions.artifact_digest_now(name, version)
    except NotFound:
        return False, None
    except MlgateError:
        return True, None


def checked_trigger(
    ledger: Ledger, trigger: Mapping[str, Any] | None, expected: tuple[str, ...]
) -> dict[str, Any]:
    """The request's trigger as the input carries it. A trigger naming a decision must name a
    recorded decision as `expected` says: (gate, outcome, model name, version, stage);
    InvalidField naming trigger.decision_id otherwise. Its reason is that decision's first
    reason unless the request gives one."""
    given = dict(trigger or {})
    shaped = {
        "kind": given.get("kind", "manual"),
        "reason": str(given.get("reason") or ""),
        "decision_id": given.get("decision_id"),
        "requested_version": given.get("requested_version"),
    }
    if not given.get("decision_id"):
        return shaped
    gate, outcome, name, version, stage = expected
    decision_id = str(given["decision_id"])
    try:
        recorded = ledger.get(decision_id).predicate()
    except NotFound:
        raise InvalidField(
            "trigger.decision_id", f"no decision {decision_id!r} is recorded"
        ) from None
    target = recorded.get("target") or {}
    facts = (
        recorded.get("gate"),
        recorded.get("outcome"),
        recorded.get("model", {}).get("name"),
        recorded.get("model", {}).get("version"),
        target.get("stage") if isinstance(target, Mapping) else None,
    )
    if facts != expected:
        raise InvalidField(
            "trigger.decision_id",
            f"decision {decision_id} is not a {gate} {outcome} of {name} v{version} at "
            f"{stage} (it is {facts[0]} {facts[1]} of {facts[2]} v{facts[3]} at {facts[4]})",
        )
    if not shaped["reason"]:
        reasons = recorded.get("reasons") or [{}]
        shaped["reason"] = str(reasons[0].get("message") or "the monitoring gate said rollback")
    return shaped


def _trigger_source(trigger: Mapping[str, Any]) -> str:
    if trigger["decision_id"]:
        return f"ledger: the decision {trigger['decision_id']}"
    return "request"
