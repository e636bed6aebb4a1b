"""The newest record an instance committed to a ledger, kept outside the ledger's database.

A hash chain cut at its tail still verifies: deleting the newest records (a rejection, a
waiver's withdrawal) leaves no gap, and the evidence a later decision reads no longer holds
them. The ledger's own memory of its last append (`Ledger._head`) ends with the process, and
does not know what another process sharing the instance's home appended (a CLI sign-off next
to the service). This mark does: every append of every ledger opened with the same home
advances it, and every append first checks that the database still holds the record it names
(Ledger._check_chain_kept). Someone who can edit the database but not the instance's home can
no longer cut the tail unseen. An instance that never appended after a record (another host
sharing a PostgreSQL ledger) still cannot tell: that needs the signed checkpoints kept where
the database's editor cannot reach them.

One small file per ledger, under `<home>/ledger-heads/`, named by the SHA-256 of where the
ledger is (a SQLite file's resolved path, else the store's description), mode 0600:
`{"seq": N, "envelope_hash": "<hex>"}`. It only moves forward (two writers: the higher seq
stays), under an exclusive `flock`. A ledger writes it after its first append, then at most
once per `ledger.HEAD_MARK_SECONDS` and when it closes (a local-mode command's one append is
always marked), after the commit and without fsync: a process killed, or a crash, leaves it
behind the ledger (it checks less, never refuses wrongly) or unreadable (ignored, and written
afresh).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from pathlib import Path

from service.audit.stores.base import Tail
from service.statefiles import FILE_MODE, private_directory

MARKS_DIRECTORY = "ledger-heads"
MARK_BYTES = 256  # the JSON, padded with spaces (JSON's own white space)


class HeadMark:
    """The mark of one ledger (`where`: where it is, one way however it is spelt) under `home`."""

    def __init__(self, home: Path, where: str) -> None:
        name = hashlib.sha256(where.encode()).hexdigest()[:32]
        self.path = home / MARKS_DIRECTORY / f"{name}.json"

    def read(self) -> Tail | None:
        """The newest record committed as the mark says, or None: no mark, or one unreadable
        (a crash while it was written)."""
        try:
            return _parsed(self.path.read_bytes())
        except FileNotFoundError:
            return None

    def advance(self, tail: Tail) -> None:
        """Make `tail` the mark unless it names a later record already. OSError when the file
        cannot be written."""
        private_directory(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            kept = _parsed(os.read(fd, MARK_BYTES))
            if kept is not None and kept.seq >= tail.seq:
                return
            document = {"seq": tail.seq, "envelope_hash": tail.envelope_hash}
            # Written over in place at one size: truncating first made each append's fsync of
            # the ledger carry the file system's journal of the truncation, and cost a third of
            # SQLite's append rate; writing in place costs 2%.
            os.pwrite(fd, json.dumps(document).encode().ljust(MARK_BYTES), 0)
        finally:
            os.close(fd)  # releases the lock


def _parsed(content: bytes) -> Tail | None:
    try:
        document = json.loads(content)
        seq, envelope_hash = document["seq"], document["envelope_hash"]
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(envelope_hash, str):
        return None
    return Tail(seq, envelope_hash)
