"""Signed checkpoints: "the ledger had `size` records with this Merkle root at this time"."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from service.audit.clock import format_time, parse_time
from service.audit.envelope import MalformedEnvelope, open_envelope, seal
from service.audit.keys import Keyring, SigningKey
from service.canonical import canonical_json

CHECKPOINT_PAYLOAD_TYPE = "application/vnd.mlgate.checkpoint+json"
CHECKPOINT_TYPE = "https://mlgate.dev/checkpoint/v1"


class CheckpointInvalid(ValueError):
    """A checkpoint that cannot be trusted: malformed, unsigned by a known key, or forged."""

    def __init__(self, message: str, size: int | None = None) -> None:
        super().__init__(message)
        self.size = size


@dataclass(frozen=True)
class Checkpoint:
    size: int
    root: bytes
    time: datetime
    keyid: str
    envelope: bytes

    def describe(self) -> str:
        return f"checkpoint of {self.size} records signed at {format_time(self.time)}"


def seal_checkpoint(size: int, root: bytes, at: datetime, key: SigningKey) -> bytes:
    payload = canonical_json(
        {"_type": CHECKPOINT_TYPE, "size": size, "root": root.hex(), "time": format_time(at)}
    )
    return seal(CHECKPOINT_PAYLOAD_TYPE, payload, key)


def open_checkpoint(raw: bytes, keyring: Keyring) -> Checkpoint:
    """The checkpoint, once its signature and key validity check out; else CheckpointInvalid."""
    try:
        envelope = open_envelope(raw)
        if envelope.payload_type != CHECKPOINT_PAYLOAD_TYPE:
            raise MalformedEnvelope(
                f"payloadType is {envelope.payload_type!r}, not {CHECKPOINT_PAYLOAD_TYPE!r}"
            )
        body = json.loads(envelope.payload)
        if not isinstance(body, dict) or body.get("_type") != CHECKPOINT_TYPE:
            raise MalformedEnvelope(f"payload is not a {CHECKPOINT_TYPE} statement")
        size, root, at = int(body["size"]), bytes.fromhex(body["root"]), parse_time(body["time"])
    except (MalformedEnvelope, ValueError, KeyError, TypeError) as exc:
        raise CheckpointInvalid(f"not a checkpoint: {exc}") from None
    problems = []
    for signature in envelope.signatures:
        entry = keyring.get(signature.keyid)
        if entry is None:
            problems.append(f"key {signature.keyid} is not in the keyring {keyring.source}")
        elif not entry.verify(signature.sig, envelope.signed_bytes()):
            problems.append(f"the signature by key {signature.keyid} does not verify")
        elif not entry.is_valid_at(at):
            problems.append(
                f"key {signature.keyid} is valid {entry.window()}, not at {format_time(at)}"
            )
        else:
            return Checkpoint(size, root, at, signature.keyid, raw)
    raise CheckpointInvalid(f"checkpoint of {size} records: {'; '.join(problems)}", size)
