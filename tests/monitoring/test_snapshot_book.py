"""Snapshots as signed ledger records, in SQLite and PostgreSQL: what is refused stores nothing,
intervals of one deployment never overlap nor go backwards, even with two writers at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from service.audit.keys import KeyFiles, load_keyring
from service.audit.ledger import Ledger
from service.errors import InvalidField
from service.monitoring.book import KIND, SnapshotBook
from service.monitoring.snapshot import parse_snapshot
from service.schemas import default_schemas
from tests.monitoring.conftest import snapshot

SCHEMAS = default_schemas()


def add(ledger: Ledger, document: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return SnapshotBook(ledger).add(parse_snapshot(document, SCHEMAS), "prometheus", **kwargs)


def stored_count(ledger: Ledger) -> int:
    return len(ledger.find(kind=KIND, limit=10_000))


def test_a_snapshot_is_a_signed_record_read_back_as_sent(
    ledger: Ledger, key_files: KeyFiles
) -> None:
    sent = snapshot(0)

    stored = add(ledger, sent)

    assert stored["record"] == ledger.last_seq()
    assert stored["deployment"] == sent["deployment"]
    assert stored["interval"] == sent["interval"]
    assert stored["operational"] == sent["operational"]
    assert stored["reported_by"] == "prometheus"
    assert stored["received_at"] == ledger.get(stored["id"]).recorded_at
    assert SnapshotBook(ledger).deployment("fraud-detector", "7", "canary") == [stored]
    assert ledger.get(stored["id"]).statement()["predicateType"] == (
        "https://mlgate.dev/metric-snapshot/v1"
    )
    assert ledger.verify(load_keyring(key_files.keyring)).ok


def test_a_deployment_reads_only_its_own_snapshots_oldest_first(ledger: Ledger) -> None:
    first, second = add(ledger, snapshot(0)), add(ledger, snapshot(1))
    add(
        ledger,
        snapshot(0, deployment={"model": "fraud-detector", "version": "7", "stage": "production"}),
    )
    add(
        ledger,
        snapshot(0, deployment={"model": "fraud-detector", "version": "8", "stage": "canary"}),
    )

    assert SnapshotBook(ledger).deployment("fraud-detector", "7", "canary") == [first, second]


@pytest.mark.parametrize(
    ("later", "field", "words"),
    [
        (snapshot(0), "interval.start", "may not overlap nor go backwards"),  # the same again
        (snapshot(0, minutes=7), "interval.start", "may not overlap"),  # overlaps the end
        (snapshot(-1), "interval.start", "go backwards"),  # before the latest
    ],
    ids=["repeated", "overlapping", "backwards"],
)
def test_an_overlapping_or_backwards_interval_is_refused_and_stores_nothing(
    ledger: Ledger, later: dict[str, Any], field: str, words: str
) -> None:
    add(ledger, snapshot(0))
    before = stored_count(ledger)

    with pytest.raises(InvalidField, match=words) as refused:
        add(ledger, later)

    assert refused.value.field == field
    assert stored_count(ledger) == before


def test_an_interval_right_after_the_latest_is_accepted(ledger: Ledger) -> None:
    add(ledger, snapshot(0))

    add(ledger, snapshot(1))  # starts exactly where the latest ends

    assert stored_count(ledger) == 2


def test_an_interval_ending_in_the_future_is_refused(ledger: Ledger) -> None:
    document = snapshot(0)
    now = datetime(2026, 11, 18, 14, 4, tzinfo=UTC)  # before the interval's end, 14:05

    with pytest.raises(InvalidField, match="is in the future") as refused:
        add(ledger, document, now=now)

    assert refused.value.field == "interval.end"
    assert stored_count(ledger) == 0


def test_two_writers_at_once_store_one_of_two_overlapping_intervals(
    ledger: Ledger, stores: Any, key_files: Any
) -> None:
    """Two monitors (two ledger connections) report overlapping intervals at the same moment:
    the deployment's lock lets one in, and the other sees it and is refused."""
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def report(document: dict[str, Any]) -> None:
        with stores.ledger(key_files) as own:
            barrier.wait()
            try:
                add(own, document)
                outcomes.append("stored")
            except InvalidField:
                outcomes.append("refused")

    threads = [
        threading.Thread(target=report, args=(snapshot(0),)),
        threading.Thread(target=report, args=(snapshot(0, minutes=7),)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["refused", "stored"], outcomes
    assert stored_count(ledger) == 1
