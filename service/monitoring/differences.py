"""Where two JSON documents differ, field by field, for a message that names each difference.

Values are compared as JSON values (RFC 8259): a number is a number whether it was written
1840 or 1840.0, and true is not 1, though Python's == says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


# The value on the side of a difference where the field is missing.
ABSENT: Final = _Absent()


def json_differences(first: Any, second: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Each field where `first` and `second` differ, in document order (then fields only
    `second` has): (dotted path such as `operational.error_rate` or `drift.features[0].score`,
    its value in `first`, its value in `second`), with ABSENT for a missing field. A list of
    another length differs as a whole. Empty when the two are the same JSON value."""
    if isinstance(first, Mapping) and isinstance(second, Mapping):
        found: list[tuple[str, Any, Any]] = []
        for key in [*first, *(key for key in second if key not in first)]:
            found += json_differences(
                first.get(key, ABSENT), second.get(key, ABSENT), f"{path}.{key}" if path else key
            )
        return found
    if isinstance(first, list) and isinstance(second, list) and len(first) == len(second):
        return [
            difference
            for i, (one, other) in enumerate(zip(first, second, strict=True))
            for difference in json_differences(one, other, f"{path}[{i}]")
        ]
    return [] if _same_scalar(first, second) else [(path or "(document)", first, second)]


def _same_scalar(first: Any, second: Any) -> bool:
    if isinstance(first, bool) or isinstance(second, bool):
        return first is second
    if isinstance(first, int | float) and isinstance(second, int | float):
        return first == second
    return type(first) is type(second) and first == second
