"""What the ledger needs from a database: serialised chain appends and reads by seq or id."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from service.audit.columns import event_columns
from service.audit.envelope import GENESIS_PREV, open_envelope
from service.audit.kinds import DECISION, EventColumns, kind_of_predicate

# Columns copied out of the envelope so records can be found; verification never trusts them.
RECORD_COLUMNS = (
    "seq",
    "decision_id",
    "recorded_at",
    "gate",
    "outcome",
    "model_name",
    "model_version",
    "keyid",
    "input_digest",
    "envelope_hash",
    "envelope",
    "kind",
    "caller_id",
    "artifact_digest",
    "stage",
    "risk_tier",
    "alias",
    "rolled_back_version",
)
# Columns added after the first ledgers were written: a store adds any its table lacks when it
# opens (TEXT NOT NULL with this default). Each is copied from the signed envelope.
ADDED_COLUMNS = {
    "kind": DECISION,  # the ledgers written before other kinds held decisions only
    "caller_id": "",
    "artifact_digest": "",
    "stage": "",
    "risk_tier": "",
    "alias": "",
    "rolled_back_version": "",
}
# Columns whose values an older ledger's records hold in their signed content: filled in from
# each record's envelope when the column is added (service/audit/columns.py derives them).
BACKFILLED = ("alias", "rolled_back_version")
# Reads of the whole ledger go in pages by seq, so no transaction stays open for a long walk.
PAGE_SIZE = 1000


@dataclass(frozen=True)
class RecordRow:
    seq: int
    decision_id: str
    recorded_at: str
    gate: str
    outcome: str
    model_name: str
    model_version: str
    keyid: str
    input_digest: str
    envelope_hash: str  # sha256 hex of `envelope`, the next record's `prev`
    envelope: bytes
    kind: str = DECISION  # in audit/kinds.KINDS; other kinds keep their own id in `decision_id`
    caller_id: str = ""  # a decision's caller, a sign-off's approver
    artifact_digest: str = ""
    stage: str = ""  # a decision's target stage
    risk_tier: str = ""  # the tier a decision was judged under
    alias: str = ""  # an alias move's alias
    rolled_back_version: str = ""  # the version a rollback's alias move moved off


@dataclass(frozen=True)
class Tail:
    """The last record of the chain: seq 0 and the genesis hash when the ledger is empty."""

    seq: int = 0
    envelope_hash: str = GENESIS_PREV


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    frontier: bytes
    envelope: bytes


@dataclass(frozen=True)
class RecordFilter:
    kind: str | None = None
    model: str | None = None
    caller: str | None = None
    artifact_digest: str | None = None
    stage: str | None = None
    version: str | None = None
    gate: str | None = None
    outcome: str | None = None
    alias: str | None = None
    rolled_back_version: str | None = None
    since: str | None = None  # recorded_at >= since, in the ledger's own time format
    until: str | None = None  # recorded_at < until
    before_seq: int | None = None
    limit: int = 100


class ChainWriter(Protocol):
    """Operations inside one append transaction; nothing is visible until it commits."""

    def tail(self) -> Tail: ...

    def records_between(self, first: int, last: int) -> int:
        """How many records are stored with seq in [first, last] (an index range count)."""
        ...

    def envelope_hash_at(self, seq: int) -> str | None:
        """The envelope_hash column of the record stored at `seq`, None if there is none."""
        ...

    def insert_many(
        self,
        rows: Sequence[RecordRow],
        documents: Sequence[tuple[int, bytes]],
        contents: Sequence[tuple[str, bytes]] = (),
    ) -> None:
        """`contents` ((digest, bytes): policy files, kept once per digest), `documents`
        ((seq, input document): one per record) and then `rows`, in order: in as few round
        trips as the driver allows."""
        ...

    def latest_checkpoint(self) -> StoredCheckpoint | None: ...

    def envelopes_after(self, seq: int) -> Iterator[bytes]: ...

    def insert_checkpoint(self, checkpoint: StoredCheckpoint) -> None: ...

    def probe(self, row: RecordRow) -> None:
        """Write `row` as an append would and undo it, for readiness: raises as the append
        would if the database refuses the write; changes nothing."""
        ...


# How long a named lock (Store.exclusive) is waited for before giving up.
LOCK_TIMEOUT_S = 30.0


class Store(Protocol):
    """A ledger database. `write()` serialises appends across processes and machines.

    Every method raises AuditWriteFailed (writes) or LedgerUnreadable (reads) with a message
    naming the database and what to do; driver exceptions never leak.
    """

    description: str  # where the ledger is, for messages (no password)

    def write(self) -> AbstractContextManager[ChainWriter]:
        """A transaction holding the chain lock; commits durably on exit, rolls back on error."""
        ...

    def exclusive(self, name: str) -> AbstractContextManager[None]:
        """Hold the lock `name` against every process and machine using this ledger while the
        block runs (the chain lock is not taken: appends go on); AuditWriteFailed if it cannot
        be had within LOCK_TIMEOUT_S."""
        ...

    def last_seq(self) -> int: ...

    def record_by_seq(self, seq: int) -> RecordRow | None: ...

    def record_by_decision(self, decision_id: str) -> RecordRow | None: ...

    def find(self, query: RecordFilter) -> list[RecordRow]: ...

    def envelope_page(self, after_seq: int, limit: int) -> list[tuple[int, bytes]]: ...

    def row_page(self, after_seq: int, limit: int) -> list[RecordRow]:
        """Up to `limit` whole rows with seq > `after_seq`, in seq order."""
        ...

    def content(self, digest: str) -> bytes | None:
        """The bytes kept under `digest` ("sha256:<hex>"): a policy file, or an input document
        of a ledger written before documents were kept by seq; None if absent. Unchecked."""
        ...

    def contents(self, digests: Sequence[str]) -> dict[str, bytes]:
        """The bytes kept under each of `digests`, by digest (absent ones left out)."""
        ...

    def record_input(self, seq: int, digest: str) -> bytes | None:
        """The input document stored with the record at `seq` (whose signed record names
        `digest`); None if absent. Unchecked: the caller hashes it."""
        ...

    def record_inputs(self, first: int, last: int) -> dict[int, bytes]:
        """The input documents stored with the records of seq `first` to `last`, by seq (those
        of a ledger written before documents were kept by seq are left out: `content`)."""
        ...

    def checkpoint_envelopes(self) -> list[bytes]: ...

    def seq_after(self, after_seq: int, n: int) -> int | None:
        """The seq of the `n`th record after `after_seq` (n >= 1), or None if there are fewer."""
        ...

    def checkpoint_frontiers(self, size: int) -> list[bytes]:
        """The Merkle frontiers stored with checkpoints of `size` records, newest first."""
        ...

    def reader(self) -> Callable[[], Store]:
        """A picklable function that opens this ledger again for reading only, in another
        process (the verifier's workers)."""
        ...

    def close(self) -> None: ...


def iter_envelopes(store: Store) -> Iterator[bytes]:
    """Every stored envelope in seq order, exactly as stored."""
    after = 0
    while True:
        page = store.envelope_page(after, PAGE_SIZE)
        for _, envelope in page:
            yield envelope
        if len(page) < PAGE_SIZE:
            return
        after = page[-1][0]


def find_clauses(query: RecordFilter) -> tuple[list[str], list[object]]:
    """WHERE clauses for a filter, with `?` placeholders; stores adapt the placeholder."""
    clauses: list[str] = []
    params: list[object] = []
    for column, value in (
        ("kind", query.kind),
        ("caller_id", query.caller),
        ("artifact_digest", query.artifact_digest),
        ("stage", query.stage),
        ("model_name", query.model),
        ("model_version", query.version),
        ("gate", query.gate),
        ("outcome", query.outcome),
        ("alias", query.alias),
        ("rolled_back_version", query.rolled_back_version),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if query.since is not None:
        clauses.append("recorded_at >= ?")
        params.append(query.since)
    if query.until is not None:
        clauses.append("recorded_at < ?")
        params.append(query.until)
    if query.before_seq is not None:
        clauses.append("seq < ?")
        params.append(query.before_seq)
    return clauses, params


def stored_bytes(value: Any) -> bytes:
    """A value of a BLOB (SQLite) or bytea (PostgreSQL) column as bytes: an envelope, an input
    document or kept policy file, a checkpoint's frontier. SQLite keeps whatever type a row
    was given (https://www.sqlite.org/datatype3.html), so a value rewritten in the database
    (`CAST(document AS TEXT)`, `replace()`) may come back as TEXT: its UTF-8 bytes are what the
    signature, the chain or the digest are then checked against, so an edit is refused as any
    other edit is and an unaltered value still verifies."""
    return value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)


def row_from(values: Sequence[Any]) -> RecordRow:
    (
        seq,
        decision_id,
        recorded_at,
        gate,
        outcome,
        name,
        version,
        keyid,
        digest,
        ehash,
        env,
        *rest,
    ) = values
    return RecordRow(
        int(seq),
        str(decision_id),
        str(recorded_at),
        str(gate),
        str(outcome),
        str(name),
        str(version),
        str(keyid),
        str(digest),
        str(ehash),
        stored_bytes(env),
        *(str(value) for value in rest),
    )


# Indexes over the added columns, for the reads every decision makes (evidence/history.py,
# risk_tier.py, registry.py, the sign-off book): each seeks the newest rows it needs, in seq
# order, instead of reading and sorting the model's whole history.
ADDED_INDEXES = (
    "CREATE INDEX IF NOT EXISTS records_by_kind ON records (kind, model_name, model_version, seq)",
    "CREATE INDEX IF NOT EXISTS records_by_stage "
    "ON records (model_name, model_version, stage, seq)",
    "CREATE INDEX IF NOT EXISTS records_by_caller "
    "ON records (model_name, model_version, caller_id, seq)",
    # The decisions on one artifact under any name (risk_tier.py: a tier follows the artifact).
    "CREATE INDEX IF NOT EXISTS records_by_artifact ON records (kind, artifact_digest, seq)",
    # The newest record of a kind on a model, any version (its tier of record, tier changes).
    "CREATE INDEX IF NOT EXISTS records_by_model_kind ON records (kind, model_name, seq)",
    # The newest allow of a version at a stage, past any number of denies (history.py).
    "CREATE INDEX IF NOT EXISTS records_by_outcome "
    "ON records (kind, model_name, model_version, stage, outcome, seq)",
    # The newest move of one alias that took effect, past other aliases' moves (registry.py).
    "CREATE INDEX IF NOT EXISTS records_by_alias "
    "ON records (kind, model_name, alias, outcome, seq)",
    # The newest rollback of a version (history.py: its allows before then do not count).
    "CREATE INDEX IF NOT EXISTS records_by_rollback "
    "ON records (kind, model_name, rolled_back_version, seq)",
)


def added_column(name: str) -> str:
    """The ALTER TABLE that adds one of ADDED_COLUMNS to an older ledger's records table."""
    return f"ALTER TABLE records ADD COLUMN {name} TEXT NOT NULL DEFAULT '{ADDED_COLUMNS[name]}'"


def backfilled_values(rows: Iterable[tuple[int, bytes]]) -> list[tuple[object, ...]]:
    """(alias, rolled_back_version, seq) for each of `rows` (seq, envelope) whose signed content
    names them: the UPDATE parameters that fill BACKFILLED in a ledger written before those
    columns. An envelope that cannot be read is left as it is, for `mlgate audit verify` to
    report. The values are read, not trusted: verification compares them with what is signed."""
    values: list[tuple[object, ...]] = []
    for seq, envelope in rows:
        try:
            statement = open_envelope(stored_bytes(envelope)).statement()
            kind = kind_of_predicate(str(statement.get("predicateType")))
            if kind is None or not isinstance(kind.columns, EventColumns):
                continue
            columns = event_columns(kind.name, statement["predicate"])
        except (ValueError, KeyError, TypeError):
            continue
        if any(columns[name] for name in BACKFILLED):
            values.append((*(columns[name] for name in BACKFILLED), int(seq)))
    return values


def backfill_sql(placeholder: str) -> str:
    sets = ", ".join(f"{name} = {placeholder}" for name in BACKFILLED)
    return f"UPDATE records SET {sets} WHERE seq = {placeholder}"


def insert_record_sql(placeholder: str) -> str:
    marks = ", ".join([placeholder] * len(RECORD_COLUMNS))
    return f"INSERT INTO records ({', '.join(RECORD_COLUMNS)}) VALUES ({marks})"


def column_values(row: RecordRow) -> tuple[object, ...]:
    """The row's values in RECORD_COLUMNS order, for an INSERT."""
    return tuple(getattr(row, column) for column in RECORD_COLUMNS)
