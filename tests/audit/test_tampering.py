"""Tampering with an export or with the database directly is detected and located by seq."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path

import pytest

from service.audit.envelope import PAYLOAD_TYPE, open_envelope, seal
from service.audit.keys import KeyFiles, Keyring, SigningKey, init_keys, load_signing_key
from service.audit.ledger import Ledger
from service.audit.verify import VerifyReport, verify_envelopes
from tests.audit.factory import StoreFactory, record_many

RECORDS = 10


def kinds_by_seq(report: VerifyReport) -> dict[int, set[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    for problem in report.problems:
        found[problem.seq].add(problem.kind)
    return dict(found)


def flip_char(envelope: bytes, field: str, offset: int) -> bytes:
    """Change one base64 character of `field`'s value: one byte of the stored record."""
    at = envelope.index(f'"{field}":"'.encode()) + len(field) + 4 + offset
    replacement = b"B" if envelope[at : at + 1] != b"B" else b"C"
    return envelope[:at] + replacement + envelope[at + 1 :]


@pytest.fixture
def filled(ledger: Ledger) -> Ledger:
    record_many(ledger, RECORDS)
    return ledger


@pytest.fixture
def export(filled: Ledger) -> list[bytes]:
    return list(filled.envelopes())


def test_an_untouched_ledger_and_its_export_verify(
    filled: Ledger, export: list[bytes], keyring: Keyring
) -> None:
    report = filled.verify(keyring)
    assert report.ok, report.problems
    assert report.summary.startswith(f"{RECORDS}/{RECORDS} records valid")
    assert verify_envelopes(export, keyring).ok


# --- an export (JSONL lines) ------------------------------------------------------------------


def test_one_byte_of_a_signature_edited_in_an_export(export: list[bytes], keyring: Keyring) -> None:
    export[4] = flip_char(export[4], "sig", 10)
    report = verify_envelopes(export, keyring)
    assert kinds_by_seq(report) == {5: {"bad signature"}, 6: {"bad prev hash"}}
    assert report.valid == RECORDS - 2


def test_one_byte_of_a_payload_edited_in_an_export(export: list[bytes], keyring: Keyring) -> None:
    export[4] = flip_char(export[4], "payload", 200)
    kinds = kinds_by_seq(verify_envelopes(export, keyring))
    assert kinds[5] & {"bad signature", "malformed"}
    assert kinds[6] == {"bad prev hash"}
    assert set(kinds) == {5, 6}


def test_a_record_deleted_from_an_export(export: list[bytes], keyring: Keyring) -> None:
    del export[4]
    report = verify_envelopes(export, keyring)
    assert kinds_by_seq(report) == {5: {"sequence gap"}}
    assert "seq 5 missing" in report.problems[0].message


def test_two_records_swapped_in_an_export(export: list[bytes], keyring: Keyring) -> None:
    export[4], export[5] = export[5], export[4]
    report = verify_envelopes(export, keyring)
    assert kinds_by_seq(report) == {5: {"out of order"}}


def test_a_truncated_export_is_caught_only_with_a_checkpoint(
    filled: Ledger, export: list[bytes], keyring: Keyring
) -> None:
    checkpoint = filled.checkpoint()
    truncated = export[:7]
    assert verify_envelopes(truncated, keyring).ok  # a clean prefix is a valid chain...
    report = verify_envelopes(truncated, keyring, [checkpoint])
    assert kinds_by_seq(report) == {8: {"truncated"}}  # ...that the checkpoint proves too short


def test_a_record_signed_by_an_unknown_key_in_an_export(
    export: list[bytes], keyring: Keyring
) -> None:
    rogue = SigningKey.generate()
    export[4] = seal(PAYLOAD_TYPE, open_envelope(export[4]).payload, rogue)
    report = verify_envelopes(export, keyring)
    assert kinds_by_seq(report) == {5: {"unknown key"}, 6: {"bad prev hash"}}
    assert rogue.keyid in report.problems[0].message


def test_a_rewrite_re_signed_with_the_real_key_is_caught_by_a_checkpoint(
    filled: Ledger, export: list[bytes], keyring: Keyring, key_files: KeyFiles
) -> None:
    checkpoint = filled.checkpoint()
    key = load_signing_key(key_files.private_key)
    rewritten = export[:4]
    for raw in export[4:]:  # flip seq 5's outcome, then re-chain everything after it
        statement = open_envelope(raw).statement()
        predicate = statement["predicate"]
        if predicate["seq"] == 5:
            predicate["outcome"] = "allow"
        predicate["prev"] = hashlib.sha256(rewritten[-1]).hexdigest()
        payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
        rewritten.append(seal(PAYLOAD_TYPE, payload, key))
    assert verify_envelopes(rewritten, keyring).ok  # whoever holds the key can rewrite...
    report = verify_envelopes(rewritten, keyring, [checkpoint])
    assert kinds_by_seq(report) == {RECORDS: {"checkpoint mismatch"}}  # ...but not unnoticed


# --- the database itself (SQLite file, PostgreSQL schema) --------------------------------------


def test_one_byte_of_a_stored_record_edited(
    filled: Ledger, stores: StoreFactory, keyring: Keyring
) -> None:
    envelope = filled.get_seq(5).envelope
    stores.execute(
        "UPDATE records SET envelope = ? WHERE seq = 5", (flip_char(envelope, "sig", 3),)
    )
    report = filled.verify(keyring)
    assert kinds_by_seq(report) == {5: {"bad signature"}, 6: {"bad prev hash"}}


def test_a_stored_record_deleted(filled: Ledger, stores: StoreFactory, keyring: Keyring) -> None:
    stores.execute("DELETE FROM records WHERE seq = 5")
    assert kinds_by_seq(filled.verify(keyring)) == {5: {"sequence gap"}}


def test_two_stored_records_swapped(filled: Ledger, stores: StoreFactory, keyring: Keyring) -> None:
    five, six = filled.get_seq(5).envelope, filled.get_seq(6).envelope
    stores.execute("UPDATE records SET envelope = ? WHERE seq = 5", (six,))
    stores.execute("UPDATE records SET envelope = ? WHERE seq = 6", (five,))
    assert kinds_by_seq(filled.verify(keyring)) == {5: {"out of order"}}


def test_a_truncated_store_is_caught_only_with_a_checkpoint_kept_elsewhere(
    filled: Ledger, stores: StoreFactory, keyring: Keyring, tmp_path: Path
) -> None:
    kept = tmp_path / "checkpoint.json"
    kept.write_bytes(filled.checkpoint())
    # Whoever truncates the ledger can also delete the checkpoints stored inside it.
    stores.execute("DELETE FROM records WHERE seq > 7")
    stores.execute("DELETE FROM checkpoints")
    assert filled.verify(keyring).ok
    report = filled.verify(keyring, checkpoints=[kept.read_bytes()])
    assert kinds_by_seq(report) == {8: {"truncated"}}
    assert "records after seq 7 were removed" in report.problems[0].message


def test_a_truncation_that_leaves_the_stored_checkpoints_is_caught(
    filled: Ledger, stores: StoreFactory, keyring: Keyring
) -> None:
    filled.checkpoint()
    stores.execute("DELETE FROM records WHERE seq > 7")
    assert kinds_by_seq(filled.verify(keyring)) == {8: {"truncated"}}


def test_records_signed_by_a_key_the_verifier_does_not_know(
    filled: Ledger, stores: StoreFactory, key_files: KeyFiles, keyring: Keyring, tmp_path: Path
) -> None:
    rogue_files = KeyFiles.in_dir(tmp_path / "rogue")
    init_keys(rogue_files)
    with stores.ledger(rogue_files) as rogue:
        record_many(rogue, 2, start=100)
    record_many(filled, 1, start=200)
    report = filled.verify(keyring)
    assert kinds_by_seq(report) == {11: {"unknown key"}, 12: {"unknown key"}}
    assert report.summary.startswith("11/13 records valid")
