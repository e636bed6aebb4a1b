"""A writer killed with SIGKILL at random moments never breaks the chain or loses an answer."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

import pytest

from service.audit.keys import KeyFiles, Keyring
from service.settings import PROJECT_ROOT
from tests.audit.factory import StoreFactory

KILLS = 20


def start_writer(stores: StoreFactory, key_files: KeyFiles, start: int) -> subprocess.Popen[str]:
    command = ["kill-me", stores.kind, stores.location, str(key_files.private_key.parent)]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.audit.workers", *command, str(start)],
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.timeout(120)
def test_every_answered_decision_survives_a_kill_and_the_chain_verifies(
    stores: StoreFactory, key_files: KeyFiles, keyring: Keyring
) -> None:
    rng = random.Random(6962)
    answered: list[str] = []
    upcoming = start_writer(stores, key_files, 0)
    for run in range(KILLS):
        writer = upcoming
        assert writer.stdin is not None and writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        writer.stdin.write("go\n")
        writer.stdin.flush()
        if run + 1 < KILLS:  # the next one imports while this one writes
            upcoming = start_writer(stores, key_files, (run + 1) * 100_000)
        # Wait for its first answer, so the kill lands while it is recording (a busy machine
        # can take longer than any fixed pause to open the ledger), then let it go on a while.
        first = writer.stdout.readline().strip()
        assert first, f"writer {run} ended before recording one decision (exit {writer.poll()})"
        answered.append(first)
        time.sleep(rng.uniform(0.0, 0.1))
        writer.send_signal(signal.SIGKILL)
        answered += writer.stdout.read().split()  # the ids whose record() had returned
        writer.wait(timeout=10)
        assert writer.returncode == -signal.SIGKILL
        with stores.ledger(key_files) as ledger:
            report = ledger.verify(keyring)
            assert report.ok, (run, report.problems[:5])
    with stores.ledger(key_files) as ledger:
        recorded = {r.decision_id for r in ledger.find(limit=10_000)}
        assert ledger.last_seq() == len(recorded)
    lost = set(answered) - recorded
    assert not lost, f"{len(lost)} of {len(answered)} answered decisions have no record: {lost}"
