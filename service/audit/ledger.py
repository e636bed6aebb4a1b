"""The audit ledger: each decision signed into the hash chain and stored before it is answered."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from service.audit.checkpoint import Checkpoint, CheckpointInvalid, open_checkpoint, seal_checkpoint
from service.audit.clock import format_time, parse_time, utc_now
from service.audit.columns import event_columns
from service.audit.envelope import (
    PAYLOAD_TYPE,
    seal,
    statement_payload,
)
from service.audit.headmark import HeadMark
from service.audit.keys import (
    KeyFiles,
    Keyring,
    KeyringSource,
    KeySource,
    SigningKey,
    ensure_default_keys,
    load_keyring,
)
from service.audit.kinds import DecisionColumns, record_kind
from service.audit.merkle import MerkleFrontier, leaf_hash
from service.audit.readcheck import ReadCheck
from service.audit.receipt import AuditReceipt
from service.audit.records import LedgerRecord, PendingRecord
from service.audit.storecheck import verify_store
from service.audit.stores.base import (
    ChainWriter,
    RecordFilter,
    RecordRow,
    Store,
    StoredCheckpoint,
    Tail,
    iter_envelopes,
)
from service.audit.verify import Problem, Start, VerifyReport
from service.canonical import canonical_json, parse_json, sha256_digest
from service.errors import (
    AuditKeyMissing,
    AuditWriteFailed,
    NotFound,
    UsageError,
)
from service.settings import Settings

# Below this many records to check, a verification stays in one process (starting workers
# would cost more than it saves).
PARALLEL_MIN = 20_000
# The id of the row a readiness probe writes and undoes (check_writable); never committed.
PROBE_RECORD_ID = "mlgate-readiness-probe"


# How many of the newest records every append checks are all still stored (_check_chain_kept).
RECENT_RECORDS_CHECKED = 1000
# The head mark is written when the ledger closes, and after an append at most this often: a
# write per append cost 19% of SQLite's append rate (bench/ledger.py), since each fsync of the
# ledger then also flushed the mark's page. A process killed leaves it up to this far behind.
HEAD_MARK_SECONDS = 1.0
log = logging.getLogger("mlgate.audit")

CHAIN_LOST_HINT = (
    "Nothing more is recorded: run `mlgate audit verify` to see what is missing, and restore "
    "the ledger from a backup"
)


class Ledger:
    """Records signed, chained records in a store (decisions and events), plus the reads audit
    needs."""

    def __init__(
        self,
        store: Store,
        keys: KeySource | None = None,
        *,
        checkpoint_every: int = 1000,
        keyring: KeyringSource | None = None,
        head_mark: HeadMark | None = None,
    ) -> None:
        """`keyring` checks the signature of every record read (find, get); by default the
        keyring beside `keys`. A ledger with neither checks the columns of what it lists only.
        `head_mark` keeps the newest record appended outside the database (service/audit/
        headmark.py); open_ledger gives one under the instance's home."""
        if checkpoint_every < 1:
            raise UsageError(f"checkpoint_every must be at least 1; found {checkpoint_every}")
        self.store = store
        self.keys = keys
        self.keyring = keyring or (KeyringSource(keys.files.keyring) if keys else None)
        self.checkpoint_every = checkpoint_every
        # The Merkle frontier of the chain as this ledger last committed it, extended by its own
        # appends, so a checkpoint need not read back the records since the previous one. Any
        # other writer's append makes it stale (its size is then not the tail's seq): unused.
        self._frontier: MerkleFrontier | None = None
        # The last record this ledger appended: the database must still hold it at every later
        # append (see _check_chain_kept).
        self._head: Tail | None = None
        self.head_mark = head_mark
        self._mark_due: Tail | None = None  # appended, not yet in the head mark
        self._mark_written_at = float("-inf")  # time.monotonic()
        # Records read and found valid, remembered so a decision does not verify again the
        # records the previous one read (service/audit/readcheck.py says what an edit does).
        self.read_check = ReadCheck()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._write_head_mark()
        self.store.close()

    def record(self, pending: PendingRecord) -> AuditReceipt:
        """Sign, chain and durably store one record and its document; AuditWriteFailed if not.

        A failure leaves nothing behind: the record, its document and any checkpoint are
        written in one transaction, so the chain never has a half-written link or a gap.
        """
        (result,) = self.record_batch([pending])
        if isinstance(result, AuditWriteFailed):
            raise result
        return result

    def record_batch(
        self, entries: Sequence[PendingRecord]
    ) -> list[AuditReceipt | AuditWriteFailed]:
        """Record each entry in one transaction: group commit.

        One fsync makes the whole batch durable, so a single writer keeps up with many
        deciders. The result for each entry is its receipt, or why it was not recorded: an
        entry whose document does not hash to its digest fails alone; if the transaction
        fails, every entry fails and nothing of the batch is stored.
        """
        results: dict[int, AuditReceipt | AuditWriteFailed] = {}
        accepted: list[tuple[int, PendingRecord]] = []
        for i, pending in enumerate(entries):
            digest = sha256_digest(pending.document)
            if digest == pending.digest:
                accepted.append((i, pending))
            else:
                results[i] = AuditWriteFailed(
                    f"{pending.kind} {pending.record_id} says its input digest is "
                    f"{pending.digest}, but the input document given hashes to {digest}; "
                    "record the document the decision was made on"
                )
        if accepted:
            try:
                receipts = self._append_records(accepted)
            except Exception as exc:  # the gate's contract: any failure is an AuditWriteFailed
                for i, pending in accepted:
                    results[i] = self._write_failure(pending, exc)
            else:
                for i, receipt in receipts:
                    results[i] = receipt
        return [results[i] for i in range(len(entries))]  # every entry has its result

    def _append_records(
        self, pending: list[tuple[int, PendingRecord]]
    ) -> list[tuple[int, AuditReceipt]]:
        keys = self._writer_keys()
        receipts: list[tuple[int, AuditReceipt]] = []
        with self.store.write() as chain:
            tail = chain.tail()
            self._check_chain_kept(chain, tail)
            seq, prev = tail.seq, tail.envelope_hash
            frontier = self._current_frontier(seq)
            now = utc_now()
            at = format_time(now)
            key = keys.current(now)
            rows: list[RecordRow] = []
            documents: list[tuple[int, bytes]] = []
            contents: list[tuple[str, bytes]] = []
            for i, record in pending:
                seq += 1
                payload = statement_payload(
                    record.subject,
                    record.predicate,
                    seq=seq,
                    prev=prev,
                    at=at,
                    kind=record.kind,
                )
                envelope = seal(PAYLOAD_TYPE, payload, key)
                prev = hashlib.sha256(envelope).hexdigest()
                contents.extend((sha256_digest(a), a) for a in record.attachments)
                documents.append((seq, record.document))
                rows.append(
                    RecordRow(
                        seq=seq,
                        decision_id=record.record_id,
                        recorded_at=at,
                        gate=record.gate,
                        outcome=record.outcome,
                        model_name=record.model_name,
                        model_version=record.model_version,
                        keyid=key.keyid,
                        input_digest=record.digest,
                        envelope_hash=prev,
                        envelope=envelope,
                        kind=record.kind,
                        caller_id=record.caller_id,
                        artifact_digest=record.artifact_digest,
                        stage=record.stage,
                        risk_tier=record.risk_tier,
                        alias=record.alias,
                        rolled_back_version=record.rolled_back_version,
                    )
                )
                if frontier is not None:
                    frontier.append(leaf_hash(envelope))
                if seq % self.checkpoint_every == 0:
                    chain.insert_many(rows, documents, contents)  # a checkpoint reads them
                    rows, documents, contents = [], [], []
                    frontier = _checkpoint(chain, seq, prev, key, now, frontier)[1]
                receipts.append((i, AuditReceipt(seq=seq, envelope_digest="sha256:" + prev)))
            chain.insert_many(rows, documents, contents)
        self._frontier = frontier  # only now: the transaction has committed
        self._head = Tail(seq, prev)
        if self.head_mark is not None:
            self._mark_due = self._head
            if time.monotonic() - self._mark_written_at >= HEAD_MARK_SECONDS:
                self._write_head_mark()
        return receipts

    def _write_head_mark(self) -> None:
        """Move the head mark to the last record appended, if it is not there yet."""
        due, self._mark_due = self._mark_due, None
        if due is None or self.head_mark is None:
            return
        try:
            self.head_mark.advance(due)
        except OSError as exc:  # recorded all the same: only a later check is weaker
            log.warning("head mark %s cannot be written: %s", self.head_mark.path, exc)
        self._mark_written_at = time.monotonic()

    def _check_chain_kept(self, chain: ChainWriter, tail: Tail) -> None:
        """Refuse to append (AuditWriteFailed) to a chain that lost records: one of the newest
        RECENT_RECORDS_CHECKED seqs is missing, or the record this ledger appended last, or the
        one its head mark names (the last any process sharing the instance's home appended,
        service/audit/headmark.py), is gone or was replaced.

        A record deleted in the database is evidence a decision no longer sees: a rejection or
        a waiver's withdrawal taken away would turn a deny into an allow. The decision is
        judged before its record is appended, and the answer leaves only after that, so a
        refused append makes the answer an error, never that allow. The check costs an index
        lookup and a count over a range of RECENT_RECORDS_CHECKED seqs, whatever the size of
        the ledger; a record deleted further back is found by `mlgate audit verify` (a gap).
        """
        head = self._head
        if head is not None and (lost := _lost(chain, tail, head)):
            raise AuditWriteFailed(
                f"the ledger's record {head.seq}, which this service appended, is {lost}: the "
                "database was edited. " + CHAIN_LOST_HINT
            )
        marks = self.head_mark
        if (
            marks is not None
            and (mark := marks.read()) is not None
            and not _covered(mark, head)
            and (lost := _lost(chain, tail, mark))
        ):
            raise AuditWriteFailed(
                f"the ledger's record {mark.seq}, which this instance appended last, is "
                f"{lost}: records were cut off the ledger's tail (the database was edited or "
                f"replaced). {CHAIN_LOST_HINT} that holds record {mark.seq}; if the ledger was "
                f"replaced on purpose, remove its head mark {marks.path}"
            )
        first = max(tail.seq - RECENT_RECORDS_CHECKED + 1, 1)
        if tail.seq and (found := chain.records_between(first, tail.seq)) != tail.seq - first + 1:
            raise AuditWriteFailed(
                f"the ledger holds {found} of its records {first} to {tail.seq}: records were "
                "deleted from the database. " + CHAIN_LOST_HINT
            )

    def record_event(
        self,
        kind: str,
        record_id: str,
        predicate: Mapping[str, Any],
        *,
        model: tuple[str, str, str | None] = ("", "", None),
        outcome: str = "",
        by: str = "",
        attachments: Sequence[bytes] = (),
    ) -> AuditReceipt:
        """Sign, chain and durably store a record that is not a decision: a sign-off
        (approval, waiver), a waiver's withdrawal, a policy reload or an alias move, one of
        the kinds in service/audit/kinds.py (UnknownRecordKind for any other).

        `predicate` is the record's own content (the chain adds seq, prev and recorded_at);
        `model` is (name, version, artifact digest) of the version it is about, if any, and
        `outcome` what it says (approved, rejected, granted, withdrawn, reloaded) and `by` who
        gave it: all are indexed for queries. `attachments` are contents the record names by
        their SHA-256 digest (a policy revision's files): stored content-addressed in the same
        transaction as the record, so no record names content the ledger lacks. Raises
        AuditWriteFailed if it cannot be stored.
        """
        record = pending_event(
            kind, record_id, predicate, model=model, outcome=outcome, by=by, attachments=attachments
        )
        try:
            ((_, receipt),) = self._append_records([(0, record)])
        except AuditWriteFailed:
            raise
        except Exception as exc:
            raise AuditWriteFailed(
                f"could not record the {kind.replace('_', ' ')} {record_id} in the "
                f"{self.store.description}: {type(exc).__name__}: {exc}"
            ) from None
        return receipt

    def _current_frontier(self, tail_seq: int) -> MerkleFrontier | None:
        """A copy of the cached frontier if it still describes the chain, else None."""
        cached = self._frontier
        if cached is None or cached.size != tail_seq:
            return None
        return cached.copy()

    def _write_failure(self, pending: PendingRecord, exc: Exception) -> AuditWriteFailed:
        if isinstance(exc, AuditWriteFailed):
            return exc
        failure = AuditWriteFailed(
            f"could not record {pending.kind} {pending.record_id} in the "
            f"{self.store.description}: {type(exc).__name__}: {exc}"
        )
        failure.__cause__ = exc
        return failure

    def exclusive(self, name: str) -> AbstractContextManager[None]:
        """The store's named lock, shared by every instance writing this ledger."""
        return self.store.exclusive(name)

    def checkpoint(self) -> bytes:
        """Sign and store a checkpoint of the ledger as it is now; returns its envelope bytes."""
        keys = self._writer_keys()
        with self.store.write() as chain:
            now = utc_now()
            tail = chain.tail()
            size = tail.seq
            envelope, frontier = _checkpoint(
                chain,
                size,
                tail.envelope_hash,
                keys.current(now),
                now,
                self._current_frontier(size),
            )
        self._frontier = frontier
        return envelope

    def checkpoint_if_behind(self) -> bytes | None:
        """A new checkpoint if records were added since the latest one, else None.

        For an idle timer in a long-running service, so the newest records are covered by a
        checkpoint without waiting for the next `checkpoint_every` records.
        """
        keys = self._writer_keys()
        with self.store.write() as chain:
            tail = chain.tail()
            size = tail.seq
            latest = chain.latest_checkpoint()
            if size == 0 or (latest is not None and latest.size >= size):
                return None
            now = utc_now()
            envelope, frontier = _checkpoint(
                chain,
                size,
                tail.envelope_hash,
                keys.current(now),
                now,
                self._current_frontier(size),
            )
        self._frontier = frontier
        return envelope

    def check_writable(self) -> None:
        """Raise AuditWriteFailed (AuditKeyMissing for keys) if a record could not be written now.

        For readiness probes: takes the chain lock once, checks the chain kept its records as
        an append would (_check_chain_kept: every append is refused while it has lost some),
        has the store probe a record's write (`ChainWriter.probe`), and commits nothing.
        """
        keys = self._writer_keys()
        with self.store.write() as chain:
            now = utc_now()
            key = keys.current(now)
            tail = chain.tail()
            self._check_chain_kept(chain, tail)
            empty = sha256_digest(b"")
            chain.probe(
                RecordRow(
                    seq=tail.seq + 1,
                    decision_id=PROBE_RECORD_ID,
                    recorded_at=format_time(now),
                    gate="",
                    outcome="",
                    model_name="",
                    model_version="",
                    keyid=key.keyid,
                    input_digest=empty,
                    envelope_hash=empty.removeprefix("sha256:"),
                    envelope=b"",
                )
            )

    def _writer_keys(self) -> KeySource:
        if self.keys is None:
            raise AuditWriteFailed(
                f"this ledger ({self.store.description}) was opened without a signing key, "
                "so it cannot record; open it with open_ledger(settings)"
            )
        return self.keys

    def get(self, decision_id: str) -> LedgerRecord:
        row = self.store.record_by_decision(decision_id)
        if row is None:
            raise NotFound(f"no decision {decision_id!r} in the {self.store.description}")
        self._check_read(row)
        return LedgerRecord.from_row(row)

    def get_seq(self, seq: int) -> LedgerRecord:
        row = self.store.record_by_seq(seq)
        if row is None:
            raise NotFound(
                f"no record with seq {seq} in the {self.store.description} "
                f"(it ends at seq {self.last_seq()})"
            )
        self._check_read(row)
        return LedgerRecord.from_row(row)

    def find(
        self,
        *,
        kind: str | None = None,
        model: str | None = None,
        caller: str | None = None,
        artifact_digest: str | None = None,
        stage: str | None = None,
        version: str | None = None,
        gate: str | None = None,
        outcome: str | None = None,
        alias: str | None = None,
        rolled_back_version: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        before_seq: int | None = None,
        limit: int = 100,
    ) -> list[LedgerRecord]:
        """Records newest first, recorded in [since, until); page with `before_seq`.

        `before_seq` is the lowest seq of the previous page; `limit` is capped at 10,000.
        """
        filters = {
            "kind": kind,
            "model": model,
            "caller": caller,
            "artifact_digest": artifact_digest,
            "stage": stage,
            "version": version,
            "gate": gate,
            "outcome": outcome,
            "alias": alias,
            "rolled_back_version": rolled_back_version,
            "since": since,
            "until": until,
        }
        rows = self.store.find(_record_filter(filters, before_seq, limit))
        self._check_read(*rows)
        return [LedgerRecord.from_row(row) for row in rows]

    def iter_find(self, *, page: int = 4, **filters: Any) -> Iterator[LedgerRecord]:
        """Every record `find(**filters)` matches, newest first, read a page at a time: for a
        reader that stops at the first that suits it, with no limit to fall short of. The
        first page holds `page` records and each next one four times more (up to 1,000), so a
        reader that stops early reads and checks a few records, not a hundred."""
        before: int | None = None
        while True:
            found = self.find(**filters, before_seq=before, limit=page)
            yield from found
            if len(found) < page:
                return
            before = found[-1].seq
            page = min(page * 4, 1000)

    def seqs(self, **filters: Any) -> Iterator[int]:
        """The seqs of every record `find(**filters)` matches, newest first, read NOT checked:
        for a reader that checks each record when it reads it (`get_seq`), in another process
        perhaps. A row whose columns were edited to fall outside the filters is missed here as
        `find` misses it; one edited to fall inside is refused when read."""
        before: int | None = None
        while True:
            rows = self.store.find(_record_filter(filters, before, 1000))
            yield from (row.seq for row in rows)
            if len(rows) < 1000:
                return
            before = rows[-1].seq

    def _check_read(self, *rows: RecordRow) -> None:
        """LedgerTampered unless each row's signature verifies with the keyring and its columns
        (what a query filters on) are what it signs: a record edited in the database, even
        with its columns made to match, is never listed nor relied on by a decision."""
        if not rows:
            return
        keyring = self.keyring.current() if self.keyring is not None else None
        for row in rows:
            self.read_check.check(row, self.store.description, keyring)

    def last_seq(self) -> int:
        return self.store.last_seq()

    def envelopes(self) -> Iterator[bytes]:
        """Every record's envelope in seq order, byte for byte as stored (for export)."""
        return iter_envelopes(self.store)

    def input_document(self, seq: int, digest: str) -> dict[str, Any]:
        """The input the record at `seq` was made on, checked against `digest`, the input
        digest its signed record names. NotFound if it is absent or does not hash to it."""
        document = self.store.record_input(seq, digest)
        if document is None:
            raise NotFound(
                f"no input document of record {seq} ({digest}) in the {self.store.description}"
            )
        if sha256_digest(document) != digest:
            raise NotFound(
                f"the stored input document {digest} no longer matches its digest "
                f"(it hashes to {sha256_digest(document)}): it was altered"
            )
        loaded: dict[str, Any] = parse_json(document)
        return loaded

    def stored_content(self, digest: str) -> bytes | None:
        """The bytes stored content-addressed under `digest` ("sha256:<hex>"): a policy file.
        Unchecked (the caller compares them with the digest its signed record names); None if
        absent."""
        return self.store.content(digest)

    def stored_input(self, seq: int, digest: str) -> bytes | None:
        """The input document stored with the record at `seq`, whose signed record names
        `digest`; unchecked, None if absent."""
        return self.store.record_input(seq, digest)

    def stored_checkpoints(self) -> list[bytes]:
        return self.store.checkpoint_envelopes()

    def verify(
        self,
        keyring: Keyring,
        *,
        checkpoints: Sequence[bytes | tuple[str, bytes]] = (),
        progress: Callable[[int], None] | None = None,
        inputs: bool = True,
        since_kept: bool = False,
        workers: int | None = 1,
    ) -> VerifyReport:
        """Verify every stored record, against the ledger's own checkpoints and `checkpoints`
        (bytes, or (where it was kept, bytes)): signatures, chain, every indexed column, and
        with `inputs` that each input document is there and matches its digest.

        With `since_kept`, only the records after the largest validly signed checkpoint among
        `checkpoints` (those kept away from the ledger) are checked, chained to the last record
        it names, once the Merkle frontier the ledger stored with it is found to hash to its
        root; the report says which records were not checked. UsageError when no checkpoint
        given can start such a walk. `workers` processes examine the records (None: one per
        core when there are at least PARALLEL_MIN records to check)."""
        stored: list[bytes | tuple[str, bytes]] = [
            (f"checkpoint stored in the {self.store.description}", raw)
            for raw in self.stored_checkpoints()
        ]
        start = None
        if since_kept:
            found = self._start_after(keyring, checkpoints)
            if isinstance(found, VerifyReport):
                return found
            start = found
        if workers is None:
            to_check = self.last_seq() - (start.size if start is not None else 0)
            workers = (os.cpu_count() or 1) if to_check >= PARALLEL_MIN else 1
        report = verify_store(
            self.store,
            keyring,
            [*stored, *checkpoints],
            progress,
            inputs=inputs,
            start=start,
            workers=workers,
        )
        truncation_found = any(p.kind == "truncated" for p in report.problems)  # a checkpoint's
        if not truncation_found and (cut := self._cut_below_head_mark()) is not None:
            report.problems.append(cut)
        return report

    def _cut_below_head_mark(self) -> Problem | None:
        """A tail cut off below the record the head mark names (service/audit/headmark.py):
        the chain that is left verifies, and only the mark knows it went further."""
        marks = self.head_mark
        if marks is None or (mark := marks.read()) is None:
            return None
        row = self.store.record_by_seq(mark.seq)
        if row is not None and row.envelope_hash == mark.envelope_hash:
            return None
        return Problem(
            mark.seq,
            "truncated",
            f"this instance appended record {mark.seq} (its head mark {marks.path}), which the "
            "ledger "
            + ("no longer holds" if row is None else "holds with another envelope")
            + ": records were cut off its tail",
        )

    def _start_after(
        self, keyring: Keyring, kept: Sequence[bytes | tuple[str, bytes]]
    ) -> Start | VerifyReport:
        """Where a walk from the largest valid kept checkpoint starts, or the report of why it
        cannot (the ledger no longer holds records that hash to that checkpoint's root)."""
        opened: list[tuple[str, Checkpoint]] = []
        refused: list[str] = []
        for item in kept:
            where, raw = item if isinstance(item, tuple) else ("checkpoint", item)
            try:
                opened.append((where, open_checkpoint(raw, keyring)))
            except CheckpointInvalid as exc:
                refused.append(f"{where}: {exc}")
        if not opened:
            raise UsageError(
                "--since-checkpoint starts after a checkpoint kept away from the ledger: give one "
                "with --checkpoint FILE (`mlgate audit checkpoint --output FILE` takes one)"
                + (f"; none given verifies ({'; '.join(refused)})" if refused else "")
            )
        where, checkpoint = max(opened, key=lambda item: item[1].size)
        if checkpoint.head is None:
            raise UsageError(
                f"the {where} ({checkpoint.describe()}) does not name its last record, as "
                "checkpoints taken by this version do: take a new one with `mlgate audit "
                "checkpoint --output FILE`, or verify the whole ledger"
            )
        for raw in self.store.checkpoint_frontiers(checkpoint.size):
            try:
                frontier = MerkleFrontier.from_bytes(checkpoint.size, raw)
            except ValueError:
                continue
            if frontier.root() == checkpoint.root:
                described = f"{checkpoint.describe()} ({where})"
                return Start(checkpoint.size, frontier, checkpoint.head, described)
        problem = Problem(
            checkpoint.size,
            "checkpoint mismatch",
            f"the {where} ({checkpoint.describe()}) has a Merkle root that no checkpoint "
            f"the {self.store.description} stored for {checkpoint.size} records has: the "
            "records it covers were rewritten or the ledger's checkpoints edited (or it is "
            "another ledger's checkpoint); nothing after it was checked. Run a full `mlgate "
            "audit verify --checkpoint FILE` to find what changed",
        )
        return VerifyReport(problems=[problem], unchecked=checkpoint.size, vouched_by=where)


def pending_event(
    kind: str,
    record_id: str,
    predicate: Mapping[str, Any],
    *,
    model: tuple[str, str, str | None] = ("", "", None),
    outcome: str = "",
    by: str = "",
    attachments: Sequence[bytes] = (),
) -> PendingRecord:
    """The pending record `Ledger.record_event` signs (the arguments are its), for a caller
    that records many in one transaction with `Ledger.record_batch`. Raises UnknownRecordKind
    for a kind not in service/audit/kinds.py and ValueError for a decision, or for `outcome`
    and `by` other than the record's content gives for its kind."""
    if isinstance(record_kind(kind).columns, DecisionColumns):
        raise ValueError(f"record_event takes a kind other than decision; found {kind!r}")
    indexed = event_columns(kind, predicate)
    if (indexed["outcome"], indexed["caller_id"]) != (outcome, by):
        # The verifier derives these columns from the signed content: they must agree.
        raise ValueError(
            f"a {kind} record's outcome and by must be {indexed['outcome']!r} and "
            f"{indexed['caller_id']!r} (service/audit/kinds.py); "
            f"found outcome={outcome!r}, by={by!r}"
        )
    document = canonical_json(dict(predicate))
    name, version, digest = model
    subject_digest = digest or sha256_digest(document)
    algorithm, _, value = subject_digest.partition(":")
    # A record about a version names it; one about a whole model (a tier change), the model.
    subject_name = f"{name}@{version}" if name and version else (name or kind)
    return PendingRecord(
        kind=kind,
        record_id=record_id,
        gate="",
        outcome=outcome,
        model_name=name,
        model_version=version,
        subject=[{"name": subject_name, "digest": {algorithm: value}}],
        predicate=dict(predicate),
        document=document,
        digest=sha256_digest(document),
        caller_id=by,
        artifact_digest=digest or "",
        stage=indexed["stage"],
        alias=indexed["alias"],
        rolled_back_version=indexed["rolled_back_version"],
        attachments=tuple(attachments),
    )


def _record_filter(filters: dict[str, Any], before_seq: int | None, limit: int) -> RecordFilter:
    """The store's query for `find`'s keyword filters; UsageError for a time bound that is not
    one (`_ledger_time`) and TypeError for a filter `find` does not take."""
    bounds = {name: _ledger_time(name, filters.get(name)) for name in ("since", "until")}
    return RecordFilter(
        **{**filters, **bounds},
        before_seq=before_seq,
        limit=max(1, min(limit, 10_000)),
    )


def _ledger_time(name: str, value: datetime | str | None) -> str | None:
    """A bound in the format recorded_at is stored in, so the database compares it as text."""
    if value is None:
        return None
    try:
        return format_time(parse_time(value) if isinstance(value, str) else value)
    except (ValueError, OverflowError):  # unparseable, or out of years 1-9999 once in UTC
        raise UsageError(
            f"{name} must be an ISO 8601 time such as 2026-01-31T00:00:00Z; found {value!r}"
        ) from None


def _checkpoint(
    chain: ChainWriter,
    size: int,
    head: str,
    key: SigningKey,
    now: datetime,
    frontier: MerkleFrontier | None = None,
) -> tuple[bytes, MerkleFrontier]:
    """Sign and store a checkpoint of the first `size` records, the last of which hashes to
    `head`; its envelope and frontier.

    `frontier`, if it is of `size` records, is used as it is; otherwise the latest stored
    checkpoint's frontier is extended by the records stored after it.
    """
    if frontier is not None and frontier.size == size:
        return _sign_checkpoint(chain, frontier, head, key, now), frontier
    latest = chain.latest_checkpoint()
    frontier = MerkleFrontier()
    if latest is not None and latest.size <= size:
        frontier = MerkleFrontier.from_bytes(latest.size, latest.frontier)
    for envelope in chain.envelopes_after(frontier.size):
        frontier.append(leaf_hash(envelope))
    if frontier.size != size:
        raise AuditWriteFailed(
            f"the ledger's last seq is {size} but it holds {frontier.size} records, so records "
            "are missing; no checkpoint was signed. Run `mlgate audit verify` to find them."
        )
    return _sign_checkpoint(chain, frontier, head, key, now), frontier


def _sign_checkpoint(
    chain: ChainWriter, frontier: MerkleFrontier, head: str, key: SigningKey, now: datetime
) -> bytes:
    envelope = seal_checkpoint(frontier.size, frontier.root(), now, key, head)
    chain.insert_checkpoint(StoredCheckpoint(frontier.size, frontier.to_bytes(), envelope))
    return envelope


def open_ledger_reader(settings: Settings) -> Ledger:
    """The ledger MLGATE_LEDGER_URL names, for reading only (no signing key is loaded; the
    keyring checks what is read); it is created, empty, if it does not exist yet, as a process
    beside the writer needs."""
    keyring = KeyringSource(KeyFiles.from_settings(settings).keyring)
    return Ledger(_open_store(settings, create=True), None, keyring=keyring)


def _open_store(settings: Settings, *, create: bool) -> Store:
    url = settings.resolved_ledger_url
    if (path := settings.sqlite_ledger) is not None:
        from service.audit.stores.sqlite import SqliteStore

        return SqliteStore(path, create=create)
    if url.startswith(("postgresql://", "postgres://")):
        from service.audit.stores.postgres import PostgresStore

        return PostgresStore(url, create=create)
    raise UsageError(
        f"MLGATE_LEDGER_URL must be sqlite:///PATH or postgresql://USER@HOST/DB; found {url!r}"
    )


def verify_ledger(
    settings: Settings,
    *,
    checkpoints: Sequence[bytes | tuple[str, bytes]] = (),
    progress: Callable[[int], None] | None = None,
    inputs: bool = True,
    since_kept: bool = False,
    workers: int | None = 1,
) -> VerifyReport:
    """The configured ledger checked with the configured keyring, as `mlgate audit verify` does
    (the arguments are Ledger.verify's).

    Here, beside the ledger: the verifier is handed records and opens no ledger by itself."""
    keyring = load_keyring(settings.resolved_keyring)
    ledger = open_ledger(settings, create=False)
    try:
        return ledger.verify(
            keyring,
            checkpoints=checkpoints,
            progress=progress,
            inputs=inputs,
            since_kept=since_kept,
            workers=workers,
        )
    finally:
        ledger.close()


def open_ledger(settings: Settings, *, create: bool = True) -> Ledger:
    """The ledger MLGATE_LEDGER_URL names, ready to record (or, with create=False, to read).

    Writing needs the signing key; the embedded default creates one on first use, but never
    for a ledger that already holds records: instances sharing a ledger share one keyring,
    and a key the ledger's keyring does not know is refused (AuditKeyMissing) with how to
    configure it.
    """
    store = _open_store(settings, create=create)
    if create:
        try:
            tail = store.record_by_seq(store.last_seq())
            if tail is None:
                ensure_default_keys(settings)
            else:
                _check_shared_keyring(settings, store.description, tail.keyid)
        except BaseException:
            store.close()
            raise
    return Ledger(
        store,
        KeySource(KeyFiles.from_settings(settings)),
        checkpoint_every=settings.checkpoint_every,
        head_mark=HeadMark(settings.home, _ledger_identity(settings, store.description)),
    )


def _lost(chain: ChainWriter, tail: Tail, record: Tail) -> str | None:
    """How the database lost `record` ("gone", "replaced"), or None while it holds it."""
    kept = chain.envelope_hash_at(record.seq) if record.seq <= tail.seq else None
    if kept == record.envelope_hash:
        return None
    return "gone" if kept is None else "replaced"


def _covered(mark: Tail, head: Tail | None) -> bool:
    """Whether the head check and the count of the newest seqs already cover the record the
    mark names: it is this ledger's own last record or one of the newest seqs before it."""
    return head is not None and 0 <= head.seq - mark.seq < RECENT_RECORDS_CHECKED


def _ledger_identity(settings: Settings, description: str) -> str:
    """Where the ledger is, one way however it is spelt: a SQLite file's resolved path (a
    relative one is relative to the working directory), else the store's description."""
    path = settings.sqlite_ledger
    return description if path is None else f"SQLite ledger {path.resolve()}"


def _check_shared_keyring(settings: Settings, where: str, last_keyid: str) -> None:
    """AuditKeyMissing unless this instance's keyring knows the key that signed the ledger's
    last record: otherwise its records would verify nowhere but here (`unknown key`)."""
    files = KeyFiles.from_settings(settings)
    how = (
        "instances sharing a ledger must share one keyring and signing key: copy the "
        "keys directory of the instance that writes it (or point MLGATE_SIGNING_KEY and "
        "MLGATE_KEYRING at the shared files); see README, 'Several instances'"
    )
    if not files.keyring.exists():
        raise AuditKeyMissing(
            f"the {where} already holds records signed by key {last_keyid}, and there is no "
            f"keyring at {files.keyring}, so this instance would sign with a key of its own "
            f"that no verifier of that ledger knows; {how}"
        )
    keyring = load_keyring(files.keyring)
    if keyring.get(last_keyid) is None:
        raise AuditKeyMissing(
            f"the {where} was last signed by key {last_keyid}, which the keyring "
            f"{files.keyring} does not hold: this instance's records would not verify with "
            f"that ledger's keyring (unknown key); {how}"
        )
