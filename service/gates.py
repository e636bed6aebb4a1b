"""The gates mlgate knows and the outcomes a gate can give, ordered from best to worst."""

from __future__ import annotations

from typing import Literal, get_args

Gate = Literal["promotion", "monitoring", "rollback"]
Outcome = Literal["allow", "hold", "deny", "rollback"]

GATES: tuple[str, ...] = get_args(Gate)
OUTCOMES: tuple[str, ...] = get_args(Outcome)

# Exit codes of `mlgate decide`, one per outcome (2 is kept for usage and input errors).
EXIT_CODES: dict[str, int] = {"allow": 0, "deny": 1, "rollback": 3, "hold": 4}
EXIT_USAGE = 2
