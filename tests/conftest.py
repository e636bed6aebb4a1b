"""Shared fixtures: the real policies, the real embedded OPA engine, the evidence fixtures."""

from __future__ import annotations

import json
import os
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import psycopg
import pytest

from service.decision.judge import Judge
from service.decision.pipeline import GateRequest
from service.engine.embedded import EmbeddedEngine
from service.engine.policyset import load_policy_set
from service.evidence.base import EVIDENCE_FILE
from service.evidence.files import read_evidence_dir
from service.evidence.inputdoc import assemble
from service.gates.registry import default_gates
from service.schemas import default_schemas
from service.settings import PROJECT_ROOT

POLICY_DIR = PROJECT_ROOT / "policies"
# The official SARIF 2.1.0 schema, fetched by `make sarif-schema` (scripts/sarif_schema.py).
SARIF_SCHEMA = PROJECT_ROOT / ".tools" / "sarif-schema-2.1.0.json"
EVIDENCE_DIR = PROJECT_ROOT / "fixtures" / "evidence"
REQUESTED_AT = "2026-11-21T12:00:00.000Z"
# Each test works in a schema of its own inside this database (see the postgres_url fixture).
POSTGRES_URL = os.environ.get(
    "MLGATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def engine() -> EmbeddedEngine:
    return EmbeddedEngine(load_policy_set(POLICY_DIR))


@pytest.fixture(scope="session")
def gatekeeper(engine: EmbeddedEngine) -> Judge:
    """Evaluates without recording (tests of the ledger use their own)."""
    return Judge(engine, default_schemas(), default_gates())


def fixture_input(name: str, stage: str = "production") -> dict[str, Any]:
    return assemble(
        "promotion",
        read_evidence_dir(EVIDENCE_DIR / name),
        caller={"id": "ci-pipeline", "role": "gate"},
        target={"stage": stage},
        requested_at=REQUESTED_AT,
    )


def fixture_request(name: str, stage: str = "production") -> GateRequest:
    """The fixture as local CLI mode sends it down the pipeline (trusted evidence files)."""
    return GateRequest(
        gate="promotion",
        caller={"id": "ci-pipeline", "role": "gate"},
        evidence=read_evidence_dir(EVIDENCE_DIR / name),
        source=EVIDENCE_FILE,
        target={"stage": stage},
        requested_at=REQUESTED_AT,
        trusted=True,
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


def raise_auc_floor(policies: Path, stage: str, floor: str) -> Path:
    """Raise the high tier's AUC floor at `stage` from `floor` to 0.99 in the policies under
    `policies` (a copy): a policy change that flips the fixtures' allows there."""
    config = policies / "data" / "promotion.yaml"
    before = f"      {stage}:\n        floors: {{auc: {floor}"
    assert config.read_text().count(before) == 1, f"no single {stage} AUC floor of {floor}"
    config.write_text(config.read_text().replace(before, before.replace(floor, "0.99")))
    return policies


def never_finishing(policies: Path) -> Path:
    """Make the card rule of the policies under `policies` (a copy) start with a comprehension
    over 10^10 pairs: a policy whose evaluation never finishes in any test's lifetime."""
    card = policies / "promotion" / "card.rego"
    rule = 'deny contains reason if {\n\tsome section in object.get(settings, "card_sections", [])'
    source = card.read_text()
    assert rule in source
    spin = "count({1 | some i in numbers.range(1, 100000); some j in numbers.range(1, 100000)})"
    card.write_text(source.replace(rule, rule.replace("{\n", f"{{\n\t{spin} > 0\n"), 1))
    return policies


@pytest.fixture(scope="session")
def sarif_schema() -> Any:
    """A validator of the SARIF 2.1.0 schema. Without the schema file: skip, saying how to get
    it; in CI (CI=true) fail instead, since a SARIF report not validated proves nothing."""
    if not SARIF_SCHEMA.is_file():
        reason = f"{SARIF_SCHEMA} is missing; `make sarif-schema` fetches it"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return jsonschema_rs.validator_for(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))


def postgres_unreachable_reason() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"PostgreSQL at {POSTGRES_URL} is unreachable ({first_line})"
    return None


@pytest.fixture(scope="session")
def postgres_available() -> None:
    """Skip without PostgreSQL, saying how to get one; in CI (CI=true) fail instead, since a
    skipped PostgreSQL test there would prove nothing."""
    reason = postgres_unreachable_reason()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must run the PostgreSQL tests (`make services` starts one)")
    pytest.skip(f"{reason}; `make services` starts one")


@pytest.fixture
def postgres_url(postgres_available: None) -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped after the test.

    Its connections carry the schema's name as application_name, so a test can find them.
    """
    schema = f"mlgate_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}&application_name={schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
