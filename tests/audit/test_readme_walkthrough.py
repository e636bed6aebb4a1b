"""What a newcomer meets following the README's audit examples: `mlgate audit export` read
through `head`, `audit verify --since-checkpoint`'s summary, and verifying an export with no
keyring at hand."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.audit.keys import Keyring
from service.audit.ledger import Ledger, open_ledger
from service.settings import PROJECT_ROOT, get_settings
from tests.audit.factory import record_many
from tests.audit.test_verify_shortcuts import kept
from tests.inprocess_cli import Mlgate, mlgate

__all__ = ["kept", "mlgate"]


def test_export_read_by_head_ends_without_a_traceback(mlgate: Mlgate) -> None:
    """`mlgate audit export --format jsonl | head -1` is how a reviewer glances at the first
    record; the reader closing the pipe early must not print a Python traceback (nor make the
    command fail with exit 1 as if the ledger were at fault)."""
    with open_ledger(get_settings()) as ledger:
        record_many(ledger, 120)  # well beyond a pipe's 64 KiB buffer
    env = {**os.environ, "MLGATE_HOME": str(get_settings().home), "PYTHONPATH": str(PROJECT_ROOT)}
    export = subprocess.Popen(
        [sys.executable, "-m", "service.cli.main", "audit", "export", "--format", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=PROJECT_ROOT,
    )
    assert export.stdout is not None and export.stderr is not None
    first = export.stdout.readline()
    export.stdout.close()  # what `head -1` does after its line
    err = export.stderr.read().decode()
    code = export.wait(timeout=60)

    assert first.startswith(b"{")
    assert "Traceback" not in err, err
    assert code != 1, err


def test_since_a_checkpoint_the_summary_does_not_say_there_was_no_checkpoint(
    kept: tuple[Ledger, Path], keyring: Keyring
) -> None:
    """The walk starts from the kept checkpoint, matched against the frontier the ledger stored
    with it; the summary then says 'no checkpoint to compare, so a removed tail would go
    unnoticed', contradicting the checkpoint it names a few words later."""
    ledger, path = kept
    report = ledger.verify(keyring, checkpoints=[path.read_bytes()], since_kept=True)

    assert report.ok, report.problems
    assert "no checkpoint to compare" not in report.summary, report.summary


def test_since_a_checkpoint_at_the_head_the_summary_names_no_empty_range(
    tmp_path: Path, ledger: Ledger, keyring: Keyring
) -> None:
    """A checkpoint of the whole ledger, nothing recorded since: the summary reads
    '0/0 records valid; chain intact from seq 11 to 10', a range that ends before it starts."""
    record_many(ledger, 10)
    path = tmp_path / "checkpoint.json"
    path.write_bytes(ledger.checkpoint())
    report = ledger.verify(keyring, checkpoints=[path.read_bytes()], since_kept=True)

    assert report.ok, report.problems
    assert "from seq 11 to 10" not in report.summary, report.summary


def test_verifying_an_export_without_a_keyring_points_at_keyring_not_at_new_keys(
    mlgate: Mlgate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reviewer on their own machine runs `mlgate audit verify --file export.jsonl`. With no
    keyring there the error says 'create one with `mlgate keys init`', a new key that signed
    none of the records; what they need is the ledger's keyring, `--keyring FILE` (from
    `GET /v1/audit/keys`)."""
    with open_ledger(get_settings()) as ledger:
        record_many(ledger, 3)
    export = tmp_path / "export.jsonl"
    assert mlgate("audit", "export", "--format", "jsonl", "--output", str(export)).code == 0
    monkeypatch.setenv("MLGATE_HOME", str(tmp_path / "reviewer-home"))
    get_settings.cache_clear()
    run = mlgate("audit", "verify", "--file", str(export))

    assert run.code != 0
    assert "--keyring" in run.err, run.err
    assert "keys init" not in run.err, run.err
