"""Finding 5: instances sharing a PostgreSQL ledger share one keyring; one that would sign with
a key of its own is refused, saying how to configure it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.audit.keys import KeyFiles, init_keys, load_keyring
from service.audit.ledger import open_ledger
from service.errors import AuditKeyMissing
from service.settings import Settings
from tests.audit.factory import record_many


def test_a_second_instance_with_its_own_key_is_refused(postgres_url: str, tmp_path: Path) -> None:
    first = Settings(home=tmp_path / "a", ledger_url=postgres_url)
    with open_ledger(first) as ledger:
        record_many(ledger, 3)
    second = Settings(home=tmp_path / "b", ledger_url=postgres_url)

    with pytest.raises(AuditKeyMissing, match="share one keyring") as refused:
        open_ledger(second)

    assert "README" in refused.value.message
    assert not KeyFiles.from_settings(second).private_key.exists()  # no key of its own made


def test_instances_sharing_the_keys_write_one_ledger_that_verifies_from_either(
    postgres_url: str, tmp_path: Path
) -> None:
    first = Settings(home=tmp_path / "a", ledger_url=postgres_url)
    with open_ledger(first) as ledger:
        record_many(ledger, 2)
    second = Settings(home=tmp_path / "b", ledger_url=postgres_url)
    with pytest.raises(AuditKeyMissing):  # without the shared keys it is refused...
        open_ledger(second)
    shutil.copytree(tmp_path / "a" / "keys", tmp_path / "b" / "keys")  # ...with them it writes

    with open_ledger(second) as ledger:
        record_many(ledger, 2, start=10)
        report_b = ledger.verify(load_keyring(second.resolved_keyring))
    with open_ledger(first) as ledger:
        report_a = ledger.verify(load_keyring(first.resolved_keyring))

    assert report_a.ok and report_b.ok, (report_a.problems, report_b.problems)
    assert report_a.records == 4


def test_a_keyring_that_lacks_the_ledgers_key_is_refused(postgres_url: str, tmp_path: Path) -> None:
    first = Settings(home=tmp_path / "a", ledger_url=postgres_url)
    with open_ledger(first) as ledger:
        record_many(ledger, 1)
    second = Settings(home=tmp_path / "b", ledger_url=postgres_url)
    init_keys(KeyFiles.from_settings(second))

    with pytest.raises(AuditKeyMissing, match="does not hold"):
        open_ledger(second)
