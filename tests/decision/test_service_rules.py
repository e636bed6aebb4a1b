"""Every reason the service gives on its own is in the catalogue GET /v1/policies serves."""

from __future__ import annotations

from service.decision import checks
from service.decision.service_rules import SERVICE_RULES


def test_every_note_that_can_become_a_reason_is_catalogued() -> None:
    catalogued = {rule.code for rule in SERVICE_RULES}

    assert set(checks._NOTE_RULES) <= catalogued
