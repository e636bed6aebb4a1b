"""Why a readiness check fails, written to the service's log once per change of reason.

/readyz tells a caller without a token only which checks fail, not why: a library's message can
name the database server's host or what the policy engine said. The operator reads the reason
here instead. Probes come every few seconds, so a reason is logged when it changes, not on
every probe; a check that passes again is logged once too.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping

log = logging.getLogger("mlgate.readiness")

OK = "ok"
# Figures that move from probe to probe (free space in MiB, a count) do not make a new reason.
_FIGURES = re.compile(r"\d+(?:\.\d+)?")


def same_reason(reason: str) -> str:
    """`reason` with each figure as `#`: two reasons differing only in figures are one."""
    return _FIGURES.sub("#", reason)


class ReadinessLog:
    """The reason last logged for each check, so that the next probe logs only a change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._logged: dict[str, str] = {}  # check -> same_reason(reason), or "ok"

    def note(self, checks: Mapping[str, str]) -> None:
        """Log each check of `checks` (name -> "ok" or why it fails) whose reason changed
        since it was last logged: a warning `readiness_check_failed` with `check` and
        `reason`, or an info `readiness_check_passed` once it passes again. A check that
        passes from the start logs nothing."""
        with self._lock:
            changed = {
                name: reason
                for name, reason in checks.items()
                if same_reason(reason) != self._logged.get(name, OK)
            }
            for name, reason in changed.items():
                self._logged[name] = same_reason(reason)
        for name, reason in changed.items():
            if reason == OK:
                log.info(
                    f"readiness check {name!r} passes again",
                    extra={"event": "readiness_check_passed", "check": name},
                )
            else:
                log.warning(
                    f"readiness check {name!r} fails: {reason}",
                    extra={"event": "readiness_check_failed", "check": name, "reason": reason},
                )
