"""Metric snapshots as signed records in the audit ledger, beside the decisions they feed.

The ledger is the snapshot store, as it is the sign-off store (service/signoffs/book.py): a
snapshot exists exactly when its signed `metric_snapshot` record does, in SQLite or PostgreSQL,
so a reviewer sees what each monitoring decision judged in the same verified chain, and no one
can change a figure afterwards without `mlgate audit verify` saying so. A record's own time
(`recorded_at`, the service's clock) is when the snapshot was received: a monitor cannot set it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from service.audit.columns import CHAIN_FIELDS
from service.audit.ledger import Ledger
from service.audit.recorded import Recorded
from service.audit.records import LedgerRecord
from service.errors import InvalidField
from service.monitoring.differences import ABSENT, json_differences
from service.monitoring.snapshot import interval_bounds
from service.record_ids import new_record_id

KIND = "metric_snapshot"
# How many snapshots of one deployment are read back for a decision; far above real use
# (a 5-minute interval for 34 days).
READ_LIMIT = 10_000


class SnapshotBook:
    """Writes checked snapshots (service/monitoring/snapshot.py) into `ledger` and reads a
    deployment's back."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def add(
        self, snapshot: Mapping[str, Any], reporter: str, *, now: datetime | None = None
    ) -> Recorded:
        """Record one snapshot reported by `reporter`; the stored snapshot, with its record's
        `id`, `record` (seq) and `received_at`.

        A deployment's interval is recorded once. The same snapshot again (same deployment and
        interval, the same figures, the same reporter: a retry after a lost answer) records
        nothing, and the answer is the snapshot already kept (`created` False).

        Under the deployment's lock, so two monitors cannot both append: raises InvalidField
        for an interval that ends in the future (by this service's clock, `now`), for one
        whose deployment and interval are recorded already with other content (naming each
        field that differs), and for one that starts before the deployment's latest interval
        ends (an overlap, or time going backwards); nothing is stored then. AuditWriteFailed
        if the record cannot be stored.
        """
        deployment = snapshot["deployment"]
        model, version, stage = deployment["model"], deployment["version"], deployment["stage"]
        start, end = interval_bounds(snapshot)
        now = now or datetime.now(UTC)
        if end > now:
            raise InvalidField(
                "interval.end",
                f"{snapshot['interval']['end']} is in the future: this service's clock reads "
                f"{now.isoformat(timespec='seconds')}; report an interval once it has ended",
            )
        with self.ledger.exclusive(f"snapshots:{model}:{version}:{stage}"):
            latest = self._newest(model, version, stage)
            if latest is not None and start < interval_bounds(latest)[1]:
                kept = self._same_interval(model, version, stage, start, end)
                if kept is None:
                    raise InvalidField(
                        "interval.start",
                        f"{snapshot['interval']['start']} is before the end of this "
                        f"deployment's latest interval ({latest['interval']['start']} to "
                        f"{latest['interval']['end']}, snapshot {latest['id']}): intervals "
                        "may not overlap nor go backwards",
                    )
                return Recorded(_unless_different(kept, snapshot, reporter), created=False)
            content: dict[str, Any] = {
                "id": new_record_id(),
                "model": model,
                "version": version,
                "stage": stage,
                **{k: v for k, v in snapshot.items() if k != "deployment"},
                "reported_by": reporter,
            }
            self.ledger.record_event(
                KIND,
                content["id"],
                content,
                model=(model, version, None),
                outcome="reported",
                by=reporter,
            )
            return Recorded(stored_snapshot(self.ledger.get(content["id"])), created=True)

    def _same_interval(
        self, model: str, version: str, stage: str, start: datetime, end: datetime
    ) -> dict[str, Any] | None:
        """The deployment's snapshot of exactly [start, end), or None. Its intervals follow one
        another without overlap, so the search stops at the first that ends by `start`."""
        for record in self.ledger.iter_find(kind=KIND, model=model, version=version, stage=stage):
            kept = stored_snapshot(record)
            kept_start, kept_end = interval_bounds(kept)
            if (kept_start, kept_end) == (start, end):
                return kept
            if kept_end <= start:
                return None
        return None

    def _newest(self, model: str, version: str, stage: str) -> dict[str, Any] | None:
        found = self.ledger.find(kind=KIND, model=model, version=version, stage=stage, limit=1)
        return stored_snapshot(found[0]) if found else None

    def deployment(
        self, model: str, version: str, stage: str, *, limit: int = READ_LIMIT
    ) -> list[dict[str, Any]]:
        """The deployment's snapshots as stored, oldest first (the newest `limit` of them)."""
        records = self.ledger.find(
            kind=KIND, model=model, version=version, stage=stage, limit=limit
        )
        return [stored_snapshot(record) for record in reversed(records)]


# How many differing fields a refusal lists with their values.
LISTED_DIFFERENCES = 5
# What a stored snapshot holds besides what was reported: its record's id, seq and time.
_RECORD_FIELDS = ("id", "record", "received_at")


def _unless_different(
    kept: dict[str, Any], snapshot: Mapping[str, Any], reporter: str
) -> dict[str, Any]:
    """`kept` when `snapshot`, reported by `reporter`, is what it holds; else InvalidField
    naming the first field that differs, and every one that does with both values."""
    sent = {**snapshot, "reported_by": reporter}
    held = {k: v for k, v in kept.items() if k not in _RECORD_FIELDS}
    differences = json_differences(held, sent)
    if not differences:
        return kept
    listed = "; ".join(
        f"{path}: recorded {_shown(was)}, sent {_shown(now)}"
        for path, was, now in differences[:LISTED_DIFFERENCES]
    )
    if len(differences) > LISTED_DIFFERENCES:
        listed += f"; and {len(differences) - LISTED_DIFFERENCES} more"
    raise InvalidField(
        differences[0][0],
        f"this deployment's interval {snapshot['interval']['start']} to "
        f"{snapshot['interval']['end']} is recorded already (snapshot {kept['id']}, seq "
        f"{kept['record']}), with other content ({listed}); an interval's snapshot is "
        "recorded once and never replaced",
    )


def _shown(value: Any) -> str:
    """A value in a message: JSON, cut short past 80 characters; `(absent)` for a missing one."""
    if value is ABSENT:
        return "(absent)"
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def stored_snapshot(record: LedgerRecord) -> dict[str, Any]:
    """A snapshot record as the monitoring gate's input holds it
    (schemas/monitoring_input.schema.json#/$defs/snapshot)."""
    content = {k: v for k, v in record.predicate().items() if k not in CHAIN_FIELDS}
    deployment = {
        "model": content.pop("model"),
        "version": content.pop("version"),
        "stage": content.pop("stage"),
    }
    return {
        "id": content.pop("id"),
        "record": record.seq,
        "received_at": record.recorded_at,
        "deployment": deployment,
        **content,
    }
