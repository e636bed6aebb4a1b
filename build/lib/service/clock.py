"""This service's clock, in the one timestamp form the policies parse (RFC 3339, UTC, Z)."""

from __future__ import annotations

from datetime import UTC, datetime


def now_rfc3339() -> str:
    """Now in UTC with milliseconds and a Z: `2026-11-21T12:00:00.000Z`."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
