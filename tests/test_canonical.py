"""Canonical JSON: the bytes every input and evidence digest is taken over."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from service.canonical import MAX_NESTING, canonical_json, canonical_members, unencodable
from tests.conftest import fixture_input

ODD_KEYS = {"b": [1.5, 'x\u00e9\n"\\', None, True], "ünï": {"z": 1e-5, "y": 1e16}, 'k\u2028"': 1}


@pytest.mark.parametrize("document", [ODD_KEYS, fixture_input("approved")])
def test_canonical_json_is_sorted_compact_utf8_json(document: dict[str, Any]) -> None:
    expected = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_json(document) == expected.encode("utf-8")
    assert json.loads(canonical_json(document)) == document


@pytest.mark.parametrize("document", [ODD_KEYS, fixture_input("approved")])
def test_a_document_assembled_from_its_members_is_its_canonical_json(
    document: dict[str, Any],
) -> None:
    whole, members = canonical_members(document)
    assert whole == canonical_json(document)
    assert members == {key: canonical_json(value) for key, value in document.items()}


def nested(levels: int) -> Any:
    """`levels` arrays inside one another around a string."""
    value: Any = "x"
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("document", "found"),
    [
        ({"a": [1, {"b": float("nan")}], "c": float("inf")}, ("a[1].b", "nan is not")),
        ({"a": "ok", "b": ["x\ud800"]}, ("b[0]", "unpaired UTF-16 surrogate")),
        ({"a": {"k\udc00": 1}}, ("a", "a key holds an unpaired")),
        ({"a": ["ok", "x\x00y"]}, ("a[1]", "a string holds a NUL character")),
        ({"a\x00": 1}, ("(document)", "a key holds a NUL character")),
        ({"deep": nested(MAX_NESTING)}, ("deep" + "[0]" * (MAX_NESTING - 1), "nest deeper")),
        (float("-inf"), ("(document)", "-inf is not")),
        ({"a": {1: "x"}}, ("a", "the key 1 is not a string")),  # YAML reads such keys
        ({"a": [datetime.date(2026, 1, 1)]}, ("a[0]", "2026-01-01 is a date, not a JSON")),
    ],
)
def test_unencodable_names_the_first_value_canonical_json_cannot_carry(
    document: Any, found: tuple[str, str]
) -> None:
    problem = unencodable(document)

    assert problem is not None
    assert problem[0] == found[0]
    assert found[1] in problem[1]


def test_nesting_up_to_the_limit_is_encodable() -> None:
    document = {"deep": nested(MAX_NESTING - 1)}  # with the object around it: MAX_NESTING levels

    assert unencodable(document) is None
    assert unencodable(fixture_input("approved")) is None
    assert json.loads(canonical_json(document)) == document
