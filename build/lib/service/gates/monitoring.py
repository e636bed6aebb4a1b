"""The monitoring gate: is a deployed version (a model version at a stage) healthy enough to
advance (allow), must it wait for data or a person (hold), or be rolled back (rollback)? Its
rules are policies/monitoring/ and its thresholds policies/data/monitoring.yaml; everything it
judges comes from mlgate's own records: the snapshots monitors reported, the alias moves, and
its own earlier decisions (service/evidence/snapshots.py). Asked to enact, a rollback outcome
triggers the rollback gate for the deployment.
"""

from __future__ import annotations

from service.decision.gatespec import GateSpec
from service.decision.model import Decision
from service.decision.request import GateRequest
from service.evidence.snapshots import DeploymentSource
from service.gates.promotion import target_alias
from service.gates.rollback import rollback_request

NAME = "monitoring"


def trigger_rollback(decision: Decision, request: GateRequest) -> GateRequest | None:
    """With enact, a rollback outcome asks the rollback gate for this deployment (which moves
    the alias back, with enact too); allow and hold trigger nothing."""
    if decision.outcome != "rollback":
        return None
    return rollback_request(decision, request.caller, enact=True)


MONITORING = GateSpec(
    name=NAME,
    summary="is the deployed version healthy: advance, hold or roll back?",
    sources=(DeploymentSource(gate=NAME, alias_of=target_alias),),
    input_schema="monitoring_input",
    needs_target=True,
    needs_version=True,
    reads_evidence=False,
    stage_preposition="at",
    evidence_keys=("deployment", "snapshots", "comparisons", "monitoring_history"),
    follow_up=trigger_rollback,
)
