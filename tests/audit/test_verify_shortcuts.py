"""The two shortcuts of `mlgate audit verify`: workers that examine records in other processes
report exactly what one process reports, and a walk from a kept checkpoint checks the records
after it (catching an edit there) and says which it did not check."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.audit.keys import KeyFiles, Keyring
from service.audit.ledger import Ledger
from service.audit.storecheck import verify_store
from service.errors import UsageError
from tests.audit.factory import StoreFactory, record_many
from tests.audit.test_cli import Mlgate, mlgate
from tests.audit.test_tampering import flip_char, kinds_by_seq

__all__ = ["mlgate"]


@pytest.fixture
def tampered(stores: StoreFactory, key_files: KeyFiles) -> Ledger:
    """30 records (a checkpoint every 7) edited in the database as an attacker would: a byte of
    seq 5's signature, seq 9 deleted, seqs 12 and 13 swapped, seq 16's outcome column, seq 18's
    input document, and a record signed by no key of the keyring's at the end."""
    ledger = stores.ledger(key_files, checkpoint_every=7)
    record_many(ledger, 30)
    stores.execute(
        "UPDATE records SET envelope = ? WHERE seq = 5",
        (flip_char(ledger.get_seq(5).envelope, "sig", 3),),
    )
    stores.execute("DELETE FROM records WHERE seq = 9")
    twelve, thirteen = ledger.get_seq(12).envelope, ledger.get_seq(13).envelope
    stores.execute("UPDATE records SET envelope = ? WHERE seq = 12", (thirteen,))
    stores.execute("UPDATE records SET envelope = ? WHERE seq = 13", (twelve,))
    stores.execute("UPDATE records SET outcome = 'allow' WHERE seq = 16")
    stores.execute("UPDATE record_inputs SET document = ? WHERE seq = 18", (b"{}",))
    return ledger


def test_workers_report_what_one_process_reports_of_every_tampering(
    tampered: Ledger, keyring: Keyring
) -> None:
    stored = [("stored", raw) for raw in tampered.stored_checkpoints()]
    serial = verify_store(tampered.store, keyring, stored)
    parallel = verify_store(tampered.store, keyring, stored, workers=2, chunk=4)

    assert parallel.to_json() == serial.to_json()
    found = kinds_by_seq(serial)
    assert {"bad signature"} <= found[5]
    assert found[9] == {"sequence gap"}
    assert "out of order" in found[12]
    assert found[16] == {"column mismatch"}
    assert found[18] == {"input altered"}
    assert not serial.ok


def test_workers_report_a_block_of_records_moved_as_one_process_does(
    stores: StoreFactory, key_files: KeyFiles, keyring: Keyring
) -> None:
    """Workers send records with nothing to report as runs; a run moved in the database (seqs
    8..11 stored under seqs 48..51, after the last) is placed record by record, as one process
    places it."""
    ledger = stores.ledger(key_files, checkpoint_every=5)
    record_many(ledger, 20)
    stores.execute("UPDATE records SET seq = seq + 40 WHERE seq BETWEEN 8 AND 11")
    stored = [("stored", raw) for raw in ledger.stored_checkpoints()]
    serial = verify_store(ledger.store, keyring, stored)
    for chunk in (3, 4, 50):
        parallel = verify_store(ledger.store, keyring, stored, workers=2, chunk=chunk)
        assert parallel.to_json() == serial.to_json()
    found = kinds_by_seq(serial)
    assert all("out of order" in found[seq] for seq in range(8, 12)), found
    assert not serial.ok


@pytest.fixture
def kept(tmp_path: Path, stores: StoreFactory, key_files: KeyFiles) -> tuple[Ledger, Path]:
    """10 records, a checkpoint of them kept in a file, then 6 more records."""
    ledger = stores.ledger(key_files)
    record_many(ledger, 10)
    path = tmp_path / "checkpoint.json"
    path.write_bytes(ledger.checkpoint())
    record_many(ledger, 6, start=100)
    return ledger, path


def test_since_a_checkpoint_only_the_records_after_it_are_checked_and_said_so(
    kept: tuple[Ledger, Path], keyring: Keyring
) -> None:
    ledger, path = kept
    report = ledger.verify(keyring, checkpoints=[path.read_bytes()], since_kept=True)

    assert report.ok, report.problems
    assert (report.records, report.unchecked, report.last_seq) == (6, 10, 16)
    assert "chain intact from seq 11 to 16" in report.summary
    assert "NOT checked here: records 1 to 10" in report.summary


def test_since_a_checkpoint_the_kept_checkpoint_it_starts_from_is_reported_matched(
    kept: tuple[Ledger, Path], keyring: Keyring
) -> None:
    ledger, path = kept
    report = ledger.verify(keyring, checkpoints=[path.read_bytes()], since_kept=True)

    assert report.ok, report.problems
    assert len(report.checkpoints_matched) == 1, report.checkpoints_matched
    assert "checkpoint of 10 records" in report.checkpoints_matched[0]
    assert "; 1 checkpoint matched;" in report.summary, report.summary


def test_an_empty_ledger_names_no_backwards_range(ledger: Ledger, keyring: Keyring) -> None:
    report = ledger.verify(keyring)

    assert report.ok, report.problems
    assert report.summary.startswith("0/0 records valid; no records;"), report.summary


def test_since_a_checkpoint_an_edit_after_it_is_caught(
    kept: tuple[Ledger, Path], stores: StoreFactory, keyring: Keyring
) -> None:
    ledger, path = kept
    stores.execute(
        "UPDATE records SET envelope = ? WHERE seq = 13",
        (flip_char(ledger.get_seq(13).envelope, "sig", 3),),
    )
    stores.execute("DELETE FROM records WHERE seq = 11")  # the first after the checkpoint
    report = ledger.verify(keyring, checkpoints=[path.read_bytes()], since_kept=True)

    assert kinds_by_seq(report) == {
        11: {"sequence gap"},
        13: {"bad signature"},
        14: {"bad prev hash"},
    }


def test_since_a_checkpoint_an_edit_before_it_is_not_checked_but_a_full_verify_finds_it(
    kept: tuple[Ledger, Path], stores: StoreFactory, keyring: Keyring
) -> None:
    ledger, path = kept
    stores.execute(
        "UPDATE records SET envelope = ? WHERE seq = 4",
        (flip_char(ledger.get_seq(4).envelope, "sig", 3),),
    )
    since = ledger.verify(keyring, checkpoints=[path.read_bytes()], since_kept=True)
    full = ledger.verify(keyring, checkpoints=[path.read_bytes()])

    assert since.ok and "NOT checked here: records 1 to 10" in since.summary
    assert kinds_by_seq(full) == {
        4: {"bad signature"},
        5: {"bad prev hash"},
        10: {"checkpoint mismatch"},
    }


def test_since_a_checkpoint_whose_stored_frontier_was_edited_nothing_is_trusted(
    kept: tuple[Ledger, Path], stores: StoreFactory, keyring: Keyring
) -> None:
    ledger, path = kept
    stores.execute("UPDATE checkpoints SET frontier = ? WHERE size = 10", (b"\x00" * 64,))
    report = ledger.verify(keyring, checkpoints=[path.read_bytes()], since_kept=True)

    assert kinds_by_seq(report) == {10: {"checkpoint mismatch"}}
    assert "nothing after it was checked" in report.problems[0].message


def test_since_a_checkpoint_needs_one_kept(ledger: Ledger, keyring: Keyring) -> None:
    record_many(ledger, 2)
    with pytest.raises(UsageError, match="--checkpoint FILE"):
        ledger.verify(keyring, since_kept=True)


def test_the_cli_checks_since_a_kept_checkpoint(mlgate: Mlgate, tmp_path: Path) -> None:
    from service.audit.ledger import open_ledger
    from service.settings import get_settings

    with open_ledger(get_settings()) as ledger:
        record_many(ledger, 4)
    kept_file = tmp_path / "kept.json"
    assert mlgate("audit", "checkpoint", "--output", str(kept_file)).code == 0
    with open_ledger(get_settings()) as ledger:
        record_many(ledger, 3, start=50)

    run = mlgate("audit", "verify", "--checkpoint", str(kept_file), "--since-checkpoint")

    assert run.code == 0, run.out + run.err
    assert run.out.startswith("3/3 records valid (3 decisions); chain intact from seq 5 to 7")
    assert "NOT checked here: records 1 to 4" in run.out
    assert mlgate("audit", "verify", "--since-checkpoint").code == 2


def test_the_cli_verifies_on_several_workers_as_on_one(mlgate: Mlgate) -> None:
    from service.audit.ledger import open_ledger
    from service.settings import get_settings

    with open_ledger(get_settings()) as ledger:
        record_many(ledger, 5)

    one, two = (
        mlgate("audit", "verify", "--workers", "1"),
        mlgate("audit", "verify", "--workers", "2"),
    )

    assert (two.code, two.out) == (one.code, one.out) == (0, one.out)
    assert one.out.startswith("5/5 records valid")
    with pytest.raises(SystemExit) as refused:  # argparse refuses it, saying what it expects
        mlgate("audit", "verify", "--workers", "0")
    assert refused.value.code == 2
