"""The gates this service answers: name -> spec. The one place the list of gates is written."""

from __future__ import annotations

from service.decision.gatespec import GateRegistry
from service.gates.monitoring import MONITORING
from service.gates.promotion import PROMOTION
from service.gates.rollback import ROLLBACK


def default_gates() -> GateRegistry:
    """Every gate mlgate ships, in the order they are listed to people."""
    return GATES


GATES = GateRegistry(PROMOTION, MONITORING, ROLLBACK)
