"""A problem found in a policy set before it is used: where it is, and what to do about it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from service.errors import PolicyLoadError


@dataclass(frozen=True, order=True)
class Problem:
    """One finding: `file` relative to the policy root, `line` 1-based (0 when unknown)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file or "(policy set)"
        return f"{where}: {self.message}"


def refuse(problems: Sequence[Problem]) -> None:
    """Raise PolicyLoadError listing every problem, one a line; return when there is none."""
    if problems:
        listed = "\n".join(str(p) for p in sorted(problems))
        count = f"{len(problems)} problem{'' if len(problems) == 1 else 's'}"
        raise PolicyLoadError(f"the policy set is refused ({count}):\n{listed}")
