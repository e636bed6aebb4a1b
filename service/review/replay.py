"""Replay, "what would flip": recorded decisions' stored inputs judged again under another policy
set, never recorded, never enacted.

The recorded input was gathered once, when the decision was made, and is kept in the ledger
with its record (checked here against the digest the record signs before it is judged again),
so only the judge step of the one decision path runs again (service/decision/judge.py:
validation, OPA, the decision check); a replay therefore answers "what would these policies
have decided on the same evidence", not "what would they decide today" (the registry,
sign-offs and history may have moved since).

Each decision's judgement is independent of the others, so the judging is spread over worker
processes, each with its own judge built by the `JudgeFactory` it is handed (spawned, as the
decision workers are: the embedded engine's Go runtime does not survive a fork). This process
only lists the decisions' seqs and hands them out a chunk at a time; each worker reads its
records from the ledger (checked against their signatures) and their inputs (checked against
their digests) itself, so the reading is spread over the cores too.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing import get_context
from multiprocessing.queues import SimpleQueue
from typing import Any

from service.audit.kinds import DECISION
from service.audit.ledger import Ledger
from service.canonical import sha256_digest
from service.decision.judge import Judge
from service.errors import MlgateError, NotFound, PolicyLoadError

# A picklable callable building the judge of the policy set to replay under, once per worker.
JudgeFactory = Callable[[], Judge]
# A picklable callable opening, in a worker, the ledger the replay reads (open_ledger_reader).
LedgerReader = Callable[[], Ledger]
# Decisions handed to a worker at a time: large enough that the hand-over costs little next to
# the judging (some 2 ms a decision), small enough that the progress moves and every worker
# gets a share of a few hundred decisions.
CHUNK = 32
# Below this many decisions the workers' start (a policy compile each, about a second) costs
# more than it saves: the replay judges in this process.
INLINE_BELOW = 64


@dataclass(frozen=True)
class ReplayFilter:
    """Which recorded decisions to replay: recorded in [since, until) (RFC 3339), of `model`
    (its name) and `gate`; None matches any."""

    since: str | None = None
    until: str | None = None
    model: str | None = None
    gate: str | None = None

    def find_arguments(self) -> dict[str, Any]:
        return {
            "kind": DECISION,
            "since": self.since,
            "until": self.until,
            "model": self.model,
            "gate": self.gate,
        }


@dataclass(frozen=True)
class Replayed:
    """One decision as recorded and as judged again. Reasons and warnings are code sets."""

    seq: int
    decision_id: str
    gate: str
    model: str  # "name@version"
    stage: str
    recorded_at: str
    recorded_revision: str
    recorded_outcome: str
    outcome: str
    recorded_reasons: tuple[str, ...]
    reasons: tuple[str, ...]
    recorded_warnings: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def flipped(self) -> bool:
        return self.outcome != self.recorded_outcome

    @property
    def changed(self) -> bool:
        """Same outcome, other reasons or warnings."""
        return not self.flipped and (
            self.reasons != self.recorded_reasons or self.warnings != self.recorded_warnings
        )

    @property
    def transition(self) -> str:
        return f"{self.recorded_outcome} -> {self.outcome}"

    def to_json(self) -> dict[str, Any]:
        added = sorted(set(self.reasons) - set(self.recorded_reasons))
        removed = sorted(set(self.recorded_reasons) - set(self.reasons))
        return {
            "seq": self.seq,
            "decision_id": self.decision_id,
            "gate": self.gate,
            "model": self.model,
            "stage": self.stage,
            "recorded_at": self.recorded_at,
            "recorded_revision": self.recorded_revision,
            "recorded_outcome": self.recorded_outcome,
            "outcome": self.outcome,
            "reasons_added": added,
            "reasons_removed": removed,
            "warnings_added": sorted(set(self.warnings) - set(self.recorded_warnings)),
            "warnings_removed": sorted(set(self.recorded_warnings) - set(self.warnings)),
        }


@dataclass(frozen=True)
class Unreplayable:
    """A recorded decision that could not be judged again, and why (its input is gone or
    altered, its record unreadable, its gate unknown to these policies)."""

    seq: int
    decision_id: str
    problem: str


@dataclass
class ReplayReport:
    """Every replayed decision (seq order), those that could not be, and the revision judged
    under."""

    revision: str
    replayed: list[Replayed] = field(default_factory=list)
    unreplayable: list[Unreplayable] = field(default_factory=list)

    @property
    def flips(self) -> list[Replayed]:
        return [r for r in self.replayed if r.flipped]

    @property
    def changes(self) -> list[Replayed]:
        return [r for r in self.replayed if r.changed]

    def transitions(self) -> list[tuple[str, int]]:
        """(recorded -> now, count) for each kind of flip, most frequent first."""
        counted = Counter(r.transition for r in self.flips)
        return sorted(counted.items(), key=lambda item: (-item[1], item[0]))

    def to_json(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "replayed": len(self.replayed),
            "flipped": len(self.flips),
            "changed": len(self.changes),
            "unchanged": len(self.replayed) - len(self.flips) - len(self.changes),
            "unreplayable": len(self.unreplayable),
            "transitions": dict(self.transitions()),
            "flips": [r.to_json() for r in self.flips],
            "changes": [r.to_json() for r in self.changes],
            "problems": [
                {"seq": u.seq, "decision_id": u.decision_id, "problem": u.problem}
                for u in self.unreplayable
            ],
        }


# What judging a chunk gives: the revision judged under, and each decision's result.
_Judged = tuple[str, list["Replayed | Unreplayable"]]


@dataclass(frozen=True)
class _Task:
    """What a worker needs of one recorded decision: its predicate and its input's bytes."""

    seq: int
    recorded_at: str
    predicate: dict[str, Any]
    document: bytes


def selected(
    ledger: Ledger, where: ReplayFilter = ReplayFilter(), at_most: int | None = None
) -> list[int]:
    """The seqs of the recorded decisions `where` matches, oldest first; with `at_most`,
    reading stops there (the newest `at_most`). Listed unchecked: each record is checked
    against its signature when it is read for judging (LedgerTampered for one edited in the
    database), in whichever process judges it."""
    return sorted(islice(ledger.seqs(**where.find_arguments()), at_most))


def replay(
    ledger: Ledger,
    seqs: list[int],
    factory: JudgeFactory,
    *,
    reader: LedgerReader | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    timeout: float | None = None,
) -> ReplayReport:
    """Judge the decisions `seqs` of `ledger` (from `selected`) again under the policy set
    `factory` builds a judge for; record nothing, enact nothing.

    `workers` processes judge (default: one per core), each reading its decisions from the
    ledger `reader` opens (it must be the ledger `ledger` reads); without `reader`, with one
    worker, or for fewer than INLINE_BELOW decisions (and no `timeout`), this process reads
    and judges. `progress` is called with the number of decisions handled so far. A decision
    whose input document is missing or does not match its digest, or that these policies
    cannot judge (an unknown gate), is reported as unreplayable, never skipped silently; a
    record edited in the database raises LedgerTampered. With `timeout` (seconds a decision
    may take; needs `reader`), the judging always runs in worker processes, and when a chunk
    takes longer than that for each of its decisions, from when a worker began it (a chunk
    waits at most STARTUP_ALLOWANCE for that: the workers compile the policies), the workers
    are stopped and every decision not judged
    by then is reported unreplayable, saying so: a policy that never finishes holds nothing.
    Raises what building the judge raises (PolicyLoadError for a broken policy set).
    """
    workers = max(1, workers if workers is not None else os.cpu_count() or 1)
    inline = workers == 1 or len(seqs) < INLINE_BELOW
    if reader is None or (timeout is None and inline):
        judge = factory()
        report = ReplayReport(revision=judge.engine.policy_set.revision)
        try:
            outcomes: Iterable[_Judged] = (
                (report.revision, _read_and_judge(judge, ledger, chunk)) for chunk in _chunks(seqs)
            )
            _collect(report, outcomes, progress)
        finally:
            _close(judge)
        return report
    report = ReplayReport(revision="")
    context = get_context("spawn")
    began: SimpleQueue[int] = context.SimpleQueue()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(factory, reader, began if timeout is not None else None),
    )
    try:
        answers = _answers(ledger, pool, _chunks(seqs), workers * 4, timeout, _Starts(began))
        _collect(report, answers, progress)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    report.revision = report.revision or "unknown: no decision could be judged"
    return report


# How long a chunk may wait for a worker to begin it: the workers' start (spawn, import and a
# policy compile: about a second on an idle host). Its time limit runs from when it began.
STARTUP_ALLOWANCE = 20.0


class _Starts:
    """When the workers began each chunk, from the first seq each reports as it begins one."""

    def __init__(self, began: SimpleQueue[int]) -> None:
        self._began = began
        self._at: dict[int, float] = {}

    def of(self, chunk: list[int], future: Future[_Judged]) -> float | None:
        """The monotonic time `chunk` began (now, if `future` is done before it is heard of);
        None if no worker began it within STARTUP_ALLOWANCE."""
        deadline = time.monotonic() + STARTUP_ALLOWANCE
        while True:
            while not self._began.empty():  # read every notice, so no worker waits on the pipe
                self._at[self._began.get()] = time.monotonic()
            if chunk[0] in self._at or future.done():
                return self._at.pop(chunk[0], time.monotonic())
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)


def _answers(
    ledger: Ledger,
    pool: ProcessPoolExecutor,
    chunks: Iterator[list[int]],
    ahead: int,
    timeout: float | None,
    starts: _Starts,
) -> Iterator[_Judged]:
    """Each chunk's results in order, keeping at most `ahead` chunks submitted and unanswered.
    Past a chunk's time limit (with `timeout`: that many seconds a decision, from when a
    worker began the chunk), the workers are stopped, and that chunk and all after it come
    back unreplayable."""
    pending: deque[tuple[list[int], Future[_Judged]]] = deque()
    revision = ""
    while True:
        for chunk in islice(chunks, ahead - len(pending)):
            pending.append((chunk, pool.submit(_judge_in_worker, chunk)))
        if not pending:
            return
        chunk, future = pending.popleft()
        try:
            if timeout is None:
                revision, judged = future.result()
            else:
                began = starts.of(chunk, future)
                if began is None:
                    raise FutureTimeout
                limit = max(0.0, began + timeout * len(chunk) - time.monotonic())
                revision, judged = future.result(timeout=limit)
        except FutureTimeout:
            _stop_workers(pool)
            problem = (
                f"not judged: a decision took longer than {timeout:g} s under these policies, "
                "so the replay was stopped there"
            )
            stopped = [chunk, *(c for c, _ in pending), *chunks]
            yield (
                revision,
                [Unreplayable(seq, _id_of(ledger, seq), problem) for c in stopped for seq in c],
            )
            return
        yield revision, judged


def _id_of(ledger: Ledger, seq: int) -> str:
    try:
        return ledger.get_seq(seq).decision_id
    except MlgateError:
        return ""


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's worker processes: a policy stuck in OPA's evaluator does not return to
    be cancelled. (ProcessPoolExecutor keeps them in `_processes`; nothing public stops them.)"""
    for process in list(getattr(pool, "_processes", {}).values()):
        process.kill()


def _read_and_judge(judge: Judge, ledger: Ledger, seqs: list[int]) -> list[Replayed | Unreplayable]:
    """Each decision read (checked: LedgerTampered for an edited record), its input checked
    against its digest, and judged; in seq order."""
    results: list[Replayed | Unreplayable] = []
    for seq in seqs:
        record = ledger.get_seq(seq)
        try:
            predicate = record.predicate()
            document = _checked_input(ledger, seq, str(predicate["input_digest"]))
        except MlgateError as exc:
            results.append(Unreplayable(seq, record.decision_id, exc.message))
            continue
        except (KeyError, ValueError) as exc:
            problem = f"its record cannot be read ({exc}); run `mlgate audit verify`"
            results.append(Unreplayable(seq, record.decision_id, problem))
            continue
        results.append(_judge_one(judge, _Task(seq, record.recorded_at, predicate, document)))
    return results


def _checked_input(ledger: Ledger, seq: int, digest: str) -> bytes:
    """The input document stored with the record at `seq`, NotFound unless it is there and
    hashes to `digest`."""
    document = ledger.stored_input(seq, digest)
    where = ledger.store.description
    if document is None:
        raise NotFound(f"its input document {digest} is not in the {where}")
    found = sha256_digest(document)
    if found != digest:
        raise NotFound(
            f"its input document {digest} in the {where} hashes to {found}: it was altered"
        )
    return document


def _chunks(seqs: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(seqs), CHUNK):
        yield seqs[start : start + CHUNK]


def _collect(
    report: ReplayReport, outcomes: Iterable[_Judged], progress: Callable[[int], None] | None
) -> None:
    """Gather the chunks' results (in seq order)."""
    for revision, outcome in outcomes:
        report.revision = revision
        for item in outcome:
            if isinstance(item, Replayed):
                report.replayed.append(item)
            else:
                report.unreplayable.append(item)
        if progress is not None:
            progress(len(report.replayed) + len(report.unreplayable))


# A worker's judge and ledger, or why the judge could not be built (raised in the parent).
_WORKER: tuple[Judge, Ledger] | PolicyLoadError | None = None
# Where a worker says it began a chunk (its first seq), for the parent's time limits (with a
# timeout only: without one nobody reads it).
_BEGAN: SimpleQueue[int] | None = None


def _start_worker(
    factory: JudgeFactory, reader: LedgerReader, began: SimpleQueue[int] | None
) -> None:
    global _WORKER, _BEGAN
    _BEGAN = began
    try:
        judge = factory()
    except MlgateError as exc:  # a worker that died would say only "process pool broken"
        _WORKER = PolicyLoadError(exc.message)
        return
    _WORKER = (judge, reader())


def _judge_in_worker(seqs: list[int]) -> _Judged:
    """(the revision judged under, each decision's result); PolicyLoadError when the worker's
    judge could not be built, LedgerTampered for a record edited in the database."""
    if _BEGAN is not None:
        _BEGAN.put(seqs[0])
    if isinstance(_WORKER, PolicyLoadError):
        raise _WORKER
    assert _WORKER is not None
    judge, ledger = _WORKER
    return judge.engine.policy_set.revision, _read_and_judge(judge, ledger, seqs)


def _decision_id(task: _Task) -> str:
    return str(task.predicate.get("decision_id", ""))


def _judge_one(judge: Judge, task: _Task) -> Replayed | Unreplayable:
    recorded = task.predicate
    decision_id = _decision_id(task)
    try:
        decision = judge.evaluate(json.loads(task.document))
    except MlgateError as exc:  # e.g. a gate these policies' registry does not know
        return Unreplayable(task.seq, decision_id, exc.message)
    model = _mapping(recorded.get("model"))
    return Replayed(
        seq=task.seq,
        decision_id=decision_id,
        gate=str(recorded.get("gate", "")),
        model=f"{model.get('name', '')}@{model.get('version', '')}",
        stage=str(_mapping(recorded.get("target")).get("stage") or ""),
        recorded_at=task.recorded_at,
        recorded_revision=str(recorded.get("policy_revision", "")),
        recorded_outcome=str(recorded.get("outcome", "")),
        outcome=decision.outcome,
        recorded_reasons=_codes(recorded.get("reasons")),
        reasons=tuple(sorted({r.code for r in decision.reasons})),
        recorded_warnings=_codes(recorded.get("warnings")),
        warnings=tuple(sorted({r.code for r in decision.warnings})),
    )


def _codes(reasons: Any) -> tuple[str, ...]:
    return tuple(sorted({str(_mapping(r).get("code")) for r in reasons or []}))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _close(judge: Judge) -> None:
    close = getattr(judge.engine, "close", None)
    if close is not None:
        close()
