"""The rollback gate: a deployed version went bad; to which version does its stage's alias go
back? The last one known to be good: the newest the gate itself installed behind the alias,
not rolled back since, whose artifacts still hash to what was allowed, still in the registry
(policies/rollback/). The outcome is rollback with that target, or deny when no version
qualifies, saying why for each. It never waits for an approval. With enact, the alias moves
back by the same compare-and-set as promotion, as an alias move of kind rollback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.decision.gatespec import GateSpec
from service.decision.model import AuditReceipt, Decision, Enactment
from service.decision.request import GateRequest
from service.enact.alias import move_back
from service.evidence.context import EvidenceContext
from service.evidence.rollback import RollbackSource
from service.gates.promotion import target_alias

NAME = "rollback"


def roll_back(
    decision: Decision,
    receipt: AuditReceipt,
    context: EvidenceContext,
    config: Mapping[str, Any],
) -> Enactment:
    """On rollback, move the stage's alias back to the decision's target (a ledger record of
    its own); deny moves nothing."""
    alias = target_alias(config, decision.target)
    if decision.outcome != "rollback":
        return Enactment(
            alias=alias, moved=False, note=f"nothing moved: the outcome is {decision.outcome}"
        )
    return move_back(decision, receipt, alias, context)


def rollback_request(decision: Decision, caller: Mapping[str, str], *, enact: bool) -> GateRequest:
    """The rollback gate's request a decision with outcome rollback triggers (monitoring's),
    for the same deployment and caller, naming that decision."""
    return GateRequest(
        gate=NAME,
        caller=caller,
        evidence={},
        target={"stage": str((decision.target or {}).get("stage", ""))},
        model={"name": decision.model.name, "version": decision.model.version},
        enact=enact,
        trigger={
            "kind": decision.gate,
            "decision_id": decision.decision_id,
            "reason": decision.reasons[0].message if decision.reasons else "",
            "requested_version": None,
        },
    )


ROLLBACK = GateSpec(
    name=NAME,
    summary="roll back to which last known-good version?",
    sources=(RollbackSource(alias_of=target_alias, triggered_by=("monitoring", "rollback")),),
    input_schema="rollback_input",
    evidence_keys=("candidates", "trigger"),
    needs_target=True,
    needs_reason=True,
    reads_evidence=False,
    stage_preposition="at",
    effect=roll_back,
)
