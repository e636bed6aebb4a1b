"""Signing keys and the keyring: creation, file modes, rotation windows, first-use defaults."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from service.audit.clock import parse_time, utc_now
from service.audit.keys import (
    ROTATION_GRACE,
    KeyFiles,
    KeySource,
    ensure_default_keys,
    init_keys,
    load_keyring,
    load_signing_key,
)
from service.errors import AuditKeyMissing, UsageError
from service.settings import Settings


def test_keys_init_writes_a_private_key_only_its_owner_can_read(tmp_path: Path) -> None:
    files = KeyFiles.in_dir(tmp_path / "keys")
    key = init_keys(files)
    assert stat.S_IMODE(files.private_key.stat().st_mode) == 0o600
    assert load_signing_key(files.private_key).keyid == key.keyid
    assert files.public_key.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")


def test_the_key_id_is_the_sha256_of_the_raw_public_key(key_files: KeyFiles) -> None:
    key = load_signing_key(key_files.private_key)
    raw = key.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert key.keyid == hashlib.sha256(raw).hexdigest()
    entry = json.loads(key_files.keyring.read_text())["keys"][0]
    assert entry["keyid"] == key.keyid
    assert base64.b64decode(entry["public_key"]) == raw
    assert entry["valid_until"] is None


def test_keys_init_refuses_to_replace_an_existing_key(key_files: KeyFiles) -> None:
    with pytest.raises(UsageError, match="--rotate"):
        init_keys(key_files)


def test_rotation_retires_the_old_key_after_a_grace_period(key_files: KeyFiles) -> None:
    old = load_signing_key(key_files.private_key)
    new = init_keys(key_files, rotate=True)
    keyring = load_keyring(key_files.keyring)
    old_entry, new_entry = keyring.get(old.keyid), keyring.get(new.keyid)
    assert old_entry is not None and new_entry is not None
    assert old_entry.valid_until is not None
    assert old_entry.valid_until - new_entry.valid_from == ROTATION_GRACE
    assert new_entry.valid_until is None
    assert load_signing_key(key_files.private_key).keyid == new.keyid


def test_a_keyring_may_hold_pem_public_keys(key_files: KeyFiles, tmp_path: Path) -> None:
    key = load_signing_key(key_files.private_key)
    document = {
        "keys": [
            {
                "keyid": key.keyid,
                "public_key": key.public_pem().decode(),
                "valid_from": "2026-01-01T00:00:00Z",
                "valid_until": None,
            }
        ]
    }
    path = tmp_path / "pem-keyring.json"
    path.write_text(json.dumps(document))
    assert load_keyring(path).get(key.keyid) is not None


def test_a_keyring_entry_whose_keyid_does_not_match_its_key_is_refused(
    key_files: KeyFiles,
) -> None:
    document = json.loads(key_files.keyring.read_text())
    document["keys"][0]["keyid"] = "0" * 64
    key_files.keyring.write_text(json.dumps(document))
    with pytest.raises(AuditKeyMissing, match="is not the SHA-256 of its public key"):
        load_keyring(key_files.keyring)


def test_the_embedded_default_creates_a_key_on_first_use_and_says_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(home=tmp_path / "home")
    ensure_default_keys(settings)
    assert settings.resolved_signing_key.exists() and settings.resolved_keyring.exists()
    assert str(settings.resolved_signing_key) in capsys.readouterr().err
    ensure_default_keys(settings)  # second use: nothing new, nothing printed
    assert capsys.readouterr().err == ""


def test_a_lost_default_key_is_not_silently_replaced(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    ensure_default_keys(settings)
    settings.resolved_signing_key.unlink()
    ensure_default_keys(settings)
    assert not settings.resolved_signing_key.exists()
    with pytest.raises(AuditKeyMissing, match="no signing key at"):
        KeySource(KeyFiles.from_settings(settings)).current(utc_now())


def test_a_writer_picks_up_a_rotation_made_by_another_process(key_files: KeyFiles) -> None:
    source = KeySource(key_files)
    before = source.current(utc_now()).keyid
    after = init_keys(key_files, rotate=True).keyid
    assert source.current(utc_now()).keyid == after != before


def test_a_writer_refuses_to_sign_with_a_key_outside_its_window(key_files: KeyFiles) -> None:
    document = json.loads(key_files.keyring.read_text())
    document["keys"][0]["valid_until"] = "2020-01-01T00:00:00Z"
    key_files.keyring.write_text(json.dumps(document))
    with pytest.raises(AuditKeyMissing, match=r"is valid .* not at .* rotate it"):
        KeySource(key_files).current(utc_now())


def test_a_signing_key_missing_from_the_keyring_is_refused(
    key_files: KeyFiles, tmp_path: Path
) -> None:
    other = KeyFiles.in_dir(tmp_path / "other")
    init_keys(other)
    mixed = KeyFiles(key_files.private_key, other.keyring)
    with pytest.raises(AuditKeyMissing, match="is not in the keyring"):
        KeySource(mixed).current(utc_now())


def test_validity_windows_include_the_start_and_exclude_the_end(key_files: KeyFiles) -> None:
    entry = next(iter(load_keyring(key_files.keyring).entries.values()))
    start = entry.valid_from
    closed = entry.__class__(entry.keyid, entry.public_key, start, start + timedelta(hours=1))
    assert closed.is_valid_at(start)
    assert not closed.is_valid_at(start - timedelta(microseconds=1))
    assert not closed.is_valid_at(start + timedelta(hours=1))
    assert parse_time("2026-01-01T00:00:00") == parse_time("2026-01-01T00:00:00Z")
