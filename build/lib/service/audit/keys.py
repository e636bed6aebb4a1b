"""Ed25519 signing keys and the keyring of public keys, with validity windows for rotation."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from service.audit.clock import format_time, parse_time, utc_now
from service.errors import AuditKeyMissing, UsageError
from service.settings import Settings
from service.statefiles import private_directory, private_file

PRIVATE_KEY_NAME = "signing.pem"
PUBLIC_KEY_NAME = "signing.pub.pem"
KEYRING_NAME = "keyring.json"
# A retired key stays valid this long after a rotation, so a process that loaded it just
# before the rotation still writes records that verify; every writer reloads on its next record.
ROTATION_GRACE = timedelta(seconds=60)


def key_id(public_key: Ed25519PublicKey) -> str:
    """The SHA-256 (hex) of the raw 32-byte public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class SigningKey:
    private_key: Ed25519PrivateKey
    keyid: str

    @classmethod
    def generate(cls) -> SigningKey:
        private_key = Ed25519PrivateKey.generate()
        return cls(private_key, key_id(private_key.public_key()))

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data)

    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def public_pem(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@dataclass(frozen=True)
class KeyringEntry:
    keyid: str
    public_key: Ed25519PublicKey
    valid_from: datetime
    valid_until: datetime | None = None

    def is_valid_at(self, moment: datetime) -> bool:
        """Valid from `valid_from` (inclusive) until `valid_until` (exclusive, open if None)."""
        if moment < self.valid_from:
            return False
        return self.valid_until is None or moment < self.valid_until

    def window(self) -> str:
        until = format_time(self.valid_until) if self.valid_until else "no end"
        return f"{format_time(self.valid_from)} .. {until}"

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            self.public_key.verify(signature, data)
        except InvalidSignature:
            return False
        return True

    def to_json(self) -> dict[str, Any]:
        raw = self.public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return {
            "keyid": self.keyid,
            "public_key": base64.b64encode(raw).decode(),
            "valid_from": format_time(self.valid_from),
            "valid_until": format_time(self.valid_until) if self.valid_until else None,
        }


class Keyring:
    """The public keys a verifier trusts, by key id."""

    def __init__(self, entries: list[KeyringEntry], source: str = "(in memory)") -> None:
        self.entries = {entry.keyid: entry for entry in entries}
        self.source = source

    def candidates(self, keyid: str) -> list[KeyringEntry]:
        """The keys a signature with this key id may be by: that one, or with no key id (DSSE
        makes it optional) every key in the keyring."""
        if not keyid:
            return list(self.entries.values())
        entry = self.entries.get(keyid)
        return [] if entry is None else [entry]

    def get(self, keyid: str) -> KeyringEntry | None:
        return self.entries.get(keyid)

    def to_json(self) -> dict[str, Any]:
        return {"keys": [entry.to_json() for entry in self.entries.values()]}

    @classmethod
    def from_json(cls, document: Any, source: str) -> Keyring:
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise AuditKeyMissing(
                f'keyring {source} must be a JSON object {{"keys": [...]}}; found '
                f"{type(document).__name__}. Recreate it with `mlgate keys init`."
            )
        return cls([_entry(item, source, n) for n, item in enumerate(document["keys"])], source)


def _entry(item: Any, source: str, index: int) -> KeyringEntry:
    where = f"keyring {source}, key #{index}"
    if not isinstance(item, dict):
        raise AuditKeyMissing(f"{where}: expected an object, found {type(item).__name__}")
    try:
        public_key = _public_key(str(item["public_key"]))
        valid_from = parse_time(str(item["valid_from"]))
        until = item.get("valid_until")
        valid_until = parse_time(str(until)) if until is not None else None
    except (KeyError, ValueError) as exc:
        raise AuditKeyMissing(
            f"{where}: expected keyid, public_key (base64 raw or PEM), valid_from and "
            f"valid_until (ISO 8601 or null); {type(exc).__name__}: {exc}"
        ) from None
    keyid = key_id(public_key)
    if item.get("keyid") != keyid:
        raise AuditKeyMissing(
            f"{where}: keyid {item.get('keyid')!r} is not the SHA-256 of its public key "
            f"({keyid}); fix the entry or re-export it with `mlgate keys init`"
        )
    return KeyringEntry(keyid, public_key, valid_from, valid_until)


def _public_key(text: str) -> Ed25519PublicKey:
    if text.lstrip().startswith("-----BEGIN"):
        loaded = serialization.load_pem_public_key(text.encode())
        if not isinstance(loaded, Ed25519PublicKey):
            raise ValueError(f"expected an Ed25519 public key, found {type(loaded).__name__}")
        return loaded
    raw = base64.b64decode(text, validate=True)
    return Ed25519PublicKey.from_public_bytes(raw)


def load_keyring(path: Path) -> Keyring:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise AuditKeyMissing(
            f"no keyring at {path}: the public keys that verify the ledger are expected there. "
            "Point MLGATE_KEYRING at it, or create one with `mlgate keys init`."
        ) from None
    except OSError as exc:
        raise AuditKeyMissing(f"the keyring at {path} cannot be read: {exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AuditKeyMissing(f"the keyring at {path} is not valid JSON: {exc}") from None
    return Keyring.from_json(document, str(path))


def load_signing_key(path: Path) -> SigningKey:
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        raise AuditKeyMissing(
            f"no signing key at {path}: every audit record must be signed, so no decision "
            "can be recorded. Create a key with `mlgate keys init`, or point "
            "MLGATE_SIGNING_KEY at the Ed25519 private key (PEM)."
        ) from None
    except OSError as exc:
        raise AuditKeyMissing(f"the signing key at {path} cannot be read: {exc}") from None
    try:
        private_key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise AuditKeyMissing(
            f"the signing key at {path} is not an unencrypted PEM private key ({exc}); "
            "restore it from backup or rotate with `mlgate keys init --rotate`"
        ) from None
    if not isinstance(private_key, Ed25519PrivateKey):
        raise AuditKeyMissing(
            f"the signing key at {path} must be Ed25519; found {type(private_key).__name__}"
        )
    return SigningKey(private_key, key_id(private_key.public_key()))


@dataclass(frozen=True)
class KeyFiles:
    private_key: Path
    keyring: Path

    @property
    def public_key(self) -> Path:
        return self.private_key.with_name(PUBLIC_KEY_NAME)

    @classmethod
    def in_dir(cls, directory: Path) -> KeyFiles:
        return cls(directory / PRIVATE_KEY_NAME, directory / KEYRING_NAME)

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyFiles:
        return cls(settings.resolved_signing_key, settings.resolved_keyring)


def init_keys(files: KeyFiles, *, rotate: bool = False) -> SigningKey:
    """Write a new signing key (0600), its public PEM, and add it to the keyring.

    With `rotate`, keys already in the keyring stop being valid after a short grace period
    and the old private key is replaced; without it, existing key files are an error.
    """
    with _locked(files):
        existing = [p for p in (files.private_key, files.keyring) if p.exists()]
        if existing and not rotate:
            raise UsageError(
                f"{' and '.join(map(str, existing))} already exist; to retire the current key "
                "and start a new one run `mlgate keys init --rotate` (records it signed keep "
                "verifying)"
            )
        return _add_new_key(files)


def ensure_default_keys(settings: Settings) -> None:
    """The embedded default: on first use, create a key and keyring under MLGATE_HOME.

    Only when neither is configured nor present; a configured or half-present key set is
    never replaced silently (a lost key must be rotated on purpose).
    """
    if settings.signing_key is not None or settings.keyring is not None:
        return
    files = KeyFiles.from_settings(settings)
    if files.private_key.exists() or files.keyring.exists():
        return
    try:
        with _locked(files):
            if files.private_key.exists() or files.keyring.exists():
                return  # another process created them while we waited for the lock
            key = _add_new_key(files)
    except OSError as exc:
        raise AuditKeyMissing(
            f"could not create the default signing key in {files.private_key.parent}: {exc}; "
            "create one with `mlgate keys init --dir DIR` and set MLGATE_SIGNING_KEY"
        ) from None
    print(
        f"mlgate: created an Ed25519 signing key at {files.private_key} (key id {key.keyid}) "
        f"and its keyring at {files.keyring}; keep the key secret and back up the keyring",
        file=sys.stderr,
    )


def _add_new_key(files: KeyFiles) -> SigningKey:
    now = utc_now()
    keyring = load_keyring(files.keyring) if files.keyring.exists() else Keyring([])
    retire_at = now + ROTATION_GRACE
    kept = [
        replace(entry, valid_until=retire_at)
        if entry.valid_until is None or entry.valid_until > retire_at
        else entry
        for entry in keyring.entries.values()
    ]
    key = SigningKey.generate()
    keyring = Keyring([*kept, KeyringEntry(key.keyid, key.public_key, now)])
    # The keyring first: a writer that sees the new key must also find it in the keyring.
    write_file(files.keyring, json.dumps(keyring.to_json(), indent=2).encode() + b"\n")
    write_file(files.public_key, key.public_pem())
    write_file(files.private_key, key.private_pem(), mode=0o600)
    return key


@contextlib.contextmanager
def _locked(files: KeyFiles) -> Iterator[None]:
    """Serialise key creation between processes that start at the same time."""
    directory = files.private_key.parent
    private_directory(directory)
    private_file(directory / ".keys.lock")
    with open(directory / ".keys.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_file(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write atomically (temp file, fsync, rename): readers see the old file or the new one."""
    private_directory(path.parent)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # the umask must not widen a private key's mode
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class KeySource:
    """The signing key and its keyring entry for writers, reloaded when either file changes.

    A rotation by another process is picked up on the next record, so no writer keeps signing
    with a retired key.
    """

    def __init__(self, files: KeyFiles) -> None:
        self.files = files
        self._stamp: tuple[tuple[int, int, int], ...] | None = None
        self._key: SigningKey | None = None
        self._entry: KeyringEntry | None = None

    def current(self, moment: datetime) -> SigningKey:
        """The key to sign at `moment`; AuditKeyMissing if it is missing or not valid then."""
        stamp = self._file_stamp()
        if stamp != self._stamp or self._key is None or self._entry is None:
            key = load_signing_key(self.files.private_key)
            entry = load_keyring(self.files.keyring).get(key.keyid)
            if entry is None:
                raise AuditKeyMissing(
                    f"the signing key {self.files.private_key} (key id {key.keyid}) is not in "
                    f"the keyring {self.files.keyring}, so its records could not be verified; "
                    "add it, or create a matching pair with `mlgate keys init --rotate`"
                )
            self._key, self._entry, self._stamp = key, entry, stamp
        if not self._entry.is_valid_at(moment):
            raise AuditKeyMissing(
                f"the signing key {self._key.keyid} is valid {self._entry.window()} per "
                f"{self.files.keyring}, not at {format_time(moment)}; rotate it with "
                "`mlgate keys init --rotate`"
            )
        return self._key

    def _file_stamp(self) -> tuple[tuple[int, int, int], ...]:
        stamps = []
        for path in (self.files.private_key, self.files.keyring):
            try:
                st = os.stat(path)
            except OSError:
                stamps.append((0, 0, 0))
            else:
                stamps.append((st.st_ino, st.st_mtime_ns, st.st_size))
        return tuple(stamps)


class KeyringSource:
    """The keyring at `path` for readers, loaded when first needed and again when the file
    changes (inode, mtime or size), so a rotation is seen without a restart."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None
        self._keyring: Keyring | None = None

    def current(self) -> Keyring:
        """The keyring; AuditKeyMissing if it is missing or unreadable."""
        try:
            st = os.stat(self.path)
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = (0, 0, 0)
        if self._keyring is None or stamp != self._stamp:
            self._keyring, self._stamp = load_keyring(self.path), stamp
        return self._keyring
