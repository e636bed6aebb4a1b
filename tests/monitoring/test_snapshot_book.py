"""Snapshots as signed ledger records, in SQLite and PostgreSQL: what is refused stores nothing,
intervals of one deployment never overlap nor go backwards, even with two writers at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from service.audit.keys import KeyFiles, load_keyring
from service.audit.ledger import Ledger
from service.audit.recorded import Recorded
from service.errors import InvalidField
from service.monitoring.book import KIND, SnapshotBook
from service.monitoring.snapshot import parse_snapshot
from service.schemas import default_schemas
from tests.monitoring.conftest import snapshot

SCHEMAS = default_schemas()


def add(ledger: Ledger, document: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return (
        SnapshotBook(ledger).add(parse_snapshot(document, SCHEMAS), "prometheus", **kwargs).content
    )


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
        (snapshot(0, minutes=7), "interval.start", "may not overlap"),  # overlaps the end
        (snapshot(-1), "interval.start", "go backwards"),  # before the latest
    ],
    ids=["overlapping", "backwards"],
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


def test_the_same_snapshot_again_records_nothing_and_answers_the_one_kept(
    ledger: Ledger,
) -> None:
    """A monitor retrying after a lost answer was refused (422: overlap) for a snapshot that
    was recorded."""
    book = SnapshotBook(ledger)
    first = book.add(parse_snapshot(snapshot(0), SCHEMAS), "prometheus")
    seq = ledger.last_seq()

    again = book.add(parse_snapshot(snapshot(0), SCHEMAS), "prometheus")

    assert first.created is True
    assert again == Recorded(first.content, created=False)
    assert ledger.last_seq() == seq


def test_a_retried_snapshot_is_found_behind_later_ones(ledger: Ledger) -> None:
    book = SnapshotBook(ledger)
    first = book.add(parse_snapshot(snapshot(0), SCHEMAS), "prometheus")
    add(ledger, snapshot(1))
    add(ledger, snapshot(2))

    again = book.add(parse_snapshot(snapshot(0), SCHEMAS), "prometheus")

    assert again == Recorded(first.content, created=False)
    assert stored_count(ledger) == 3


def test_figures_written_as_another_json_number_are_the_same_snapshot(ledger: Ledger) -> None:
    """1840 and 1840.0 are one JSON number (RFC 8259): a client that writes either is the same."""
    first = add(ledger, snapshot(0))

    again = SnapshotBook(ledger).add(
        parse_snapshot(snapshot(0, sample_count=1840.0), SCHEMAS), "prometheus"
    )

    assert again == Recorded(first, created=False)


@pytest.mark.parametrize(
    ("changes", "reporter", "named"),
    [
        (
            {"sample_count": 1841},
            "prometheus",
            ["sample_count: recorded 1840, sent 1841"],
        ),
        (
            {
                "operational": {
                    "latency_p99_ms": 182.0,
                    "error_rate": 0.03,
                    "throughput_rps": 6.1,
                    "availability": 0.99,
                }
            },
            "prometheus",
            [
                "operational.error_rate: recorded 0.004, sent 0.03",
                "operational.availability: recorded (absent), sent 0.99",
            ],
        ),
        ({"baseline": None}, "prometheus", ['baseline: recorded {"operational": ']),
        ({}, "datadog", ['reported_by: recorded "prometheus", sent "datadog"']),
    ],
    ids=["a-figure", "two-figures", "a-part-left-out", "another-reporter"],
)
def test_the_same_interval_with_other_content_is_refused_naming_what_differs(
    ledger: Ledger, changes: dict[str, Any], reporter: str, named: list[str]
) -> None:
    first = add(ledger, snapshot(0))

    with pytest.raises(InvalidField) as refused:
        SnapshotBook(ledger).add(parse_snapshot(snapshot(0, **changes), SCHEMAS), reporter)

    assert refused.value.field == named[0].partition(":")[0]
    message = refused.value.message
    assert f"is recorded already (snapshot {first['id']}, seq {first['record']})" in message
    for difference in named:
        assert difference in message
    assert "recorded once and never replaced" in message
    assert stored_count(ledger) == 1


def test_two_identical_snapshots_at_once_record_one(
    ledger: Ledger, stores: Any, key_files: Any
) -> None:
    """A report and its retry arriving together: the deployment's lock lets one in, and the
    other finds it."""
    answers: list[Recorded] = []
    barrier = threading.Barrier(2)

    def report() -> None:
        with stores.ledger(key_files) as own:
            barrier.wait()
            answers.append(SnapshotBook(own).add(parse_snapshot(snapshot(0), SCHEMAS), "p"))

    threads = [threading.Thread(target=report) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(answer.created for answer in answers) == [False, True]
    assert answers[0].content == answers[1].content
    assert stored_count(ledger) == 1


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
