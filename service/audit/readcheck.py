"""The check every record read for a listing or a decision passes, remembered per record.

A record read from the database is trusted only when its signature verifies with the keyring,
the seq it signs is the seq it is stored under, and the columns the query filtered on are the
ones it signs. Signature checks are the costly part, and a decision reads mostly the records
the previous one read (the newest sign-offs, allows, alias moves of its model), so a record that
passed is remembered, in this process's memory, under (stored seq, SHA-256 of its exact envelope
bytes) with the keyring it passed under. What an attacker who can edit the database can do, and
what a read then sees:

- edit a record's envelope: its SHA-256 differs, so it is checked afresh, and refused;
- edit a column only (to list a record under another model, outcome, alias...): the cached
  entry holds the columns as signed, and they are compared on every read: refused;
- swap two rows' envelopes, or move one to another seq: the entry's key holds the stored seq,
  so the record is checked afresh, and the seq it signs is not the one it is stored under;
- insert a forged record under a new seq: checked afresh, and its signature fails;
- replace the keyring file: the keyring source loads it as a new keyring, every remembered
  entry names the old one, so every record is checked again under the new one (a verifier with
  a kept keyring sees the forgery: `mlgate audit verify --keyring`);
- delete a record: no read can see what it is not given, and the record may be evidence against
  a version (a rejection, a waiver's withdrawal). The decision is judged, but the append of its
  record refuses a chain missing any of its newest records or the one this ledger appended last
  (Ledger._check_chain_kept), so it is not answered; `mlgate audit verify` reports a gap further
  back;
- edit a record's columns so that a query no longer finds it: reads cannot see it either;
  `mlgate audit verify` reports the column mismatch.

The cache lives in process memory, which the database's editor does not reach; it holds at most
`size` entries (least recently used dropped first).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from service.audit.clock import parse_time
from service.audit.columns import expected_columns, mismatches
from service.audit.envelope import MalformedEnvelope, open_envelope
from service.audit.keys import Keyring
from service.audit.kinds import kind_of_predicate
from service.audit.stores.base import RecordRow
from service.audit.verify import signature_problem
from service.errors import LedgerTampered

# Far above the records one decision reads (a few dozen); about 1 KB each.
DEFAULT_SIZE = 8192


@dataclass(frozen=True)
class _Passed:
    keyring: Keyring | None  # the keyring it was checked under (None: columns only)
    columns: dict[str, str]  # the checked columns, as its envelope signs them


class ReadCheck:
    """`check(row, where, keyring)`: LedgerTampered unless the row may be trusted; rows that
    passed are remembered as the module docstring says. Safe to share between threads."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size < 1:
            raise ValueError(f"the read cache holds at least one record; found size {size}")
        self.size = size
        self._passed: OrderedDict[tuple[int, bytes], _Passed] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def check(self, row: RecordRow, where: str, keyring: Keyring | None) -> None:
        key = (row.seq, hashlib.sha256(row.envelope).digest())
        with self._lock:
            passed = self._passed.get(key)
            if passed is not None and passed.keyring is keyring:
                self._passed.move_to_end(key)
                self.hits += 1
            else:
                passed = None
                self.misses += 1
        if passed is None:
            passed = _Passed(keyring, _checked(row, where, keyring))
            with self._lock:
                if self._passed and next(reversed(self._passed.values())).keyring is not keyring:
                    self._passed.clear()  # the keyring changed: what passed under the old one
                self._passed[key] = passed
                while len(self._passed) > self.size:
                    self._passed.popitem(last=False)
        _compare_columns(row, where, passed.columns)

    def clear(self) -> None:
        with self._lock:
            self._passed.clear()


def _checked(row: RecordRow, where: str, keyring: Keyring | None) -> dict[str, str]:
    """The row's checked columns as its envelope signs them, once its signature verifies with
    `keyring` (when given) and it is stored under the seq it signs; LedgerTampered if not."""
    try:
        envelope = open_envelope(row.envelope)
        statement = envelope.statement()
        kind = kind_of_predicate(str(statement.get("predicateType")))
        if kind is None:
            raise MalformedEnvelope(f"predicateType is {statement.get('predicateType')!r}")
        predicate = statement["predicate"]
        keyids = tuple(s.keyid for s in envelope.signatures)
        envelope_hash = hashlib.sha256(row.envelope).hexdigest()
        expected = expected_columns(kind.name, predicate, keyids, envelope_hash)
        recorded_at: datetime = parse_time(predicate["recorded_at"])
        signed_seq = predicate["seq"]
    except (ValueError, KeyError, TypeError) as exc:
        raise LedgerTampered(
            f"record seq {row.seq} in the {where} cannot be read ({exc}); run `mlgate audit verify`"
        ) from None
    if keyring is not None:
        found = signature_problem(envelope, recorded_at, keyring)
        if found is not None:
            raise LedgerTampered(
                f"record seq {row.seq} in the {where} is not validly signed ({found[0]}: "
                f"{found[1]}): it cannot be trusted, listed or relied on; run `mlgate audit verify`"
            )
    if signed_seq != row.seq:
        raise LedgerTampered(
            f"record seq {row.seq} in the {where} signs seq {signed_seq!r}: it was moved from "
            "its place in the chain, so this listing cannot be trusted; run `mlgate audit verify`"
        )
    return expected


def _compare_columns(row: RecordRow, where: str, expected: dict[str, str]) -> None:
    found = mismatches({n: str(getattr(row, n)) for n in expected}, expected)
    if found:
        raise LedgerTampered(
            f"record seq {row.seq} in the {where} is listed by columns that differ from its "
            f"signed record ({'; '.join(found)}): the database was edited, so this listing "
            "cannot be trusted; run `mlgate audit verify`"
        )
