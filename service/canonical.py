"""Canonical JSON bytes and their digests, the basis of input and evidence digests."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

# One encoder for every call: building one per call costs more than encoding a short value.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_encode_key = json.encoder.encode_basestring  # exactly how the encoder writes an object's keys


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no insignificant white space, UTF-8: the same document gives the same bytes."""
    return _ENCODER.encode(value).encode()


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def document_digest(value: Any) -> str:
    return sha256_digest(canonical_json(value))


def canonical_members(document: Mapping[str, Any]) -> tuple[bytes, dict[str, bytes]]:
    """The canonical bytes of a JSON object and of each of its members, encoding each once.

    The object's bytes are assembled from its members' (same sorted keys, same separators), so
    `canonical_members(d)[0] == canonical_json(d)` while the members' digests come for free.
    """
    members = {key: canonical_json(value) for key, value in document.items()}
    body = b",".join(_encode_key(key).encode() + b":" + members[key] for key in sorted(members))
    return b"{" + body + b"}", members


def non_finite_number(value: Any, path: str = "") -> str | None:
    """The dotted path of the first NaN or Infinity in `value` (JSON has neither), or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return path or "(document)"
    children: Any = ()
    if isinstance(value, dict):
        children = ((f"{path}.{k}" if path else str(k), v) for k, v in value.items())
    elif isinstance(value, list):
        children = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    for child_path, child in children:
        found = non_finite_number(child, child_path)
        if found is not None:
            return found
    return None
