"""Verifies a stored ledger: the chain of envelopes, and what queries read beside it.

A listing filters on columns copied out of each envelope, and a decision's input document is
kept so it can be re-evaluated; both live outside the signed bytes, so both are checked here
against what the envelope signs: every indexed column, that the input document exists and
hashes to its digest, and that each file a policy revision record names is archived unaltered.
"""

from __future__ import annotations

import collections
import functools
import json
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

from service.audit.columns import expected_columns, mismatches, row_matches
from service.audit.keys import Keyring
from service.audit.kinds import POLICY_REVISION, UnknownRecordKind
from service.audit.stores.base import PAGE_SIZE, RecordRow, Store
from service.audit.verify import (
    PROGRESS_EVERY,
    ChainVerifier,
    Examined,
    Opened,
    ProblemKind,
    Run,
    Start,
    VerifyReport,
    open_record,
)
from service.canonical import sha256_digest

# Records per job handed to a worker process: large enough that its start-up and the results'
# way back cost little beside the signatures, small enough to keep every core busy to the end.
CHUNK = 20_000
Problem = tuple[int, ProblemKind, str]


def verify_store(
    store: Store,
    keyring: Keyring,
    checkpoints: Sequence[bytes | tuple[str, bytes]] = (),
    progress: Callable[[int], None] | None = None,
    *,
    inputs: bool = True,
    start: Start | None = None,
    workers: int = 1,
    chunk: int = CHUNK,
) -> VerifyReport:
    """Every record of `store` in seq order (after `start`'s, when given): signatures, chain,
    checkpoints, columns and (with `inputs`) input documents. `checkpoints` are (where it came
    from, envelope bytes).

    With `workers` > 1, records are examined `chunk` at a time in that many processes, each
    reading its own rows (signatures are the costly part), and placed in the chain here in
    seq order: the same checks, the same report as one process gives."""
    verifier = ChainVerifier(keyring, checkpoints, start)
    after = start.size if start is not None else 0
    if workers > 1:
        for found in _examined_in_parallel(store, keyring, after, inputs, workers, chunk):
            before = verifier.position
            if isinstance(found, Run):
                verifier.account_run(found)
            else:
                examined, problems = found
                verifier.account(examined)
                for problem in problems:
                    verifier.record_problem(*problem)
            if progress is not None and before // PROGRESS_EVERY != (
                verifier.position // PROGRESS_EVERY
            ):
                progress(verifier.position)
    else:
        for row, documents in _pages(store, after, None, inputs):
            opened = verifier.feed(row.envelope)
            for problem in row_problems(store, row, opened, documents, inputs):
                verifier.record_problem(*problem)
            if progress is not None and verifier.position % PROGRESS_EVERY == 0:
                progress(verifier.position)
    if progress is not None:
        progress(verifier.position)
    return verifier.finish()


@dataclass(frozen=True)
class PageInputs:
    """The input documents of a page of records: by seq, and by digest for the records of a
    ledger written before documents were kept by seq."""

    by_seq: dict[int, bytes]
    by_digest: dict[str, bytes]

    def of(self, store: Store, row: RecordRow, digest: str) -> bytes | None:
        """The document stored with `row`, whose signed record names `digest`."""
        if (document := self.by_seq.get(row.seq)) is not None:
            return document
        if (document := self.by_digest.get(digest)) is not None:
            return document
        return store.content(digest) if digest != row.input_digest else None


NO_INPUTS = PageInputs({}, {})


def _pages(
    store: Store, after: int, last: int | None, inputs: bool
) -> Iterator[tuple[RecordRow, PageInputs]]:
    """Each row with seq in (after, last] (to the end with `last` None), in seq order, with the
    input documents of its page when `inputs`."""
    while True:
        page = store.row_page(after, PAGE_SIZE)
        if last is not None:
            page = [row for row in page if row.seq <= last]
        documents = _page_inputs(store, page) if inputs and page else NO_INPUTS
        for row in page:
            yield row, documents
        if len(page) < PAGE_SIZE or (last is not None and page[-1].seq >= last):
            return
        after = page[-1].seq


def _page_inputs(store: Store, page: list[RecordRow]) -> PageInputs:
    by_seq = store.record_inputs(page[0].seq, page[-1].seq)
    older = sorted({row.input_digest for row in page if row.seq not in by_seq})
    return PageInputs(by_seq, store.contents(older) if older else {})


def row_problems(
    store: Store, row: RecordRow, opened: Opened | None, documents: PageInputs, inputs: bool
) -> list[Problem]:
    """What is wrong with a record beside its chain: its columns, its input document and, for a
    policy revision, its archived files."""
    # An envelope not validly signed, or stored under another seq, is reported by the chain
    # already; its columns would only repeat that.
    if opened is None or not opened.signed or opened.seq != row.seq:
        return []
    found: list[Problem] = []
    digest = _check_columns(found, row, opened)
    if inputs and digest is not None:
        _check_input(found, row.seq, digest, documents.of(store, row, digest))
    if inputs and opened.kind == POLICY_REVISION:
        _check_policy_files(found, store, opened)
    return found


def _examined_in_parallel(
    store: Store, keyring: Keyring, after: int, inputs: bool, workers: int, chunk: int
) -> Iterator[Run | tuple[Examined, list[Problem]]]:
    """The records after seq `after`, examined by `workers` processes, in seq order: runs of
    records with nothing to report, and each other record with its problems."""
    job = functools.partial(
        _examine_chunk, store.reader(), json.dumps(keyring.to_json()), keyring.source, inputs
    )
    context = multiprocessing.get_context("spawn")  # no copy of a threaded parent's locks
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        running: collections.deque[Future[list[Run | tuple[Examined, list[Problem]]]]] = (
            collections.deque()
        )
        more = True
        while more or running:
            while more and len(running) < 2 * workers:
                last = store.seq_after(after, chunk)
                running.append(pool.submit(job, after, last))
                more = last is not None
                after = last or after
            yield from running.popleft().result()


_opened: dict[str, tuple[Store, Keyring]] = {}


def _examine_chunk(
    reader: Callable[[], Store],
    keyring_json: str,
    keyring_source: str,
    inputs: bool,
    after: int,
    last: int | None,
) -> list[Run | tuple[Examined, list[Problem]]]:
    """In a worker: the records with seq in (after, last], examined: runs of records with
    nothing to report, and each other record with its problems."""
    key = f"{reader!r}|{keyring_json}"
    if key not in _opened:
        keyring = Keyring.from_json(json.loads(keyring_json), keyring_source)
        _opened[key] = (reader(), keyring)
    store, keyring = _opened[key]
    found: list[Run | tuple[Examined, list[Problem]]] = []
    run: _RunBuilder | None = None
    for row, documents in _pages(store, after, last, inputs):
        examined, opened = open_record(row.envelope, keyring)
        problems = row_problems(store, row, opened, documents, inputs)
        clean = not problems and examined.unreadable is None and examined.signature is None
        if clean and run is not None and run.extended_by(examined):
            continue
        if run is not None:
            found.append(run.done())
            run = None
        if clean:
            run = _RunBuilder(examined)
        else:
            found.append((examined, problems))
    if run is not None:
        found.append(run.done())
    return found


class _RunBuilder:
    """Gathers the records of one Run (service/audit/verify.py) as a worker examines them."""

    def __init__(self, first: Examined) -> None:
        self.seq, self.prev, self.kind = first.seq, first.prev, first.kind
        self.last_digest = first.digest
        self.digests, self.leaves = [bytes.fromhex(first.digest)], [first.leaf]

    def extended_by(self, examined: Examined) -> bool:
        """Add `examined` if it is the run's next record; False (nothing added) if not."""
        if (
            examined.seq != self.seq + len(self.digests)
            or examined.prev != self.last_digest
            or examined.kind != self.kind
        ):
            return False
        self.last_digest = examined.digest
        self.digests.append(bytes.fromhex(examined.digest))
        self.leaves.append(examined.leaf)
        return True

    def done(self) -> Run:
        return Run(self.seq, self.prev, self.kind, b"".join(self.digests), b"".join(self.leaves))


def _check_columns(found: list[Problem], row: RecordRow, opened: Opened) -> str | None:
    """Report columns that differ from the signed record; the signed input digest."""
    keyids = tuple(s.keyid for s in opened.envelope.signatures)
    try:
        expected = expected_columns(opened.kind, opened.predicate, keyids, opened.digest)
    except (UnknownRecordKind, KeyError, TypeError) as exc:
        found.append(
            (opened.seq, "malformed", f"the signed record lacks what its kind needs: {exc!r}")
        )
        return None
    if row_matches(row, expected):
        return expected["input_digest"]
    differ = mismatches({name: str(getattr(row, name)) for name in expected}, expected)
    if differ:
        found.append(
            (
                opened.seq,
                "column mismatch",
                "the columns queries filter on differ from the signed record: "
                + "; ".join(differ)
                + ". The database was edited; listings of this record are wrong",
            )
        )
    return expected["input_digest"]


def _check_input(found: list[Problem], seq: int, digest: str, document: bytes | None) -> None:
    if document is None:
        found.append(
            (
                seq,
                "input missing",
                f"the input document {digest} is not in the ledger: it was deleted, so "
                "the decision cannot be re-evaluated",
            )
        )
    elif sha256_digest(document) != digest:
        found.append(
            (
                seq,
                "input altered",
                f"the stored input document {digest} hashes to "
                f"{sha256_digest(document)}: it was altered after it was recorded",
            )
        )


def _check_policy_files(found: list[Problem], store: Store, opened: Opened) -> None:
    """Each file a policy_revision record names is stored under its digest and hashes to it."""
    try:
        named = [(str(f["path"]), str(f["digest"])) for f in opened.predicate["files"]]
    except (KeyError, TypeError) as exc:
        found.append(
            (opened.seq, "malformed", f"the policy revision record lists no files: {exc!r}")
        )
        return
    for path, digest in named:
        content = store.content(digest)
        if content is None:
            found.append(
                (
                    opened.seq,
                    "policy file missing",
                    f"the archived policy file {path} ({digest}) is not in the ledger: it was "
                    "deleted, so the revision's files cannot be shown",
                )
            )
        elif sha256_digest(content) != digest:
            found.append(
                (
                    opened.seq,
                    "policy file altered",
                    f"the archived policy file {path} ({digest}) hashes to "
                    f"{sha256_digest(content)}: it was altered after it was recorded",
                )
            )
