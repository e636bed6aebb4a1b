"""GET /v1/audit/verify answers 200 with the problems found, passed through PrivatePaths: a
record signed by a key the keyring lacks does not name the keyring's path to an auditor."""

from __future__ import annotations

from pathlib import Path

from service.audit.keys import KeyFiles, KeySource, init_keys
from service.audit.ledger import Ledger
from service.audit.stores.sqlite import SqliteStore
from tests.api.conftest import in_process
from tests.audit.factory import record_many


def test_an_unknown_key_in_verification_does_not_name_the_keyring_path(tmp_path: Path) -> None:
    with in_process(tmp_path / "home", fast_path=True) as api:
        stranger = KeyFiles.in_dir(tmp_path / "stranger-keys")
        init_keys(stranger)
        store = SqliteStore(api.settings.home / "ledger.sqlite3")
        with Ledger(store, KeySource(stranger)) as foreign:
            record_many(foreign, 1)

        answer = api.client.get("/v1/audit/verify", headers=api.headers("auditor"))

    assert answer.status_code == 200, answer.text
    assert "unknown key" in answer.text, answer.text
    assert str(api.settings.home) not in answer.text, answer.text
