"""Error messages a client gets never name the service's own files (service/api/private_paths.py):
the core names them for the operator at a terminal; over HTTP, the setting's name stands in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.api.private_paths import PrivatePaths
from service.settings import Settings
from tests.api.conftest import Api, in_process


@pytest.fixture(params=[True, False], ids=["fast-path", "route"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    with in_process(tmp_path / "home", fast_path=request.param) as served:
        yield served


def test_a_missing_record_is_named_without_the_ledgers_path(api: Api) -> None:
    answer = api.client.get("/v1/audit/records/99999", headers=api.headers("auditor"))

    assert answer.status_code == 404
    message = answer.json()["message"]
    assert "in the SQLite ledger <the ledger file> (it ends at seq" in message, message
    assert str(api.settings.home) not in answer.text


def test_the_ledger_file_outside_home_and_the_policy_directory_are_named_by_setting(
    tmp_path: Path,
) -> None:
    settings = Settings(
        home=tmp_path / "home",
        ledger_url=f"sqlite:///{tmp_path / 'elsewhere' / 'audit.db'}",
        policy_dir=tmp_path / "policies",
    )
    private = PrivatePaths.of(settings)

    assert private.redact(f"cannot open {tmp_path}/elsewhere/audit.db: locked") == (
        "cannot open <the ledger file>: locked"
    )
    assert private.redact(f"{tmp_path}/policies/promotion/card.rego:3: bad") == (
        "$MLGATE_POLICY_DIR/promotion/card.rego:3: bad"
    )
    assert private.redact(f"{tmp_path}/home/tokens.json is unreadable") == (
        "$MLGATE_TOKENS_FILE is unreadable"
    )
    assert private.redact(f"{tmp_path}/home/cache/x is unreadable") == (
        "$MLGATE_HOME/cache/x is unreadable"
    )
    assert private.redact("no record 'x'") == "no record 'x'"
