"""The monitoring gate: is a deployed version (a model version at a stage) healthy enough to
advance (allow), must it wait for data or a person (hold), or be rolled back (rollback)? Its
rules are policies/monitoring/ and its thresholds policies/data/monitoring.yaml; everything it
judges comes from mlgate's own records: the snapshots monitors reported, the alias moves, and
its own earlier decisions (service/evidence/snapshots.py).
"""

from __future__ import annotations

from service.decision.gatespec import GateSpec
from service.evidence.snapshots import DeploymentSource
from service.gates.promotion import target_alias

NAME = "monitoring"


MONITORING = GateSpec(
    name=NAME,
    summary="is the deployed version healthy: advance, hold or roll back?",
    sources=(DeploymentSource(gate=NAME, alias_of=target_alias),),
    input_schema="monitoring_input",
    needs_target=True,
    needs_version=True,
    reads_evidence=False,
)
