"""Why a Rego test failed: the expression of its body that did not hold, and the values of the
variables in it (`mlgate test --var-values`), read from OPA's evaluation trace.

The bindings' trace gives each event's location as "file:row" and the variable bindings live
at that point; the failing expression is the last `Fail` event inside the test rule's rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_LOCATION = re.compile(r"^(.*):(\d+)$")
_WORD = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True)
class FailedExpression:
    file: str
    row: int
    text: str  # the source line of the expression, stripped
    bindings: dict[str, Any]  # variables of the expression -> their values

    def describe(self) -> str:
        """`file:row: expression` and one `name = value` line per variable (JSON values)."""
        lines = [f"{self.file}:{self.row}: {self.text}"]
        lines += [f"  {name} = {json.dumps(value)}" for name, value in self.bindings.items()]
        return "\n".join(lines)


def failed_expression(
    trace: Sequence[Mapping[str, Any]],
    file: str,
    rows: tuple[int, int],
    source: str,
) -> FailedExpression | None:
    """The last expression that failed between `rows` (first, last) of `file`, or None when
    the trace holds none (a test that evaluated to a value other than true)."""
    lines = source.splitlines()
    for event in reversed(trace):
        if event.get("op") != "Fail":
            continue
        match = _LOCATION.match(str(event.get("location", "")))
        if match is None or match.group(1) != file:
            continue
        row = int(match.group(2))
        if not rows[0] <= row <= rows[1] or row > len(lines):
            continue
        text = lines[row - 1].strip()
        local_values: Mapping[str, Any] = event.get("locals") or {}
        words = set(_WORD.findall(text))
        bindings = {k: v for k, v in sorted(local_values.items()) if k in words}
        return FailedExpression(file, row, text, bindings)
    return None
