"""The two shapes of a ledger record: one about to be signed into the chain, and one stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.audit.envelope import open_envelope
from service.audit.stores.base import RecordRow


@dataclass(frozen=True)
class PendingRecord:
    """A record about to be signed into the chain, with the columns it will be found by."""

    kind: str
    record_id: str
    gate: str
    outcome: str
    model_name: str
    model_version: str
    subject: list[dict[str, Any]]
    predicate: dict[str, Any]
    document: bytes  # stored with the record, under its seq (a decision's input document)
    digest: str
    caller_id: str = ""
    artifact_digest: str = ""
    stage: str = ""
    risk_tier: str = ""
    alias: str = ""
    rolled_back_version: str = ""
    # Further content the record names by digest (a policy revision's files), stored
    # content-addressed in the same transaction, never overwritten.
    attachments: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class LedgerRecord:
    """One stored record: its exact envelope bytes and the columns it is found by."""

    seq: int
    decision_id: str
    recorded_at: str
    keyid: str
    input_digest: str
    envelope_digest: str  # "sha256:<hex>" of `envelope`
    envelope: bytes
    kind: str = "decision"

    @classmethod
    def from_row(cls, row: RecordRow) -> LedgerRecord:
        return cls(
            row.seq,
            row.decision_id,
            row.recorded_at,
            row.keyid,
            row.input_digest,
            "sha256:" + row.envelope_hash,
            row.envelope,
            row.kind,
        )

    def statement(self) -> dict[str, Any]:
        """The signed in-toto Statement (not verified here; see `Ledger.verify`)."""
        return open_envelope(self.envelope).statement()

    def predicate(self) -> dict[str, Any]:
        predicate: dict[str, Any] = self.statement()["predicate"]
        return predicate
