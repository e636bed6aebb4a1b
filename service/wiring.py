"""Builds the defaults once: policies from disk, the engine the settings choose, the ledger."""

from __future__ import annotations

from service.engine.factory import Engine, new_engine
from service.engine.policyset import load_policy_set
from service.gate import Gatekeeper
from service.schemas import default_schemas
from service.settings import Settings


def local_engine(settings: Settings) -> Engine:
    return new_engine(settings, load_policy_set(settings.policy_dir))


def local_gatekeeper(settings: Settings, *, audited: bool = True) -> Gatekeeper:
    """The gatekeeper of this process; with audited=True every decide() goes to the ledger."""
    engine = local_engine(settings)  # first: a broken policy or install leaves nothing behind
    ledger = None
    if audited:
        from service.audit.ledger import open_ledger

        ledger = open_ledger(settings)
    return Gatekeeper(engine, default_schemas(), ledger)
