"""The audit ledger: each decision signed into the hash chain and stored before it is answered."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from service.audit.checkpoint import seal_checkpoint
from service.audit.clock import format_time, parse_time, utc_now
from service.audit.columns import event_columns, expected_columns, mismatches
from service.audit.envelope import (
    PAYLOAD_TYPE,
    MalformedEnvelope,
    open_envelope,
    seal,
    statement_payload,
)
from service.audit.keys import (
    KeyFiles,
    Keyring,
    KeyringSource,
    KeySource,
    SigningKey,
    ensure_default_keys,
    load_keyring,
)
from service.audit.kinds import DecisionColumns, kind_of_predicate, record_kind
from service.audit.merkle import MerkleFrontier, leaf_hash
from service.audit.receipt import AuditReceipt
from service.audit.records import LedgerRecord, PendingRecord
from service.audit.storecheck import verify_store
from service.audit.stores.base import (
    ChainWriter,
    RecordFilter,
    RecordRow,
    Store,
    StoredCheckpoint,
    iter_envelopes,
)
from service.audit.verify import VerifyReport, signature_problem
from service.canonical import canonical_json, sha256_digest
from service.errors import (
    AuditKeyMissing,
    AuditWriteFailed,
    LedgerTampered,
    NotFound,
    UsageError,
)
from service.settings import Settings

# The id of the row a readiness probe writes and undoes (check_writable); never committed.
PROBE_RECORD_ID = "mlgate-readiness-probe"


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
    ) -> None:
        """`keyring` checks the signature of every record read (find, get); by default the
        keyring beside `keys`. A ledger with neither checks the columns of what it lists only."""
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

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
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
            seq, prev = tail.seq, tail.envelope_hash
            frontier = self._current_frontier(seq)
            now = utc_now()
            at = format_time(now)
            key = keys.current(now)
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
                for attachment in record.attachments:
                    chain.insert_input(sha256_digest(attachment), attachment)
                chain.insert_input(record.digest, record.document)
                chain.insert_record(
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
                    )
                )
                if frontier is not None:
                    frontier.append(leaf_hash(envelope))
                if seq % self.checkpoint_every == 0:
                    frontier = _checkpoint(chain, seq, key, now, frontier)[1]
                receipts.append((i, AuditReceipt(seq=seq, envelope_digest="sha256:" + prev)))
        self._frontier = frontier  # only now: the transaction has committed
        return receipts

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
        record = PendingRecord(
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
            attachments=tuple(attachments),
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
            size = chain.tail().seq
            envelope, frontier = _checkpoint(
                chain, size, keys.current(now), now, self._current_frontier(size)
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
            size = chain.tail().seq
            latest = chain.latest_checkpoint()
            if size == 0 or (latest is not None and latest.size >= size):
                return None
            now = utc_now()
            envelope, frontier = _checkpoint(
                chain, size, keys.current(now), now, self._current_frontier(size)
            )
        self._frontier = frontier
        return envelope

    def check_writable(self) -> None:
        """Raise AuditWriteFailed (AuditKeyMissing for keys) if a record could not be written now.

        For readiness probes: takes the chain lock once, has the store probe a record's write
        (`ChainWriter.probe`), and commits nothing.
        """
        keys = self._writer_keys()
        with self.store.write() as chain:
            now = utc_now()
            key = keys.current(now)
            tail = chain.tail()
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
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        before_seq: int | None = None,
        limit: int = 100,
    ) -> list[LedgerRecord]:
        """Records newest first, recorded in [since, until); page with `before_seq`.

        `before_seq` is the lowest seq of the previous page; `limit` is capped at 10,000.
        """
        query = RecordFilter(
            kind=kind,
            model=model,
            caller=caller,
            artifact_digest=artifact_digest,
            stage=stage,
            version=version,
            gate=gate,
            outcome=outcome,
            since=_ledger_time("since", since),
            until=_ledger_time("until", until),
            before_seq=before_seq,
            limit=max(1, min(limit, 10_000)),
        )
        rows = self.store.find(query)
        self._check_read(*rows)
        return [LedgerRecord.from_row(row) for row in rows]

    def iter_find(self, *, page: int = 100, **filters: Any) -> Iterator[LedgerRecord]:
        """Every record `find(**filters)` matches, newest first, read a page at a time: for a
        reader that stops at the first that suits it, with no limit to fall short of."""
        before: int | None = None
        while True:
            found = self.find(**filters, before_seq=before, limit=page)
            yield from found
            if len(found) < page:
                return
            before = found[-1].seq

    def _check_read(self, *rows: RecordRow) -> None:
        """LedgerTampered unless each row's signature verifies with the keyring and its columns
        (what a query filters on) are what it signs: a record edited in the database, even
        with its columns made to match, is never listed nor relied on by a decision."""
        if not rows:
            return
        keyring = self.keyring.current() if self.keyring is not None else None
        for row in rows:
            _check_listed(row, self.store.description, keyring)

    def last_seq(self) -> int:
        return self.store.last_seq()

    def envelopes(self) -> Iterator[bytes]:
        """Every record's envelope in seq order, byte for byte as stored (for export)."""
        return iter_envelopes(self.store)

    def input_document(self, digest: str) -> dict[str, Any]:
        """The input a decision was made on, checked against its digest."""
        document = self.store.input_document(digest)
        if document is None:
            raise NotFound(f"no input document {digest} in the {self.store.description}")
        if sha256_digest(document) != digest:
            raise NotFound(
                f"the stored input document {digest} no longer matches its digest "
                f"(it hashes to {sha256_digest(document)}): it was altered"
            )
        loaded: dict[str, Any] = json.loads(document)
        return loaded

    def stored_content(self, digest: str) -> bytes | None:
        """The bytes stored content-addressed under `digest` ("sha256:<hex>"), unchecked (the
        caller compares them with the digest its signed record names); None if absent."""
        return self.store.input_document(digest)

    def stored_checkpoints(self) -> list[bytes]:
        return self.store.checkpoint_envelopes()

    def verify(
        self,
        keyring: Keyring,
        *,
        checkpoints: Sequence[bytes | tuple[str, bytes]] = (),
        progress: Callable[[int], None] | None = None,
        inputs: bool = True,
    ) -> VerifyReport:
        """Verify every stored record, against the ledger's own checkpoints and `checkpoints`
        (bytes, or (where it was kept, bytes)): signatures, chain, every indexed column, and
        with `inputs` that each input document is there and matches its digest."""
        stored: list[bytes | tuple[str, bytes]] = [
            (f"checkpoint stored in the {self.store.description}", raw)
            for raw in self.stored_checkpoints()
        ]
        return verify_store(self.store, keyring, [*stored, *checkpoints], progress, inputs=inputs)


def _check_listed(row: RecordRow, where: str, keyring: Keyring | None) -> None:
    """LedgerTampered if a read row's signature does not verify with `keyring` (when given),
    or its columns (what the query filtered on) are not what its envelope signs."""
    try:
        envelope = open_envelope(row.envelope)
        statement = envelope.statement()
        kind = kind_of_predicate(str(statement.get("predicateType")))
        if kind is None:
            raise MalformedEnvelope(f"predicateType is {statement.get('predicateType')!r}")
        keyids = tuple(s.keyid for s in envelope.signatures)
        expected = expected_columns(kind.name, statement["predicate"], keyids, row.envelope)
        recorded_at = parse_time(statement["predicate"]["recorded_at"])
    except (ValueError, KeyError, TypeError) as exc:
        raise LedgerTampered(
            f"record seq {row.seq} in the {where} cannot be read ({exc}); run `mlgate audit verify`"
        ) from None
    if keyring is not None:
        problem = _signature_problem(row.envelope, recorded_at, keyring)
        if problem is not None:
            raise LedgerTampered(
                f"record seq {row.seq} in the {where} is not validly signed ({problem}): "
                "it cannot be trusted, listed or relied on; run `mlgate audit verify`"
            )
    found = mismatches({n: str(getattr(row, n)) for n in expected}, expected)
    if found:
        raise LedgerTampered(
            f"record seq {row.seq} in the {where} is listed by columns that differ from its "
            f"signed record ({'; '.join(found)}): the database was edited, so this listing "
            "cannot be trusted; run `mlgate audit verify`"
        )


@lru_cache(maxsize=4096)
def _signature_problem(raw: bytes, recorded_at: datetime, keyring: Keyring) -> str | None:
    """The signature problem of an envelope, remembered per (bytes, keyring): the records each
    decision reads (history, sign-offs, the recorded tier) are mostly the same ones again."""
    found = signature_problem(open_envelope(raw), recorded_at, keyring)
    return None if found is None else f"{found[0]}: {found[1]}"


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
    key: SigningKey,
    now: datetime,
    frontier: MerkleFrontier | None = None,
) -> tuple[bytes, MerkleFrontier]:
    """Sign and store a checkpoint of the first `size` records; its envelope and frontier.

    `frontier`, if it is of `size` records, is used as it is; otherwise the latest stored
    checkpoint's frontier is extended by the records stored after it.
    """
    if frontier is not None and frontier.size == size:
        return _sign_checkpoint(chain, frontier, key, now), frontier
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
    return _sign_checkpoint(chain, frontier, key, now), frontier


def _sign_checkpoint(
    chain: ChainWriter, frontier: MerkleFrontier, key: SigningKey, now: datetime
) -> bytes:
    envelope = seal_checkpoint(frontier.size, frontier.root(), now, key)
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
    if url.startswith("sqlite:///"):
        from service.audit.stores.sqlite import SqliteStore

        return SqliteStore(Path(url.removeprefix("sqlite:///")), create=create)
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
) -> VerifyReport:
    """The configured ledger checked with the configured keyring, as `mlgate audit verify` does.

    Here, beside the ledger: the verifier is handed records and opens no ledger by itself."""
    keyring = load_keyring(settings.resolved_keyring)
    ledger = open_ledger(settings, create=False)
    try:
        return ledger.verify(keyring, checkpoints=checkpoints, progress=progress, inputs=inputs)
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
    )


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
