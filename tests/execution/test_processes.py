"""Decision worker processes and the ledger writer, as `mlgate serve` runs them: real processes,
the real engine and a real SQLite ledger; children are stopped and killed with real signals."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from service.audit.keys import KeyFiles, load_keyring
from service.audit.ledger import open_ledger
from service.compose import local_path
from service.decision.judge import Judge
from service.decision.model import AuditReceipt, DecisionAnswer
from service.decision.pipeline import gather, run
from service.decision.request import GateRequest
from service.errors import AuditWriteFailed, PolicyEngineUnavailable
from service.execution import processes
from service.execution.childprocess import Child, Request
from service.execution.ledger_writer import WriterLink, ledger_writer
from service.execution.processes import ProcessDecider
from service.gates.registry import default_gates
from service.settings import PROJECT_ROOT, Settings
from tests.conftest import fixture_request


async def decide(decider: ProcessDecider, request: GateRequest) -> DecisionAnswer:
    """The decision path placed on `decider` (no effects: nothing here enacts)."""
    return await run(request, default_gates(), decider, None)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


@contextmanager
def running(settings: Settings, workers: int) -> Iterator[ProcessDecider]:
    decider = ProcessDecider(settings, workers)
    try:
        yield decider
    finally:
        decider.close()


@pytest.fixture
def decider(settings: Settings) -> Iterator[ProcessDecider]:
    with running(settings, workers=2) as opened:
        yield opened


def inputs(count: int) -> list[dict[str, Any]]:
    return [fixture_request("approved") for _ in range(count)]


def verified_records(settings: Settings) -> int:
    with open_ledger(settings, create=False) as ledger:
        report = ledger.verify(load_keyring(KeyFiles.from_settings(settings).keyring))
    assert report.ok, report.problems
    return report.records


def test_concurrent_decisions_are_each_recorded_once_before_they_are_answered(
    decider: ProcessDecider, settings: Settings
) -> None:
    async def decide_all() -> list[DecisionAnswer]:
        return await asyncio.gather(*(decide(decider, doc) for doc in inputs(40)))

    decisions = asyncio.run(decide_all())

    assert {d.outcome for d in decisions} == {"allow"}
    assert sorted(d.audit.seq for d in decisions if d.audit) == list(range(1, 41))
    assert verified_records(settings) == 40
    commits, records = decider.ledger_counts
    assert records == 40 and 1 <= commits <= 40


def test_the_writer_commits_what_arrives_together_in_one_transaction(
    settings: Settings, gatekeeper: Judge, tmp_path: Path
) -> None:
    spec = default_gates().spec("promotion")
    judged = [gatekeeper.judge(gather(request, spec, None)) for request in inputs(30)]
    writer = ledger_writer(settings, str(tmp_path / "writer.sock"))
    writer.wait_ready()
    try:

        async def record_all() -> list[Any]:
            return await asyncio.gather(
                *(writer.call("record", entry.record()) for entry in judged)
            )

        answers = asyncio.run(record_all())
    finally:
        writer.close()

    receipts: list[AuditReceipt] = [receipt for receipt, _, _ in answers]
    assert [r.seq for r in receipts] == list(range(1, 31))  # in the order they were sent
    commits, records = max((c, r) for _, c, r in answers)
    assert records == 30
    assert commits < 30  # batched: fewer fsyncs than records
    assert verified_records(settings) == 30


def decide_while_killed(decider: ProcessDecider, pids: list[int]) -> BaseException | DecisionAnswer:
    """Ask for a decision while the processes `pids` are stopped, so it waits at one of them,
    then kill them; what the decision came to."""

    async def run() -> BaseException | DecisionAnswer:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        pending = asyncio.ensure_future(decide(decider, inputs(1)[0]))
        await asyncio.sleep(1.0)
        assert not pending.done()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        try:
            return await asyncio.wait_for(pending, timeout=30)
        except (AuditWriteFailed, PolicyEngineUnavailable) as exc:
            return exc

    outcome = asyncio.run(run())
    for child in [*decider._workers, decider._writer]:  # gone for good before the next request
        if child is not None and child.process.pid in pids:
            child.process.join(timeout=10)
    return outcome


def test_a_writer_that_dies_fails_its_decisions_closed_and_is_replaced(
    decider: ProcessDecider, settings: Settings
) -> None:
    assert asyncio.run(decide(decider, inputs(1)[0])).outcome == "allow"
    writer = decider._writer
    assert writer is not None and writer.process.pid is not None

    outcome = decide_while_killed(decider, [writer.process.pid])  # judged, waiting at the writer

    assert isinstance(outcome, AuditWriteFailed)
    assert "ledger writer process ended" in outcome.message
    after = asyncio.run(decide(decider, inputs(1)[0]))
    assert (after.outcome, after.audit and after.audit.seq) == ("allow", 2)
    assert verified_records(settings) == 2
    with open_ledger(settings, create=False) as ledger:  # the new writer covered what it found
        assert len(ledger.stored_checkpoints()) == 1


def test_a_worker_that_dies_is_replaced_and_its_decision_judged_again(
    decider: ProcessDecider,
) -> None:
    pids = [w.process.pid for w in decider._workers if w.process.pid is not None]

    outcome = decide_while_killed(decider, pids)

    # Nothing was recorded for it, so it is judged again on a replacement, not failed.
    assert isinstance(outcome, DecisionAnswer) and outcome.outcome == "allow", outcome
    assert asyncio.run(decide(decider, inputs(1)[0])).outcome == "allow"


def killed(child: Child) -> Child:
    child.process.kill()
    child.process.join(timeout=10)
    return child


def test_while_a_dead_worker_is_replaced_decisions_go_to_the_worker_still_running(
    decider: ProcessDecider,
) -> None:
    dead = killed(decider._workers[0])

    async def run() -> tuple[DecisionAnswer, Child, bool]:
        decision = await decide(decider, inputs(1)[0])
        replacement = decider._workers[0]
        return decision, replacement, replacement.has_started

    decision, replacement, replacement_ready = asyncio.run(run())

    assert decision.outcome == "allow"
    assert replacement is not dead and not replacement_ready  # answered without waiting for it
    replacement.wait_ready()
    assert asyncio.run(decide(decider, inputs(1)[0])).outcome == "allow"


def test_while_the_only_worker_is_replaced_the_event_loop_keeps_running(
    settings: Settings,
) -> None:
    with running(settings, workers=1) as decider:
        dead = killed(decider._workers[0])

        async def run() -> tuple[bool, DecisionAnswer]:
            pending = asyncio.ensure_future(decide(decider, inputs(1)[0]))
            await asyncio.sleep(0)  # the decision starts: it replaces the worker, then waits
            replacement = decider._workers[0]
            waiting = replacement is not dead and not replacement.has_started
            return waiting and not pending.done(), await pending

        loop_ran_while_it_started, decision = asyncio.run(run())

    assert loop_ran_while_it_started
    assert decision.outcome == "allow"  # on the replacement, once it was ready


def test_a_replacement_not_ready_within_the_decision_timeout_is_an_error(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(processes, "START_SECONDS", 0.0)  # only the decision timeout bounds it
    impatient = settings.model_copy(update={"decision_timeout_seconds": 0.01})
    with running(impatient, workers=1) as decider:
        killed(decider._workers[0])
        with pytest.raises(PolicyEngineUnavailable, match=r"not ready within 0\.01 s"):
            asyncio.run(decide(decider, inputs(1)[0]))
        decider._workers[0].wait_ready()
        decider.settings = settings  # a timeout a decision can be made in
        assert asyncio.run(decide(decider, inputs(1)[0])).outcome == "allow"


def test_a_failed_write_is_an_error_never_an_answer(
    decider: ProcessDecider, settings: Settings
) -> None:
    asyncio.run(decide(decider, inputs(1)[0]))
    ledger_file = Path(settings.resolved_ledger_url.removeprefix("sqlite:///"))
    with sqlite3.connect(ledger_file) as conn:  # someone breaks the ledger under the service
        conn.execute("ALTER TABLE record_inputs RENAME TO record_inputs_moved")

    with pytest.raises(AuditWriteFailed, match="could not write the audit record"):
        asyncio.run(decide(decider, inputs(1)[0]))

    asyncio.run(decider.check())  # the writer itself is still up and answering


def raise_auc_floors(policies: Path) -> None:
    config = policies / "data" / "promotion.yaml"
    config.write_text(config.read_text().replace("{auc: 0.9", "{auc: 0.99"))


def test_a_worker_started_after_the_files_changed_evaluates_the_policies_in_force(
    tmp_path: Path, policy_copy: Callable[[], Path]
) -> None:
    policies = policy_copy()
    with running(Settings(home=tmp_path / "home", policy_dir=policies), workers=1) as decider:
        before = asyncio.run(decide(decider, inputs(1)[0]))
        raise_auc_floors(policies)  # edited on disk, not reloaded
        killed(decider._workers[0])
        after = asyncio.run(decide(decider, inputs(1)[0]))  # on the worker started since

    assert (before.outcome, after.outcome) == ("allow", "allow")
    assert after.policy_revision == before.policy_revision == decider.policy_set.revision


def test_a_reload_reaches_every_worker_as_it_was_checked_not_as_the_files_are_now(
    tmp_path: Path, policy_copy: Callable[[], Path]
) -> None:
    policies = policy_copy()
    with running(Settings(home=tmp_path / "home", policy_dir=policies), workers=2) as decider:
        raise_auc_floors(policies)
        _, reloaded = decider.reload()
        (policies / "promotion" / "broken.rego").write_text("package mlgate.promotion\nx := {\n")

        async def decide_all() -> list[DecisionAnswer]:
            await decider.check()  # both workers connected to this loop: the load spreads
            return await asyncio.gather(*(decide(decider, doc) for doc in inputs(20)))

        decisions = asyncio.run(decide_all())
        sent = [decider._holds[worker] for worker in decider._workers]

    assert {d.outcome for d in decisions} == {"deny"}  # the raised floor, on both workers
    assert {d.policy_revision for d in decisions} == {reloaded.revision}
    assert sent == [1, 1]  # each worker was asked with the reloaded set's generation


SLOW_RULE = """package mlgate.promotion

# Millions of steps for one model only: an engine that does not answer in time.
# METADATA
# title: Never answers in time
# custom:
#   code: NEVER
#   severity: high
deny contains {"code": "NEVER"} if {
\tinput.model.name == "slow-model"
\tsome a in numbers.range(1, 5000)
\tsome b in numbers.range(1, 5000)
\ta * b == 0
}
"""


# Long enough for an ordinary decision on a heavily loaded 2-core host (about 0.1 s when idle):
# the tests below want only the slow rule's decision to run out of time.
SLOW_TIMEOUT = 3.0


def _ordinary(answer: DecisionAnswer) -> str:
    return (
        f"an ordinary decision was answered {answer.outcome} "
        f"({[r.message for r in answer.reasons]}): if it ran out of its {SLOW_TIMEOUT:g} s "
        "too, the host was too loaded for this test"
    )


def slow_setup(tmp_path: Path, policy_copy: Callable[[], Path]) -> tuple[Settings, GateRequest]:
    """Settings whose policies hold SLOW_RULE, with a decision timeout of SLOW_TIMEOUT, and the
    request that rule never finishes judging."""
    policies = policy_copy()
    (policies / "promotion" / "slow.rego").write_text(SLOW_RULE)
    settings = Settings(
        home=tmp_path / "home", policy_dir=policies, decision_timeout_seconds=SLOW_TIMEOUT
    )
    return settings, dataclasses.replace(fixture_request("approved"), model={"name": "slow-model"})


def test_an_engine_that_does_not_answer_in_time_is_a_recorded_deny(
    tmp_path: Path, policy_copy: Callable[[], Path]
) -> None:
    settings, slow = slow_setup(tmp_path, policy_copy)
    with running(settings, workers=1) as decider:
        denied = asyncio.run(decide(decider, slow))
        after = asyncio.run(decide(decider, fixture_request("approved")))

    assert denied.outcome == "deny"
    assert [r.code for r in denied.reasons] == ["POLICY_ENGINE_ERROR"]
    assert f"did not answer within {SLOW_TIMEOUT:g} s" in denied.reasons[0].message
    assert denied.audit is not None and denied.audit.seq == 1
    assert after.outcome == "allow", _ordinary(after)  # a new worker: the stuck one was killed
    assert verified_records(settings) == 2


def test_a_request_queued_behind_one_that_times_out_is_judged_on_the_new_worker(
    tmp_path: Path, policy_copy: Callable[[], Path]
) -> None:
    settings, slow = slow_setup(tmp_path, policy_copy)
    with running(settings, workers=1) as decider:

        async def queued() -> list[DecisionAnswer]:
            await decider.check()
            slow_one = asyncio.ensure_future(decide(decider, slow))
            await asyncio.sleep(0.05)
            ordinary = asyncio.ensure_future(decide(decider, fixture_request("approved")))
            return list(await asyncio.gather(slow_one, ordinary))

        denied, answered = asyncio.run(queued())

    assert [r.code for r in denied.reasons] == ["POLICY_ENGINE_ERROR"]
    # Judged again on the worker that replaced the slow one.
    assert answered.outcome == "allow", _ordinary(answered)
    assert verified_records(settings) == 2


FIXTURES = sorted(path.name for path in (PROJECT_ROOT / "fixtures" / "evidence").iterdir())


def test_every_fixture_is_decided_in_the_workers_as_on_the_calling_thread(
    decider: ProcessDecider, tmp_path: Path
) -> None:
    """The workers hand their judgements to the writer themselves; what they decide and what
    is answered must be what the plain path (judged and recorded on this thread) decides."""
    inline = local_path(Settings(home=tmp_path / "inline"))
    try:
        plain = [inline.decide(fixture_request(name)) for name in FIXTURES]
    finally:
        inline.ledger.close()

    async def decide_all() -> list[DecisionAnswer]:
        return [await decide(decider, fixture_request(name)) for name in FIXTURES]

    placed = asyncio.run(decide_all())

    def essence(answer: DecisionAnswer) -> dict[str, Any]:
        kept = {"outcome", "reasons", "warnings", "model", "policy_revision", "caller", "target"}
        return answer.model_dump(include=kept)

    assert {a.outcome for a in plain} >= {"allow", "deny", "hold"}  # the fixtures vary
    assert [essence(a) for a in placed] == [essence(a) for a in plain]
    assert [a.audit and a.audit.seq for a in placed] == list(range(1, len(FIXTURES) + 1))


def test_a_judged_decision_goes_to_the_writer_without_the_parent_relaying_it(
    decider: ProcessDecider, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = decider._writer
    assert writer is not None
    sent_by_parent: list[str] = []
    call = writer.call

    async def watched(op: str, payload: Any, generation: int = 0) -> Any:
        sent_by_parent.append(op)
        return await call(op, payload, generation)

    monkeypatch.setattr(writer, "call", watched)

    async def decide_all() -> list[DecisionAnswer]:
        return await asyncio.gather(*(decide(decider, doc) for doc in inputs(8)))

    answers = asyncio.run(decide_all())

    assert "record" not in sent_by_parent
    assert sorted(a.audit.seq for a in answers if a.audit) == list(range(1, 9))
    assert verified_records(settings) == 8


def test_the_fence_records_what_a_worker_sent_before_it_died_and_nothing_it_did_not(
    settings: Settings, gatekeeper: Judge, tmp_path: Path
) -> None:
    """A worker may die after handing its judgement to the writer and before telling the
    parent: the fence tells the parent which it is, so the decision is recorded exactly once
    (answered from the writer's record) or judged again (nothing was recorded)."""
    spec = default_gates().spec("promotion")
    judged = gatekeeper.judge(gather(inputs(1)[0], spec, None))
    address = str(tmp_path / "writer.sock")
    writer = ledger_writer(settings, address)
    writer.wait_ready()
    try:

        async def died_after_sending() -> tuple[Any, bool]:
            sent_id, sent = await writer.expect()
            unsent_id, unsent = await writer.expect()
            link = WriterLink().to(address)
            link.send(Request(sent_id, "record", judged))
            link.close()  # the worker is gone
            await writer.call("fence", None)
            settled = sent.result() if sent.done() else None
            still_waiting = not unsent.done()
            writer.forget(unsent_id)
            return settled, still_waiting

        settled, still_waiting = asyncio.run(died_after_sending())
    finally:
        writer.close()

    assert settled is not None, "the fence must come after what the worker sent"
    decision, receipt, _, records = settled
    assert decision == judged.decision and receipt.seq == 1 and records == 1
    assert still_waiting
    assert verified_records(settings) == 1


def test_a_worker_that_cannot_reach_the_writer_fails_its_decision_closed(
    decider: ProcessDecider, tmp_path: Path
) -> None:
    """A judgement that cannot be handed to the writer is never answered: the parent gets
    AuditWriteFailed, and the writer never heard of it."""
    writer = decider._writer
    assert writer is not None
    decider._addresses[writer] = str(tmp_path / "no-writer-here.sock")

    with pytest.raises(AuditWriteFailed, match="could not be handed to the ledger writer"):
        asyncio.run(decide(decider, inputs(1)[0]))
    assert decider.ledger_counts == (0, 0)
