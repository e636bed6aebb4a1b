"""One verification at a time, shared by the callers who ask while it runs (GET /v1/audit/verify
and the review page): readers asking at once cost one verification, not one each."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service.audit.keys import KeyFiles, Keyring, KeySource, init_keys, load_keyring
from service.audit.ledger import Ledger
from service.audit.shared_verification import SharedVerification
from service.audit.stores.base import Store
from service.audit.verify import VerifyReport
from tests.audit.factory import record_many

WAIT_S = 30.0


class HeldLedger(Ledger):
    """A real ledger whose verifications wait, once started, until the test lets them go on."""

    def __init__(self, store: Store, keys: KeySource) -> None:
        super().__init__(store, keys)
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail: Exception | None = None

    def verify(self, keyring: Keyring, **options: Any) -> VerifyReport:
        self.entered.set()
        assert self.release.wait(WAIT_S), "the test never let the verification go on"
        if self.fail is not None:
            raise self.fail
        return super().verify(keyring, **options)


@pytest.fixture
def held(ledger: Ledger, key_files: KeyFiles) -> HeldLedger:
    record_many(ledger, 5)
    return HeldLedger(ledger.store, KeySource(key_files))


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {WAIT_S:g} s"
        time.sleep(0.005)


def ask_in_thread(
    shared: SharedVerification, keyring: Keyring
) -> tuple[threading.Thread, list[VerifyReport | BaseException]]:
    answers: list[VerifyReport | BaseException] = []

    def ask() -> None:
        try:
            answers.append(shared.verify(keyring))
        except BaseException as exc:  # handed to the test's thread
            answers.append(exc)

    thread = threading.Thread(target=ask)
    thread.start()
    return thread, answers


def test_callers_asking_while_one_runs_share_its_report(held: HeldLedger, keyring: Keyring) -> None:
    shared = SharedVerification(held)
    first, first_answer = ask_in_thread(shared, keyring)
    assert held.entered.wait(WAIT_S)
    others = [ask_in_thread(shared, keyring) for _ in range(3)]
    wait_until(lambda: shared.joined == 3, "three callers joined the running verification")
    held.release.set()
    for thread, _ in [(first, first_answer), *others]:
        thread.join(WAIT_S)

    reports = [first_answer[0], *(answer[0] for _, answer in others)]
    assert shared.started == 1
    assert all(isinstance(r, VerifyReport) and r.ok and r.records == 5 for r in reports)
    assert all(r is reports[0] for r in reports)

    # Once it has ended, the next caller starts a new one, which sees the records since.
    record_many(held, 2, start=100)
    assert shared.verify(keyring).records == 7
    assert shared.started == 2


def two_callers(
    held: HeldLedger,
    shared: SharedVerification,
    keyrings: tuple[Keyring, Keyring],
    ready: Callable[[], bool],
    what: str,
) -> tuple[VerifyReport | BaseException, VerifyReport | BaseException]:
    """The first caller's verification held once it starts, the second caller asking then, and
    both let go on once `ready()`: their answers."""
    first, first_answer = ask_in_thread(shared, keyrings[0])
    assert held.entered.wait(WAIT_S)
    second, second_answer = ask_in_thread(shared, keyrings[1])
    wait_until(ready, what)
    held.release.set()
    first.join(WAIT_S)
    second.join(WAIT_S)
    return first_answer[0], second_answer[0]


def test_a_caller_with_another_keyring_runs_its_own(
    held: HeldLedger, keyring: Keyring, tmp_path: Path
) -> None:
    other_files = KeyFiles.in_dir(tmp_path / "other-keys")
    init_keys(other_files)
    other = load_keyring(other_files.keyring)
    shared = SharedVerification(held)
    mine, theirs = two_callers(
        held, shared, (keyring, other), lambda: shared.started == 2, "a second one started"
    )
    assert isinstance(mine, VerifyReport) and mine.ok
    assert isinstance(theirs, VerifyReport) and not theirs.ok  # none of its keys signed these
    assert shared.joined == 0


def test_a_failure_reaches_every_caller_who_shared_the_run(
    held: HeldLedger, keyring: Keyring
) -> None:
    shared = SharedVerification(held)
    held.fail = RuntimeError("the store went away")
    answers = two_callers(
        held, shared, (keyring, keyring), lambda: shared.joined == 1, "the second one joined"
    )
    assert all(isinstance(answer, RuntimeError) for answer in answers), answers
    held.fail = None
    assert shared.verify(keyring).ok  # the failed run does not stay in the way
