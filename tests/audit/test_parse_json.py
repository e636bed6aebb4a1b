"""A record's payload is parsed by orjson where its value is json's, by json elsewhere
(service/canonical.parse_json): the value, its types and its refusals are json's."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from service.canonical import parse_json


def same(a: Any, b: Any) -> bool:
    """Equal values of the same types all the way down (-0.0 is not 0.0, 1 is not 1.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return repr(a) == repr(b)
    return bool(a == b)


EDGES = [
    b"9223372036854775807",
    b"-9223372036854775808",
    b"-9223372036854775809",  # below 64 bits signed: orjson gives a float
    b"18446744073709551615",
    b"18446744073709551616",  # beyond 64 bits: orjson gives a float
    b"123456789012345678901234567890",
    b"-123456789012345678901234567890",
    b"999999999999999999",
    b"1000000000000000000",
    b"-0",
    b"-0.0",
    b"1e400",
    b"-1e400",
    b"1.7976931348623157e308",
    b"5e-324",
    b"1e-7",
    b"0.1",
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b'"\\ud800"',
    b'"\\u00e9\\u0000"',
    b'{"a":1,"b":2,"a":3}',
    b'{"seq": 12345678901234567890, "prev": "ab"}',
    b'{"digest": "sha256:1234567890123456789012345"}',
    b"[1.0, 1, true, null, false]",
]


@pytest.mark.parametrize("text", EDGES, ids=lambda t: t.decode()[:40])
def test_each_edge_parses_to_json_s_value(text: bytes) -> None:
    assert same(parse_json(text), json.loads(text.decode()))


@pytest.mark.parametrize(
    "text", [b"", b"{", b"[1,]", b"\xff\xfe", b'{"a": 1} x', b"01", b"'a'"], ids=repr
)
def test_what_json_refuses_is_refused(text: bytes) -> None:
    with pytest.raises(ValueError):
        json.loads(text.decode())
    with pytest.raises(ValueError):
        parse_json(text)


def _number(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return str(rng.choice([-1, 1]) * rng.randrange(10 ** rng.randrange(1, 25)))
    if kind == 1:
        return repr(rng.uniform(-1e6, 1e6))
    if kind == 2:
        return f"{rng.randrange(1, 10)}e{rng.randrange(-330, 330)}"
    return repr(rng.random() * 10.0 ** rng.randrange(-20, 20))


def _value(rng: random.Random, depth: int) -> str:
    if depth > 3 or rng.random() < 0.4:
        return rng.choice([_number(rng), '"x"', "true", "null", '"\\u00e9"'])
    if rng.random() < 0.5:
        return "[" + ",".join(_value(rng, depth + 1) for _ in range(rng.randrange(4))) + "]"
    members = [f'"k{rng.randrange(5)}":{_value(rng, depth + 1)}' for _ in range(rng.randrange(5))]
    return "{" + ",".join(members) + "}"


def test_random_documents_parse_to_json_s_values() -> None:
    rng = random.Random(20261203)
    for _ in range(3000):
        text = _value(rng, 0).encode()
        assert same(parse_json(text), json.loads(text.decode())), text
