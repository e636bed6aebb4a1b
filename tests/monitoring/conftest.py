"""Snapshots go into real ledgers: SQLite, and PostgreSQL (tests/audit/conftest.py)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.audit.conftest import key_files, ledger, stores

__all__ = ["key_files", "ledger", "snapshot", "stores"]

# Intervals of the tests end before this, so none is in the future.
START = datetime(2026, 11, 18, 14, 0, tzinfo=UTC)

BASE: dict[str, Any] = {
    "deployment": {"model": "fraud-detector", "version": "7", "stage": "canary"},
    "sample_count": 1840,
    "operational": {"latency_p99_ms": 182.0, "error_rate": 0.004, "throughput_rps": 6.1},
    "baseline": {"version": "6", "operational": {"latency_p99_ms": 176.0, "error_rate": 0.003}},
}


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def snapshot(index: int = 0, minutes: int = 5, **changes: Any) -> dict[str, Any]:
    """The `index`th five-minute interval's snapshot of fraud-detector v7 at canary; a change
    of None removes a key."""
    document = copy.deepcopy(BASE)
    start = START + timedelta(minutes=minutes * index)
    document["interval"] = {"start": stamp(start), "end": stamp(start + timedelta(minutes=minutes))}
    for key, value in changes.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    return document
