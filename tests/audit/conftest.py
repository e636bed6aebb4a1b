"""Fixtures for the ledger tests: keys, and real SQLite files and PostgreSQL schemas."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from service.audit.keys import KeyFiles, Keyring, init_keys, load_keyring
from service.audit.ledger import Ledger
from service.decision.model import Decision
from tests.audit.factory import (
    ARTIFACT,
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
