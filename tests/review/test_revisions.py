"""Policy revisions kept in the ledger (service/review/revisions.py), on SQLite and PostgreSQL:
recorded once with each file's digest, archived in the same database, read back checked."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from service.audit.keys import KeyFiles, load_keyring
from service.audit.kinds import POLICY_REVISION
from service.audit.ledger import Ledger
from service.engine.policyset import PolicySet, read_policy_set
from service.errors import InvalidField, LedgerTampered, NotFound
from service.review.revisions import keep_revision, kept_revision, restore_revision
from tests.audit.conftest import key_files, ledger, stores
from tests.audit.factory import StoreFactory

__all__ = ["key_files", "ledger", "stores"]  # the ledger tests' fixtures: SQLite and PostgreSQL


@pytest.fixture
def policies(policy_copy: Callable[[], Path]) -> Path:
    return policy_copy()


def revision_records(ledger: Ledger) -> list[str]:
    return [record.decision_id for record in ledger.find(kind=POLICY_REVISION, limit=1000)]


def sha256(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


def test_a_revision_is_recorded_with_each_file_and_its_digest(
    ledger: Ledger, policies: Path
) -> None:
    policy_set = read_policy_set(policies)

    seq = keep_revision(ledger, policy_set)

    record = ledger.get_seq(seq)
    assert record.kind == POLICY_REVISION and record.decision_id == policy_set.revision
    files = record.predicate()["files"]
    on_disk = {rel: (policies / rel).read_bytes() for rel in policy_set.files}
    assert [entry["path"] for entry in files] == list(policy_set.files)
    assert {entry["path"]: entry["digest"] for entry in files} == {
        rel: sha256(content) for rel, content in on_disk.items()
    }
    assert {entry["path"]: entry["size"] for entry in files} == {
        rel: len(content) for rel, content in on_disk.items()
    }


def test_the_kept_files_are_exactly_the_revisions_and_hash_to_it(
    ledger: Ledger, policies: Path, tmp_path: Path
) -> None:
    policy_set = read_policy_set(policies)
    seq = keep_revision(ledger, policy_set)

    kept = kept_revision(ledger, policy_set.revision)

    assert kept.seq == seq
    assert {f.path: f.content for f in kept.files} == {
        rel: (policies / rel).read_bytes() for rel in policy_set.files
    }
    restored = restore_revision(kept, tmp_path / "restored")
    assert read_policy_set(restored).revision == policy_set.revision


def test_two_loads_of_the_same_set_record_it_once(ledger: Ledger, policies: Path) -> None:
    first = keep_revision(ledger, read_policy_set(policies))
    again = keep_revision(ledger, read_policy_set(policies))

    assert again == first
    assert revision_records(ledger) == [read_policy_set(policies).revision]
    assert ledger.last_seq() == 1


def test_an_edited_file_makes_a_new_revision_whose_files_are_archived(
    ledger: Ledger, policies: Path
) -> None:
    old = read_policy_set(policies)
    keep_revision(ledger, old)
    config = policies / "data" / "promotion.yaml"
    old_bytes = config.read_bytes()
    config.write_text(config.read_text().replace("floors: {auc: 0.85}", "floors: {auc: 0.99}"))
    new = read_policy_set(policies)

    keep_revision(ledger, new)

    assert new.revision != old.revision
    assert sorted(revision_records(ledger)) == sorted([old.revision, new.revision])
    assert kept_revision(ledger, new.revision).file("data/promotion.yaml").content == (
        config.read_bytes()
    )
    assert kept_revision(ledger, old.revision).file("data/promotion.yaml").content == old_bytes


def test_loads_racing_on_one_ledger_record_the_revision_once(
    stores: StoreFactory, key_files: KeyFiles, policies: Path
) -> None:
    """Several instances starting together on one ledger (each its own connection)."""
    policy_set = read_policy_set(policies)
    ledgers = [stores.ledger(key_files) for _ in range(4)]
    start = threading.Barrier(len(ledgers))
    seqs: list[int] = []
    errors: list[BaseException] = []

    def load(ledger: Ledger) -> None:
        start.wait()
        try:
            seqs.append(keep_revision(ledger, policy_set))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(ledger,)) for ledger in ledgers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert seqs == [1, 1, 1, 1]
        assert revision_records(ledgers[0]) == [policy_set.revision]
    finally:
        for ledger in ledgers:
            ledger.close()


def _stored_file(policy_set: PolicySet, rel: str) -> str:
    return sha256(policy_set.contents[rel])


def test_an_altered_archived_file_is_caught_by_verify_and_when_fetched(
    ledger: Ledger, stores: StoreFactory, key_files: KeyFiles, policies: Path
) -> None:
    policy_set = read_policy_set(policies)
    seq = keep_revision(ledger, policy_set)
    digest = _stored_file(policy_set, "data/promotion.yaml")
    altered = policy_set.contents["data/promotion.yaml"].replace(b"0.85", b"0.05")
    stores.execute("UPDATE inputs SET document = ? WHERE digest = ?", (altered, digest))

    report = ledger.verify(load_keyring(key_files.keyring))
    with pytest.raises(LedgerTampered, match=r"data/promotion\.yaml .* hashes to"):
        kept_revision(ledger, policy_set.revision)

    assert not report.ok
    problems = [(p.seq, p.kind) for p in report.problems]
    assert problems == [(seq, "policy file altered")]


def test_a_removed_archived_file_is_caught_by_verify_and_when_fetched(
    ledger: Ledger, stores: StoreFactory, key_files: KeyFiles, policies: Path
) -> None:
    policy_set = read_policy_set(policies)
    seq = keep_revision(ledger, policy_set)
    digest = _stored_file(policy_set, "promotion/promotion.rego")
    stores.execute("DELETE FROM inputs WHERE digest = ?", (digest,))

    report = ledger.verify(load_keyring(key_files.keyring))
    with pytest.raises(LedgerTampered, match=r"promotion/promotion\.rego .* was deleted"):
        kept_revision(ledger, policy_set.revision)

    assert [(p.seq, p.kind) for p in report.problems] == [(seq, "policy file missing")]


def test_a_ledger_with_its_revision_kept_verifies_clean(
    ledger: Ledger, key_files: KeyFiles, policies: Path
) -> None:
    keep_revision(ledger, read_policy_set(policies))

    report = ledger.verify(load_keyring(key_files.keyring))

    assert report.ok, [p.line() for p in report.problems]


def test_a_revision_not_on_record_is_not_found(ledger: Ledger, policies: Path) -> None:
    keep_revision(ledger, read_policy_set(policies))
    unknown = "sha256:" + "0" * 64

    with pytest.raises(NotFound, match=f"no policy revision {unknown} is on record"):
        kept_revision(ledger, unknown)


def test_a_string_that_is_no_revision_names_what_was_expected(ledger: Ledger) -> None:
    with pytest.raises(InvalidField) as raised:
        kept_revision(ledger, "HEAD~1")

    assert raised.value.field == "revision"
    assert "sha256: and 64 lowercase hex digits; found 'HEAD~1'" in raised.value.message
