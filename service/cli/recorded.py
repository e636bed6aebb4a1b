"""How a command that records something answers: the record as JSON on stdout and, when an
identical request had recorded it before and nothing was written now, a line on stderr that
says so, naming the record kept (the exit status is 0 all the same: a retry is no failure)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from service.audit.recorded import Recorded


def print_recorded(recorded: Recorded, kept_already: Callable[[dict[str, Any]], str]) -> None:
    """Print `recorded` as JSON; when it was kept already, `kept_already(content)` on stderr."""
    print(json.dumps(recorded.content, indent=2))
    if not recorded.created:
        print(
            f"mlgate: {kept_already(recorded.content)}; nothing new was recorded",
            file=sys.stderr,
        )
