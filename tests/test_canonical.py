"""Canonical JSON: the bytes every input and evidence digest is taken over."""

from __future__ import annotations

import json
from typing import Any

import pytest

from service.canonical import canonical_json, canonical_members
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
