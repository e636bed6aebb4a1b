"""Where two JSON documents differ (service/monitoring/differences.py): as JSON values, so a
number is one whatever its spelling and true is not 1."""

from __future__ import annotations

from typing import Any

import pytest

from service.monitoring.differences import ABSENT, json_differences


@pytest.mark.parametrize(
    ("first", "second", "found"),
    [
        ({"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 2]}, []),
        ({"n": 1840}, {"n": 1840.0}, []),
        ({"n": 0.004}, {"n": 0.0040}, []),
        ({"f": True}, {"f": 1}, [("f", True, 1)]),
        ({"f": False}, {"f": 0}, [("f", False, 0)]),
        ({"f": None}, {"f": 0}, [("f", None, 0)]),
        ({"s": "1"}, {"s": 1}, [("s", "1", 1)]),
        ({"a": {"b": {"c": 1}}}, {"a": {"b": {"c": 2}}}, [("a.b.c", 1, 2)]),
        ({"a": 1}, {}, [("a", 1, ABSENT)]),
        ({}, {"a": 1}, [("a", ABSENT, 1)]),
        ({"l": [{"x": 1}, {"x": 2}]}, {"l": [{"x": 1}, {"x": 3}]}, [("l[1].x", 2, 3)]),
        ({"l": [1, 2]}, {"l": [1, 2, 3]}, [("l", [1, 2], [1, 2, 3])]),
        ({"o": {"k": 1}}, {"o": [1]}, [("o", {"k": 1}, [1])]),
        ([1], [2], [("[0]", 1, 2)]),
        (1, 2, [("(document)", 1, 2)]),
    ],
    ids=[
        "same",
        "int-and-float",
        "float-spellings",
        "true-is-not-1",
        "false-is-not-0",
        "null-is-not-0",
        "text-is-not-a-number",
        "nested",
        "left-out",
        "added",
        "in-a-list",
        "list-of-another-length",
        "object-and-list",
        "top-level-list",
        "top-level-scalar",
    ],
)
def test_differences_are_named_by_their_path_with_both_values(
    first: Any, second: Any, found: list[tuple[str, Any, Any]]
) -> None:
    assert json_differences(first, second) == found


def test_fields_are_listed_in_the_first_documents_order_then_the_seconds() -> None:
    first = {"b": 1, "a": 1, "c": 1}
    second = {"d": 2, "c": 2, "a": 2, "b": 2}

    assert [path for path, _, _ in json_differences(first, second)] == ["b", "a", "c", "d"]
