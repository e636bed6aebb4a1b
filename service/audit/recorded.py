"""What a request to record something left in the ledger: the record kept for it, and whether
this request wrote it or found the same request recorded already (a retry after a lost answer).

Every recording request is idempotent this way: a sign-off, a withdrawal, a tier change or a
snapshot repeated as it was first sent records nothing new, and its answer is the record kept
the first time, marked as such (HTTP 200 instead of 201 Created; the CLI says so and exits 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Recorded:
    """`content`: the record's content as signed, with its seq under `record`. `created`: True
    when this request wrote it; False when the same request was recorded before and nothing
    was written now."""

    content: dict[str, Any]
    created: bool
