"""What the ledger gives back for a record it made durable."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class AuditReceipt(BaseModel):
    """Where the ledger put a record: its sequence number and the digest of its envelope."""

    model_config = ConfigDict(frozen=True)
    seq: int
    envelope_digest: str
