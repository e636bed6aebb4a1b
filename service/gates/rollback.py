"""The rollback gate: must a deployed version be rolled back, and to what? No policy package is
written for it yet, so every request is a recorded deny saying so (fail closed); its evidence
is the request's own, and it enacts nothing."""

from __future__ import annotations

from service.decision.gatespec import GateSpec

ROLLBACK = GateSpec(
    name="rollback",
    summary="roll back to which last known-good version?",
    sources=(),
)
