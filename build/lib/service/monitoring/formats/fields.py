"""Typed reads of a report's fields: a value that is not what its format promises is an
InvalidField naming the field's full path, what was expected and what was found."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from service.errors import InvalidField


class ReportField:
    """One value of a report and where it is: `reports.evidently.metrics[2].result`."""

    def __init__(self, value: Any, path: str) -> None:
        self.value = value
        self.path = path

    def __repr__(self) -> str:
        return f"ReportField({self.path or '(document)'}={describe(self.value)})"

    def at(self, key: str | int) -> str:
        """The path of a member of this value (`key` a name) or of an element (an index)."""
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{key}" if self.path else key

    def problem(self, expected: str) -> InvalidField:
        """An InvalidField at this value saying what was expected and quoting what was found."""
        return InvalidField(
            self.path or "(document)", f"expected {expected}, found {describe(self.value)}"
        )

    def object(self) -> Mapping[str, Any]:
        if not isinstance(self.value, Mapping):
            raise self.problem("an object")
        return self.value

    def has(self, key: str) -> bool:
        return key in self.object()

    def get(self, key: str) -> ReportField:
        """A member the format requires (present, of any value; its reader checks the type)."""
        members = self.object()
        if key not in members:
            raise InvalidField(
                self.at(key), "expected a value, found nothing (the field is missing)"
            )
        return ReportField(members[key], self.at(key))

    def get_optional(self, key: str) -> ReportField | None:
        """A member the format may leave out; a member present as null is None too."""
        members = self.object()
        if members.get(key) is None:
            return None
        return ReportField(members[key], self.at(key))

    def members(self) -> Iterator[tuple[str, ReportField]]:
        for key, value in self.object().items():
            yield key, ReportField(value, self.at(key))

    def elements(self) -> Iterator[ReportField]:
        if not isinstance(self.value, list):
            raise self.problem("a list")
        for index, value in enumerate(self.value):
            yield ReportField(value, self.at(index))

    def text(self) -> str:
        if not isinstance(self.value, str) or not self.value:
            raise self.problem("a non-empty string")
        return self.value

    def flag(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.problem("true or false")
        return self.value

    def number(self) -> float:
        """A finite number (JSON has no NaN; Python's json module reads one all the same)."""
        value = self.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.problem("a number")
        if not math.isfinite(value):
            raise self.problem("a finite number")
        return value

    def count(self) -> int:
        value = self.value
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.problem("a count (an integer, 0 or more)")
        return value


def describe(value: Any) -> str:
    """A value as an error message quotes it: `null`, `"psi"`, `0.3`, `an object with keys ...`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f'"{shown}"' if value else "an empty string"
    if isinstance(value, Mapping):
        keys = sorted(str(key) for key in value)
        if not keys:
            return "an empty object"
        shown = ", ".join(keys[:8]) + (", ..." if len(keys) > 8 else "")
        return f"an object with keys {shown}"
    if isinstance(value, list):
        return (
            "an empty list"
            if not value
            else f"a list of {len(value)} item" + "s" * (len(value) > 1)
        )
    return f"a {type(value).__name__}"
