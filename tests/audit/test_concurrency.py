"""Several processes appending to one ledger at once still make one gap-free chain."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from service.audit.keys import KeyFiles, Keyring
from tests.audit.factory import StoreFactory
from tests.audit.workers import append_together, open_together

WRITERS = 4
EACH = 250


def test_four_processes_append_one_valid_gap_free_chain(
    stores: StoreFactory, key_files: KeyFiles, keyring: Keyring
) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WRITERS)
    results = context.Queue()
    key_dir = str(key_files.private_key.parent)
    processes = [
        context.Process(
            target=append_together,
            args=(stores.kind, stores.location, key_dir, EACH, w * EACH, barrier, results),
        )
        for w in range(WRITERS)
    ]
    for process in processes:
        process.start()
    returned = [decision for _ in processes for decision in results.get(timeout=120)]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0

    with stores.ledger(key_files) as ledger:
        report = ledger.verify(keyring)
        assert report.ok, report.problems[:5]
        assert report.summary.startswith(
            "1000/1000 records valid (1000 decisions); chain intact from seq 1 to 1000"
        )
        assert len(report.checkpoints_matched) == 10  # one every 100 records, from any writer
        assert sorted(r.decision_id for r in ledger.find(limit=10_000)) == sorted(returned)
        assert len(set(returned)) == WRITERS * EACH


def test_the_writers_interleaved(stores: StoreFactory, key_files: KeyFiles, tmp_path: Path) -> None:
    """Guards the test above: the appends really ran at the same time, not one after another."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    key_dir = str(key_files.private_key.parent)
    processes = [
        context.Process(
            target=append_together,
            args=(stores.kind, stores.location, key_dir, 200, w * 200, barrier, results),
        )
        for w in range(2)
    ]
    for process in processes:
        process.start()
    first, second = results.get(timeout=120), results.get(timeout=120)
    for process in processes:
        process.join(timeout=60)
    with stores.ledger(key_files) as ledger:
        owner = {r.decision_id: r.seq for r in ledger.find(limit=1000)}
    seqs_first = sorted(owner[d] for d in first)
    seqs_second = sorted(owner[d] for d in second)
    assert seqs_first[0] < seqs_second[-1] and seqs_second[0] < seqs_first[-1]


def test_processes_opening_a_fresh_store_at_once_all_succeed(tmp_path: Path) -> None:
    """The first open switches the file to WAL, which does not wait on SQLite's busy handler.
    The service's decision workers open the ledger to read sign-offs together in just this
    way."""
    kind = "ledger"
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WRITERS)
    results = context.Queue()
    paths = [str(tmp_path / f"{kind}-{n}.sqlite3") for n in range(30)]
    processes = [
        context.Process(target=open_together, args=(paths, barrier, results, kind))
        for _ in range(WRITERS)
    ]
    for process in processes:
        process.start()
    failures = [message for _ in processes for message in results.get(timeout=120)]
    for process in processes:
        process.join(timeout=60)
    assert failures == []
