"""The sign-off store on SQLite and on PostgreSQL (when one is reachable)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from service.settings import Settings
from service.signoffs.feed import add_signoffs
from service.signoffs.store import SelfSignoff, SignoffStore, SignoffStoreFailed, signoff_url
from tests.conftest import POSTGRES_URL


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SignoffStore]:
    if request.param == "sqlite":
        opened = SignoffStore(f"sqlite:///{tmp_path / 'signoffs.sqlite3'}")
        yield opened
        opened.close()
        return
    opened = SignoffStore(request.getfixturevalue("postgres_url"))
    try:
        yield opened
    finally:
        opened.close()


def test_the_latest_word_of_each_approver_and_role_is_kept(store: SignoffStore) -> None:
    store.add_approval("m", "7", "ann", "model-risk-officer", "rejected", "needs MRV")
    store.add_approval("m", "7", "bob", "model-risk-officer", "pending", None)
    store.add_approval("m", "7", "ann", "model-risk-officer", "approved", None)
    store.add_approval("m", "8", "ann", "model-risk-officer", "rejected", None)

    approvals = store.approvals_for("m", "7")

    assert [(a["approver"], a["status"]) for a in approvals] == [
        ("bob", "pending"),
        ("ann", "approved"),
    ]
    assert all(a["version"] == "7" and a["decided_at"].endswith("Z") for a in approvals)


def test_waivers_are_kept_per_model_version(store: SignoffStore) -> None:
    store.add_waiver("m", "7", "STAGE_ORDER", "ann", "hotfix", "2099-01-01T00:00:00Z")
    store.add_waiver("m", "8", "STAGE_ORDER", "ann", "hotfix", "2099-01-01T00:00:00Z")

    assert store.waivers_for("m", "7") == [
        {
            "rule_code": "STAGE_ORDER",
            "model": "m",
            "version": "7",
            "approved_by": "ann",
            "reason": "hotfix",
            "expires_at": "2099-01-01T00:00:00Z",
        }
    ]


def test_a_requester_may_not_sign_off_their_version(store: SignoffStore) -> None:
    store.note_request("m", "7", "ann")
    store.note_request("m", "7", "ann")

    with pytest.raises(SelfSignoff, match="ann requested a decision on m v7"):
        store.add_approval("m", "7", "ann", "model-risk-officer", "approved", None)
    with pytest.raises(SelfSignoff):
        store.add_waiver("m", "7", "STAGE_ORDER", "ann", "hotfix", "2099-01-01T00:00:00Z")
    store.add_approval("m", "8", "ann", "model-risk-officer", "approved", None)
    assert store.approvals_for("m", "7") == []


def test_recorded_signoffs_follow_inline_ones_and_the_requester_is_noted(
    store: SignoffStore,
) -> None:
    store.add_approval("m", "7", "bob", "model-risk-officer", "approved", None)
    inline = {"approver": "eve", "role": "model-risk-officer", "status": "pending", "version": "7"}
    doc = {
        "gate": "promotion",
        "caller": {"id": "ann", "role": "gate"},
        "model": {"name": "m", "version": "7"},
        "approvals": [inline],
    }

    add_signoffs(doc, store)

    assert [a["approver"] for a in doc["approvals"]] == ["eve", "bob"]
    assert "waivers" not in doc
    with pytest.raises(SelfSignoff):
        store.add_approval("m", "7", "ann", "model-risk-officer", "approved", None)


def test_signoffs_live_beside_the_ledger(tmp_path: Path) -> None:
    assert signoff_url(Settings(home=tmp_path)) == f"sqlite:///{tmp_path / 'signoffs.sqlite3'}"
    postgres = Settings(home=tmp_path, ledger_url="postgresql://u@db/mlgate")
    assert signoff_url(postgres) == "postgresql://u@db/mlgate"


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_a_connection_postgresql_dropped_is_opened_again(store: SignoffStore) -> None:
    store.add_approval("m", "1", "alice", "model-risk-officer", "approved", None)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (store._conn.info.backend_pid,))

    assert [a["approver"] for a in store.approvals_for("m", "1")] == ["alice"]  # a read
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (store._conn.info.backend_pid,))
    store.add_approval("m", "1", "bob", "model-risk-officer", "approved", None)  # a write

    assert [a["approver"] for a in store.approvals_for("m", "1")] == ["alice", "bob"]


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_a_sqlite_file_removed_under_the_store_fails_rather_than_lose_sign_offs(
    store: SignoffStore,
) -> None:
    store.add_approval("m", "1", "alice", "model-risk-officer", "approved", None)
    path = Path(store.url.removeprefix("sqlite:///"))
    for part in path.parent.glob(path.name + "*"):
        part.unlink()

    with pytest.raises(SignoffStoreFailed, match="was removed or replaced"):
        store.approvals_for("m", "1")
    with pytest.raises(SignoffStoreFailed, match="was removed or replaced"):
        store.add_approval("m", "1", "bob", "model-risk-officer", "approved", None)
