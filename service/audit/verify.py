"""Walks ledger records as stored and reports, by seq, every break in signatures, chain or size."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from service.audit.checkpoint import Checkpoint, CheckpointInvalid, open_checkpoint
from service.audit.clock import format_time, parse_time
from service.audit.envelope import (
    GENESIS_PREV,
    PAYLOAD_TYPE,
    Envelope,
    MalformedEnvelope,
    open_envelope,
)
from service.audit.keys import Keyring
from service.audit.kinds import kind_of_predicate
from service.audit.merkle import MerkleFrontier, leaf_hash

ProblemKind = Literal[
    "malformed",
    "bad signature",
    "unknown key",
    "key not valid",
    "bad prev hash",
    "sequence gap",
    "out of order",
    "duplicate seq",
    "truncated",
    "checkpoint mismatch",
    "bad checkpoint",
    "keyring mismatch",
    "column mismatch",
    "input missing",
    "input altered",
    "policy file missing",
    "policy file altered",
]
PROGRESS_EVERY = 1000


@dataclass(frozen=True)
class Problem:
    seq: int  # the record's seq (or where it should be); 0 for a checkpoint of unknown size
    kind: ProblemKind
    message: str
    position: int | None = None  # 1-based place in the walk; None when no record is there

    def line(self) -> str:
        return f"seq {self.seq}: {self.kind}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": self.kind,
            "message": self.message,
            "position": self.position,
        }


@dataclass
class VerifyReport:
    records: int = 0
    valid: int = 0
    last_seq: int = 0
    problems: list[Problem] = field(default_factory=list)
    checkpoints_matched: list[str] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)  # records read, by kind
    # With a walk from a checkpoint: the records before it, not checked here, and what vouches.
    unchecked: int = 0
    vouched_by: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def summary(self) -> str:
        """One line: `2000/2000 records valid; ...`."""
        counted = f"{self.valid}/{self.records} records valid"
        if self.kinds:
            each = [f"{n} {k.replace('_', ' ')}{'s' * (n != 1)}" for k, n in self.kinds.items()]
            counted += f" ({', '.join(each)})"
        matched = len(self.checkpoints_matched)
        if self.ok:
            checks = (
                f"{matched} checkpoint{'s' if matched != 1 else ''} matched"
                if matched
                else "no checkpoint to compare, so a removed tail would go unnoticed"
            )
            return f"{counted}; {self._chain()}; {checks}{self._unchecked_note()}"
        kinds = Counter(p.kind for p in self.problems)
        listed = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        problems = f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        return f"{counted}; {problems}: {listed}{self._unchecked_note()}"

    def _chain(self) -> str:
        if self.last_seq > self.unchecked:
            return f"chain intact from seq {self.unchecked + 1} to {self.last_seq}"
        return "no records after the checkpoint" if self.unchecked else "no records"

    def _unchecked_note(self) -> str:
        if not self.unchecked:
            return ""
        return (
            f"; NOT checked here: records 1 to {self.unchecked} (their signatures, chain, "
            f"columns and input documents), which the {self.vouched_by} vouches for; a full "
            "`mlgate audit verify` checks them"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": self.records,
            "valid": self.valid,
            "last_seq": self.last_seq,
            "checkpoints_matched": self.checkpoints_matched,
            "kinds": self.kinds,
            "unchecked": self.unchecked,
            "problems": [p.to_json() for p in self.problems],
            "summary": self.summary,
        }


@dataclass(frozen=True)
class Examined:
    """What one record's bytes say on their own, before its place in the chain is known: the
    costly part of verification (parsing, the signature), so it can run on any core."""

    digest: str  # sha256 hex of the exact bytes: the next record's prev
    leaf: bytes  # its RFC 6962 leaf hash
    unreadable: str | None = None  # why it cannot be read; the rest is then empty
    seq: int = 0
    prev: str = ""
    kind: str = ""
    signature: tuple[ProblemKind, str] | None = None  # None: validly signed


@dataclass(frozen=True)
class Run:
    """Records examined in another process that follow one another with nothing to report:
    each readable, of one kind, validly signed, its seq one more than the one before and its
    prev the SHA-256 of the one before. Sent as two byte strings instead of an Examined per
    record, so the way back to the process walking the chain costs little beside the records.
    """

    seq: int  # the first record's seq
    prev: str  # the first record's prev
    kind: str
    digests: bytes  # each record's SHA-256, 32 bytes each, in order
    leaves: bytes  # each record's RFC 6962 leaf hash, 32 bytes each, in order

    def __len__(self) -> int:
        return len(self.digests) // 32

    def examined(self) -> Iterator[Examined]:
        """Each record of the run as an Examined of its own."""
        prev = self.prev
        for i in range(len(self)):
            digest = self.digests[32 * i : 32 * i + 32].hex()
            leaf = self.leaves[32 * i : 32 * i + 32]
            yield Examined(digest, leaf, None, self.seq + i, prev, self.kind, None)
            prev = digest


@dataclass(frozen=True)
class Start:
    """Where a walk starts that checks only the records after a trusted checkpoint: its size,
    the Merkle frontier of those records (its root is the checkpoint's) and the SHA-256 hex of
    the envelope of its last record (the checkpoint signs it)."""

    size: int
    frontier: MerkleFrontier
    head: str
    described: str  # the checkpoint, for the report


@dataclass(frozen=True)
class Opened:
    """A record the verifier could read: its seq, kind, envelope and signed predicate."""

    seq: int
    kind: str
    envelope: Envelope
    predicate: dict[str, Any]
    signed: bool  # a signature by a known, valid key covers it
    digest: str  # the SHA-256 of the envelope's bytes, hex


def verify_envelopes(
    envelopes: Iterable[bytes],
    keyring: Keyring,
    checkpoints: Sequence[bytes | tuple[str, bytes]] = (),
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Verify records in the order given (stored order, or an export's lines)."""
    verifier = ChainVerifier(keyring, checkpoints)
    for raw in envelopes:
        verifier.feed(raw)
        if progress is not None and verifier.position % PROGRESS_EVERY == 0:
            progress(verifier.position)
    if progress is not None:
        progress(verifier.position)
    return verifier.finish()


def signature_problem(
    envelope: Envelope, recorded_at: datetime, keyring: Keyring
) -> tuple[ProblemKind, str] | None:
    """None if some signature is by a known key, verifies, and the key was valid at the time."""
    signed = envelope.signed_bytes()
    found: list[tuple[ProblemKind, str]] = []
    for signature in envelope.signatures:
        named = f"key {signature.keyid}" if signature.keyid else "a signature without a key id"
        entries = keyring.candidates(signature.keyid)
        if not entries:
            found.append(
                (
                    "unknown key",
                    f"signed by {named}, which is not in the keyring "
                    f"{keyring.source}; add its public key if it is yours",
                )
            )
            continue
        verified = [e for e in entries if e.verify(signature.sig, signed)]
        if not verified:
            found.append(
                (
                    "bad signature",
                    f"the signature by {named} does not match the record's bytes"
                    + ("" if signature.keyid else " under any key in the keyring")
                    + ": the record was altered after it was signed",
                )
            )
        elif not any(e.is_valid_at(recorded_at) for e in verified):
            entry = verified[0]
            found.append(
                (
                    "key not valid",
                    f"recorded at {format_time(recorded_at)} with key {entry.keyid}, which "
                    f"is valid {entry.window()}",
                )
            )
        else:
            return None
    severity: list[ProblemKind] = ["bad signature", "key not valid", "unknown key"]
    return min(found, key=lambda item: severity.index(item[0]))


def open_record(raw: bytes, keyring: Keyring) -> tuple[Examined, Opened | None]:
    """Examine one record's bytes; with what it holds when it could be read."""
    digest = hashlib.sha256(raw).hexdigest()
    leaf = leaf_hash(raw)
    try:
        envelope = open_envelope(raw)
        if envelope.payload_type != PAYLOAD_TYPE:
            raise MalformedEnvelope(f"payloadType is {envelope.payload_type!r}")
        statement = envelope.statement()
        kind = kind_of_predicate(str(statement.get("predicateType")))
        if kind is None:
            raise MalformedEnvelope(f"predicateType is {statement.get('predicateType')!r}")
        predicate = statement["predicate"]
        seq, prev = predicate["seq"], predicate["prev"]
        if type(seq) is not int or seq < 1 or not isinstance(prev, str):
            raise MalformedEnvelope("seq must be a positive integer and prev a string")
        recorded_at = parse_time(predicate["recorded_at"])
    except (MalformedEnvelope, KeyError, ValueError, TypeError) as exc:
        return Examined(digest, leaf, unreadable=str(exc)), None
    found = signature_problem(envelope, recorded_at, keyring)
    examined = Examined(digest, leaf, None, seq, prev, kind.name, found)
    return examined, Opened(seq, kind.name, envelope, predicate, found is None, digest)


def _distinct(
    checkpoints: Sequence[bytes | tuple[str, bytes]],
) -> list[tuple[str, bytes]]:
    """(source, bytes) of each checkpoint given, the first of identical ones only."""
    seen: set[bytes] = set()
    found: list[tuple[str, bytes]] = []
    for item in checkpoints:
        source, raw = item if isinstance(item, tuple) else ("checkpoint", item)
        if raw.strip() not in seen:
            seen.add(raw.strip())
            found.append((source, raw))
    return found


class _Gaps:
    """Seq ranges not seen yet; gaps are rare, so a short list of ranges is enough."""

    def __init__(self) -> None:
        self.ranges: list[tuple[int, int]] = []

    def add(self, low: int, high: int) -> None:
        self.ranges.append((low, high))

    def take(self, seq: int) -> bool:
        """Remove `seq` if it was missing; True if it was."""
        for i, (low, high) in enumerate(self.ranges):
            if low <= seq <= high:
                pieces = [(low, seq - 1), (seq + 1, high)]
                self.ranges[i : i + 1] = [(a, b) for a, b in pieces if a <= b]
                return True
        return False


class ChainVerifier:
    """Feed it envelopes one by one; `finish()` gives the report.

    The chain is checked by seq, not by position: record n's prev must be the SHA-256 of the
    record with seq n-1 wherever it is, so a swap shows up as one reordering, not a cascade.
    """

    def __init__(
        self,
        keyring: Keyring,
        checkpoints: Sequence[bytes | tuple[str, bytes]] = (),
        start: Start | None = None,
    ) -> None:
        """With `start`, the walk begins after the records a trusted checkpoint covers: the
        first record fed must be seq start.size + 1 and chain to start.head; checkpoints of
        no more records than it are not compared (the records they cover are not read)."""
        self.keyring = keyring
        self.start = start
        self.position = 0
        self.problems: list[Problem] = []
        self._bad_positions: set[int] = set()
        self._max_seq = 0
        self._gaps = _Gaps()
        self._last: tuple[int, str] | None = None  # (seq, sha256 hex) of the previous record
        self._orphans: dict[int, str] = {}  # hashes of records not directly followed by seq+1
        self._waiting: dict[int, list[tuple[int, str, int]]] = {}  # seq-1 -> (seq, prev, pos)
        self._frontier = MerkleFrontier()
        self._matched: list[Checkpoint] = []
        self._kinds: Counter[str] = Counter()
        valid: dict[tuple[int, bytes], Checkpoint] = {}
        for source, raw in _distinct(checkpoints):
            try:
                checkpoint = open_checkpoint(raw, keyring)
            except CheckpointInvalid as exc:
                self._checkpoint_problem(source, exc)
            else:
                valid.setdefault((checkpoint.size, checkpoint.root), checkpoint)
        # pop() = smallest; one checkpoint the ledger stored and a verifier kept is one check.
        self._checkpoints = sorted(valid.values(), key=lambda c: c.size, reverse=True)
        if start is not None:
            self.position = self._max_seq = start.size
            self._last = (start.size, start.head)
            self._frontier = start.frontier.copy()
            self._checkpoints = [c for c in self._checkpoints if c.size > start.size]
        self._compare_checkpoints()

    def _checkpoint_problem(self, source: str, exc: CheckpointInvalid) -> None:
        if exc.unknown_key:
            self._problem(
                exc.size or 0,
                "keyring mismatch",
                f"the {source} was signed by a key that the keyring {self.keyring.source} does "
                f"not hold ({exc}): either the checkpoint is another ledger's, or the keyring was "
                "replaced, as it would be to re-sign a rewritten history. Verify with the "
                "keyring kept beside the checkpoint (--keyring)",
                None,
            )
        else:
            self._problem(exc.size or 0, "bad checkpoint", f"the {source}: {exc}", None)

    def feed(self, raw: bytes) -> Opened | None:
        """Check one record; what it holds if it could be read (even with a bad signature)."""
        examined, opened = open_record(raw, self.keyring)
        self.account(examined)
        return opened

    def account(self, examined: Examined) -> None:
        """Place a record examined (here or in another process) in the chain, in stored order."""
        self.position += 1
        position = self.position
        self._frontier.append(examined.leaf)
        if examined.unreadable is not None:
            # Unreadable, so its seq is unknown: it stands where the next seq would be.
            seq = self._max_seq + 1
            self._problem(
                seq,
                "malformed",
                f"the record at position {position} cannot be read: {examined.unreadable}",
                position,
            )
            self._place(seq, examined.digest, None)
            self._compare_checkpoints()
            return
        self._kinds[examined.kind] += 1
        if examined.signature is not None:
            self._problem(examined.seq, *examined.signature, position)
        self._place(examined.seq, examined.digest, examined.prev)
        self._compare_checkpoints()

    def account_run(self, run: Run) -> None:
        """Place a Run as `account` would place each of its records, one by one.

        When the run's first record extends the chain (its seq one past the largest so far),
        each later one does too and chains to the one before (the run says so), so nothing is
        left to check for them but the checkpoints: they are placed in bulk. Otherwise (a run
        moved or copied in the database) each record is placed on its own."""
        records = run.examined()
        if run.seq != self._max_seq + 1:
            for examined in records:
                self.account(examined)
            return
        self.account(next(records))
        leaves, count = run.leaves, len(run)
        for i in range(1, count):
            self.position += 1
            self._frontier.append(leaves[32 * i : 32 * i + 32])
            if self._checkpoints and self._checkpoints[-1].size <= self.position:
                self._compare_checkpoints()
        if count > 1:
            self._max_seq = run.seq + count - 1
            self._last = (self._max_seq, run.digests[-32:].hex())
            self._kinds[run.kind] += count - 1

    def record_problem(self, seq: int, kind: ProblemKind, message: str) -> None:
        """A problem found outside the chain (its columns, its input) with the record just fed."""
        self._problem(seq, kind, message, self.position)

    def finish(self) -> VerifyReport:
        for low, high in self._gaps.ranges:
            span = f"seq {low}" if low == high else f"seq {low}..{high} ({high - low + 1} records)"
            self._problem(
                low,
                "sequence gap",
                f"{span} missing: the ledger jumps from seq {low - 1} to seq {high + 1}",
                position=None,
            )
        for checkpoint in reversed(self._checkpoints):
            removed = (
                f"records after seq {self._max_seq} were removed"
                if self.position == self._max_seq
                else "records were removed"
            )
            self._problem(
                self._max_seq + 1,
                "truncated",
                f"the {checkpoint.describe()} covers {checkpoint.size} records, but only "
                f"{self.position} are here: {removed}",
                position=None,
            )
        self._checkpoints = []
        unchecked = self.start.size if self.start is not None else 0
        return VerifyReport(
            records=self.position - unchecked,
            valid=self.position - unchecked - len(self._bad_positions),
            last_seq=self._max_seq,
            problems=sorted(self.problems, key=lambda p: p.seq),
            # The kept checkpoint a walk starts from was matched before the walk began: its
            # root is that of the Merkle frontier the ledger stored with it (Ledger.verify).
            checkpoints_matched=[
                *([self.start.described] if self.start is not None else []),
                *(c.describe() for c in self._matched),
            ],
            kinds=dict(self._kinds),
            unchecked=unchecked,
            vouched_by=self.start.described if self.start is not None else "",
        )

    def _problem(self, seq: int, kind: ProblemKind, message: str, position: int | None) -> None:
        if position is not None:
            self._bad_positions.add(position)
        self.problems.append(Problem(seq, kind, message, position))

    def _place(self, seq: int, digest: str, prev: str | None) -> None:
        """Sequence and chain bookkeeping for the record just read."""
        if seq == self._max_seq + 1:
            self._max_seq = seq
        elif seq > self._max_seq:
            self._gaps.add(self._max_seq + 1, seq - 1)
            self._max_seq = seq
        elif self._gaps.take(seq):
            self._problem(
                seq,
                "out of order",
                f"seq {seq} comes after seq {self._max_seq}: records were reordered",
                self.position,
            )
        else:
            self._problem(
                seq,
                "duplicate seq",
                f"seq {seq} appears again: a record was copied or replayed",
                self.position,
            )
        if prev is not None:
            self._check_own_prev(seq, prev)
        for successor, successor_prev, position in self._waiting.pop(seq, []):
            self._compare_prev(successor, successor_prev, digest, position)
        if self._last is not None and seq != self._last[0] + 1:
            self._orphans[self._last[0]] = self._last[1]
        self._last = (seq, digest)

    def _check_own_prev(self, seq: int, prev: str) -> None:
        if seq == 1:
            if prev != GENESIS_PREV:
                self._problem(
                    1,
                    "bad prev hash",
                    f"seq 1 must start the chain with prev = 64 zeros; found {prev[:16]}...",
                    self.position,
                )
        elif self._last is not None and self._last[0] == seq - 1:
            self._compare_prev(seq, prev, self._last[1], self.position)
        elif seq - 1 in self._orphans:
            self._compare_prev(seq, prev, self._orphans[seq - 1], self.position)
        else:
            self._waiting.setdefault(seq - 1, []).append((seq, prev, self.position))

    def _compare_prev(self, seq: int, prev: str, actual: str, position: int) -> None:
        if prev != actual:
            self._problem(
                seq,
                "bad prev hash",
                f"prev is {prev[:16]}..., but record {seq - 1} as stored hashes to "
                f"{actual[:16]}...: record {seq - 1} was altered or replaced after seq {seq} "
                "was written",
                position,
            )

    def _compare_checkpoints(self) -> None:
        while self._checkpoints and self._checkpoints[-1].size <= self.position:
            checkpoint = self._checkpoints.pop()
            if self._frontier.root() == checkpoint.root:
                self._matched.append(checkpoint)
            else:
                self._problem(
                    checkpoint.size,
                    "checkpoint mismatch",
                    f"the first {checkpoint.size} records do not hash to the root of the "
                    f"{checkpoint.describe()}: records up to seq {checkpoint.size} were "
                    "rewritten, removed or reordered since it was signed",
                    position=None,
                )
