"""Canonical JSON bytes and their digests, the basis of input and evidence digests; and the
parse of the JSON the ledger keeps (a record's payload, an input document)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

import orjson

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


# Every byte that is not an ASCII digit, as a space; each digit as "9": a run of
# _LONG_DIGITS in the result is a run of that many digits in the text.
_DIGIT_RUNS = bytes(0x39 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_DIGITS = b"9" * 19


def parse_json(text: bytes) -> Any:
    """The value of JSON `text`, exactly as `json.loads` gives it, parsed by orjson (about
    three times as fast on a record's payload) wherever its value is the same.

    orjson gives a float for an integer beyond 64 bits (json an int) and refuses what json
    takes beyond RFC 8259 (NaN, Infinity, numbers out of a double's range, lone surrogates).
    So text with a run of 19 or more digits (every integer orjson would not keep exactly has
    one), or that orjson refuses, is parsed by `json.loads`. Raises ValueError (including
    UnicodeDecodeError) when json refuses it.
    """
    if _LONG_DIGITS not in text.translate(_DIGIT_RUNS):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text.decode())


def canonical_members(document: Mapping[str, Any]) -> tuple[bytes, dict[str, bytes]]:
    """The canonical bytes of a JSON object and of each of its members, encoding each once.

    The object's bytes are assembled from its members' (same sorted keys, same separators), so
    `canonical_members(d)[0] == canonical_json(d)` while the members' digests come for free.
    """
    members = {key: canonical_json(value) for key, value in document.items()}
    body = b",".join(_encode_key(key).encode() + b":" + members[key] for key in sorted(members))
    return b"{" + body + b"}", members


MAX_NESTING = 64  # arrays and objects inside one another; evidence needs fewer than ten


def unencodable(value: Any) -> tuple[str, str] | None:
    """The dotted path of the first value canonical JSON or a ledger store cannot carry, and
    why, or None: NaN or Infinity (JSON has neither), a string `text_problem` refuses, arrays
    and objects nested deeper than MAX_NESTING (parsers take them, but encoding and passing
    them on can run out of stack), or what YAML reads but JSON has no such thing as (dates,
    keys that are not strings)."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        where = path or "(document)"
        if isinstance(item, float) and not math.isfinite(item):
            return where, f"{item} is not a finite number; JSON has no NaN or Infinity"
        if isinstance(item, str) and (problem := text_problem(item)):
            return where, f"a string holds {problem}"
        if isinstance(item, dict | list) and depth == MAX_NESTING:
            return where, f"arrays and objects nest deeper than {MAX_NESTING} levels"
        if isinstance(item, dict):
            for key in item:
                if not isinstance(key, str):
                    return where, f"the key {key!r} is not a string; in YAML, quote it"
                if problem := text_problem(key):
                    return where, f"a key holds {problem}"
            children = [(f"{path}.{k}" if path else k, v) for k, v in item.items()]
        elif isinstance(item, list):
            children = [(f"{path}[{i}]", v) for i, v in enumerate(item)]
        elif item is None or isinstance(item, str | int | float):  # bool is an int
            continue
        else:
            return where, f"{item} is a {type(item).__name__}, not a JSON value; in YAML, quote it"
        stack.extend((child, child_path, depth + 1) for child_path, child in reversed(children))
    return None


def text_problem(text: str) -> str | None:
    """What in `text` no ledger store can keep as text, or None: an unpaired UTF-16 surrogate
    (UTF-8 has none) or a NUL character (PostgreSQL's text has none)."""
    if "\x00" in text:
        return "a NUL character (U+0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "an unpaired UTF-16 surrogate"
    return None
