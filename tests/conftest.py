"""Shared fixtures: the real policies, the real embedded OPA engine, the evidence fixtures."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service.engine.embedded import EmbeddedEngine
from service.engine.policyset import load_policy_set
from service.evidence.files import read_evidence_dir
from service.gate import Gatekeeper
from service.inputdoc import assemble
from service.schemas import default_schemas
from service.settings import PROJECT_ROOT

POLICY_DIR = PROJECT_ROOT / "policies"
EVIDENCE_DIR = PROJECT_ROOT / "fixtures" / "evidence"
REQUESTED_AT = "2026-11-21T12:00:00.000Z"


@pytest.fixture(scope="session")
def engine() -> EmbeddedEngine:
    return EmbeddedEngine(load_policy_set(POLICY_DIR))


@pytest.fixture(scope="session")
def gatekeeper(engine: EmbeddedEngine) -> Gatekeeper:
    """Evaluates without recording (tests of the ledger use their own)."""
    return Gatekeeper(engine, default_schemas())


def fixture_input(name: str, stage: str = "production") -> dict[str, Any]:
    return assemble(
        "promotion",
        read_evidence_dir(EVIDENCE_DIR / name),
        caller={"id": "ci-pipeline", "role": "gate"},
        target={"stage": stage},
        requested_at=REQUESTED_AT,
    )


@pytest.fixture
def approved_input() -> dict[str, Any]:
    return fixture_input("approved")


@pytest.fixture
def policy_copy(tmp_path: Path) -> Callable[[], Path]:
    """A private copy of the policies that a test may edit."""

    def make() -> Path:
        target = tmp_path / "policies"
        shutil.copytree(POLICY_DIR, target)
        return target

    return make
