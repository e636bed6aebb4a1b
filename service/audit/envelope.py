"""DSSE envelopes around in-toto Statements: the exact bytes of a ledger record or checkpoint."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

import orjson

from service.audit.keys import SigningKey
from service.audit.kinds import DECISION, record_kind
from service.canonical import canonical_json, parse_json

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
GENESIS_PREV = "0" * 64
# The one form of artifact digest a subject may carry (schemas/lineage.schema.json says so too).
ARTIFACT_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


class MalformedEnvelope(ValueError):
    """The bytes are not a DSSE envelope, or its payload is not what the ledger writes."""


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what is actually signed."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True)
class Signature:
    keyid: str  # "" when the envelope gives none: DSSE makes it an optional hint
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]

    def signed_bytes(self) -> bytes:
        return pae(self.payload_type, self.payload)

    def statement(self) -> dict[str, Any]:
        """The in-toto Statement inside; MalformedEnvelope if it is not one of ours."""
        try:
            statement = parse_json(self.payload)
        except ValueError as exc:
            raise MalformedEnvelope(f"payload is not JSON: {exc}") from None
        if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
            raise MalformedEnvelope(f"payload is not an in-toto Statement ({STATEMENT_TYPE})")
        if not isinstance(statement.get("predicate"), dict):
            raise MalformedEnvelope("statement has no predicate object")
        return statement


def seal(payload_type: str, payload: bytes, key: SigningKey) -> bytes:
    """Sign `payload` and return the envelope's bytes, which are stored and never rebuilt."""
    signature = key.sign(pae(payload_type, payload))
    return canonical_json(
        {
            "payload": base64.b64encode(payload).decode(),
            "payloadType": payload_type,
            "signatures": [{"keyid": key.keyid, "sig": base64.b64encode(signature).decode()}],
        }
    )


def open_envelope(raw: bytes) -> Envelope:
    """Parse envelope bytes strictly; MalformedEnvelope says what is wrong."""
    try:
        # orjson: an envelope holds strings only, so its parser's numbers (64-bit integers,
        # doubles) change nothing here, and it reads one about four times as fast as json.
        document = orjson.loads(raw)
    except ValueError as exc:  # orjson.JSONDecodeError is a ValueError, as json's is
        raise MalformedEnvelope(f"not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise MalformedEnvelope(f"expected a JSON object, found {type(document).__name__}")
    payload_type = document.get("payloadType")
    payload = document.get("payload")
    signatures = document.get("signatures")
    if not isinstance(payload_type, str) or not isinstance(payload, str):
        raise MalformedEnvelope("payload and payloadType must be strings")
    if not isinstance(signatures, list) or not signatures:
        raise MalformedEnvelope("signatures must be a non-empty list")
    return Envelope(
        payload_type,
        _b64decode(payload, "payload"),
        tuple(_signature(i, s) for i, s in enumerate(signatures)),
    )


def _signature(index: int, item: Any) -> Signature:
    where = f"signatures[{index}]"
    if not isinstance(item, dict):
        raise MalformedEnvelope(f"{where} must be an object with sig (and optionally keyid)")
    keyid, sig = item.get("keyid", ""), item.get("sig")
    if not isinstance(keyid, str):
        raise MalformedEnvelope(f"{where}.keyid must be a string when present")
    if not isinstance(sig, str):
        raise MalformedEnvelope(f"{where}.sig must be a base64 string")
    return Signature(keyid, _b64decode(sig, f"{where}.sig"))


def _b64decode(text: str, where: str) -> bytes:
    """Base64 as DSSE allows it: standard or URL-safe alphabet, padded or not. The standard
    padded form (what the ledger writes) takes binascii's strict fast path."""
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    standard = text.replace("-", "+").replace("_", "/")
    standard += "=" * (-len(standard) % 4)
    try:
        return binascii.a2b_base64(standard, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedEnvelope(f"{where} is not base64 (standard or URL-safe): {exc}") from None


def statement_payload(
    subject: list[dict[str, Any]],
    predicate: dict[str, Any],
    *,
    seq: int,
    prev: str,
    at: str,
    kind: str = DECISION,
) -> bytes:
    """The statement of a record of `kind`, whose predicate type says what kind it is."""
    return canonical_json(
        {
            "_type": STATEMENT_TYPE,
            "subject": subject,
            "predicateType": record_kind(kind).predicate_type,
            "predicate": {**predicate, "seq": seq, "prev": prev, "recorded_at": at},
        }
    )
