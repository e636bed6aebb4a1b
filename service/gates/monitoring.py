"""The monitoring gate: is a deployed version healthy? No policy package is written for it
yet, so every request is a recorded deny saying so (fail closed); its evidence is the
request's own, and it enacts nothing."""

from __future__ import annotations

from service.decision.gatespec import GateSpec

MONITORING = GateSpec(
    name="monitoring",
    summary="is the deployed version healthy: advance, hold or roll back?",
    sources=(),
)
