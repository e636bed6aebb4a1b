"""Fixtures for the ledger tests: keys, and real SQLite files and PostgreSQL schemas."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from service.audit.keys import KeyFiles, Keyring, init_keys, load_keyring
from service.audit.ledger import Ledger
from service.decision import Decision
from tests.audit.factory import (
    ARTIFACT,
    POSTGRES_URL,
    StoreFactory,
    make_decision,
    make_input,
    record_many,
)

__all__ = ["ARTIFACT", "StoreFactory", "make_decision", "make_input", "record_many"]


@pytest.fixture
def key_files(tmp_path: Path) -> KeyFiles:
    files = KeyFiles.in_dir(tmp_path / "keys")
    init_keys(files)
    return files


@pytest.fixture
def keyring(key_files: KeyFiles) -> Keyring:
    return load_keyring(key_files.keyring)


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
    reason = postgres_unreachable_reason()
    if reason is not None:
        pytest.skip(reason)


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


@pytest.fixture(params=["sqlite", "postgres"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    if request.param == "sqlite":
        return StoreFactory("sqlite", str(tmp_path / "ledger.sqlite3"))
    url: str = request.getfixturevalue("postgres_url")
    return StoreFactory("postgres", url)


@pytest.fixture
def ledger(stores: StoreFactory, key_files: KeyFiles) -> Iterator[Ledger]:
    with stores.ledger(key_files) as opened:
        yield opened


DecisionFactory = Callable[..., tuple[Decision, dict[str, Any]]]


@pytest.fixture
def decision_factory() -> DecisionFactory:
    return make_decision
