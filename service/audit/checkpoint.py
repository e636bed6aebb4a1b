"""Signed checkpoints: "the ledger had `size` records with this Merkle root at this time", and
(since checkpoints name it) "its last record's envelope hashes to `head`", so a verifier that
kept one can check the records after it alone, chained to that head."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from service.audit.clock import format_time, parse_time
from service.audit.envelope import Envelope, MalformedEnvelope, open_envelope, seal
from service.audit.keys import Keyring, SigningKey
from service.canonical import canonical_json

CHECKPOINT_PAYLOAD_TYPE = "application/vnd.mlgate.checkpoint+json"
CHECKPOINT_TYPE = "https://mlgate.dev/checkpoint/v1"


class CheckpointInvalid(ValueError):
    """A checkpoint that cannot be trusted: malformed, unsigned by a known key, or forged."""

    def __init__(self, message: str, size: int | None = None, *, unknown_key: bool = False) -> None:
        super().__init__(message)
        self.size = size
        self.unknown_key = unknown_key  # only that no signature's key is in the keyring


@dataclass(frozen=True)
class Checkpoint:
    size: int
    root: bytes
    time: datetime
    keyid: str
    envelope: bytes
    head: str | None = None  # SHA-256 hex of record `size`'s envelope; None in older ones

    def describe(self) -> str:
        return f"checkpoint of {self.size} records signed at {format_time(self.time)}"


def seal_checkpoint(
    size: int, root: bytes, at: datetime, key: SigningKey, head: str | None = None
) -> bytes:
    """The signed checkpoint; `head` is the SHA-256 hex of the last record's envelope (the
    prev the next record must carry)."""
    body: dict[str, object] = {
        "_type": CHECKPOINT_TYPE,
        "size": size,
        "root": root.hex(),
        "time": format_time(at),
    }
    if head is not None:
        body["head"] = head
    return seal(CHECKPOINT_PAYLOAD_TYPE, canonical_json(body), key)


@dataclass(frozen=True)
class _Statement:
    envelope: Envelope
    size: int
    root: bytes
    time: datetime
    head: str | None


def checkpoint_shape_problem(raw: bytes) -> str | None:
    """What makes `raw` not a checkpoint at all (not a DSSE envelope, another payloadType, a
    payload that is not a checkpoint statement), before any signature is looked at; None when
    it is shaped as one. Whether it is signed by a trusted key and matches a ledger is
    open_checkpoint's and the verifier's to say."""
    try:
        _statement(raw)
    except MalformedEnvelope as exc:
        return str(exc)
    return None


def _statement(raw: bytes) -> _Statement:
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
        head = body.get("head")
        if head is not None and not (isinstance(head, str) and len(head) == 64):
            raise MalformedEnvelope(f"head must be 64 hex digits; found {head!r}")
    except MalformedEnvelope:
        raise
    except KeyError as exc:
        raise MalformedEnvelope(f"the statement has no {exc}") from None
    except (ValueError, TypeError) as exc:
        raise MalformedEnvelope(str(exc)) from None
    return _Statement(envelope, size, root, at, head)


def open_checkpoint(raw: bytes, keyring: Keyring) -> Checkpoint:
    """The checkpoint, once its signature and key validity check out; else CheckpointInvalid."""
    try:
        statement = _statement(raw)
    except MalformedEnvelope as exc:
        raise CheckpointInvalid(f"not a checkpoint: {exc}") from None
    envelope, size, root, at, head = (
        statement.envelope,
        statement.size,
        statement.root,
        statement.time,
        statement.head,
    )
    problems = []
    unknown = 0
    for signature in envelope.signatures:
        named = f"key {signature.keyid}" if signature.keyid else "a signature without a key id"
        entries = keyring.candidates(signature.keyid)
        verified = [e for e in entries if e.verify(signature.sig, envelope.signed_bytes())]
        valid = [e for e in verified if e.is_valid_at(at)]
        if not entries:
            unknown += 1
            problems.append(f"{named} is not in the keyring {keyring.source}")
        elif not verified:
            problems.append(f"the signature by {named} does not verify")
        elif not valid:
            problems.append(
                f"key {verified[0].keyid} is valid {verified[0].window()}, not at {format_time(at)}"
            )
        else:
            return Checkpoint(size, root, at, valid[0].keyid, raw, head)
    raise CheckpointInvalid(
        f"checkpoint of {size} records: {'; '.join(problems)}",
        size,
        unknown_key=unknown == len(problems),
    )
