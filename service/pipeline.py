"""The one decision path: gather evidence -> assemble the input -> evaluate -> check -> record.

Every entry point runs it: the HTTP route and its fast path, `mlgate decide` (local), `mlgate
demo`. Where a step runs (a thread, a decision worker process, the ledger writer process) is
the business of service/engine/deciders.py and processes.py, not of this module.

Evidence is gathered in a fixed order, the caller's first and mlgate's own records after
(service/evidence/base.py says who may assert what):

1. the request's (or the evidence files') documents: model card, metrics, lineage, baseline;
2. the sign-off records in the ledger: approvals and waivers for this model version;
3. the ledger's earlier decisions: history (this version and artifact digest), which of the
   sign-offs' approvers asked for a decision on this version themselves (requesters), and the
   risk tier the model was last judged under (recorded_risk_tier).

Gathering only reads. The input document records where each part came from (`provenance`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.audit.ledger import Ledger
from service.decision import Decision
from service.errors import UsageError
from service.evidence.base import (
    LEDGER_DECISIONS,
    RECORDED_ONLY,
    REQUEST,
    SIGNOFF_RECORDS,
    TRUSTED_FILE,
    joined,
)
from service.evidence.history import recorded_history
from service.evidence.risk_tier import recorded_risk_tier
from service.evidence.signoffs import recorded_signoffs
from service.gate import Gatekeeper
from service.inputdoc import assemble
from service.signoffs.book import SignoffBook


class CallerMayNotAssert(UsageError):
    """The request carries a part of the evidence only mlgate's own records may supply."""

    code = "invalid_request"

    def __init__(self, key: str) -> None:
        self.field = f"evidence.{key}"
        super().__init__(
            f"{self.field}: a caller may not send {key}; they come only from {RECORDED_ONLY[key]}"
        )


@dataclass(frozen=True)
class GateRequest:
    """One question to a gate, as an entry point received it (picklable: it crosses to the
    decision workers).

    `evidence` holds the caller's documents by input-document key; `source` says where they
    came from (service/evidence/base.py). `trusted` is local CLI mode, whose operator holds the
    signing key: only then may the evidence carry approvals, waivers and history.
    `requested_at` is None for "now, by this service's clock".
    """

    gate: str
    caller: Mapping[str, str]
    evidence: Mapping[str, Any]
    source: str = REQUEST
    target: Mapping[str, Any] | None = None
    model: Mapping[str, Any] | None = None
    requested_at: str | None = None
    trusted: bool = False


class RecordedEvidence:
    """mlgate's own records as evidence sources: sign-offs and decision history, both read
    from the ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.book = SignoffBook(ledger)


def gather(request: GateRequest, recorded: RecordedEvidence | None) -> dict[str, Any]:
    """The input document for `request`, with the recorded evidence added (none when
    `recorded` is None) and its provenance. Raises CallerMayNotAssert for an untrusted
    request that carries approvals, waivers or history. Reads only."""
    if not request.trusted:
        for key in RECORDED_ONLY:
            if key in request.evidence:
                raise CallerMayNotAssert(key)
    doc = assemble(
        request.gate,
        request.evidence,
        caller=request.caller,
        target=request.target,
        model=request.model,
        requested_at=request.requested_at,
    )
    provenance = {
        key: TRUSTED_FILE if key in RECORDED_ONLY else request.source for key in request.evidence
    }
    model = doc["model"]
    name, version = model.get("name"), model.get("version")
    if recorded is not None and isinstance(name, str) and isinstance(version, str):
        parts = recorded_signoffs(recorded.book, name, version)
        digest = model.get("artifact_digest")
        parts["history"] = recorded_history(
            recorded.ledger, name, version, digest if isinstance(digest, str) else None
        )
        for key, found in parts.items():
            source = LEDGER_DECISIONS if key == "history" else SIGNOFF_RECORDS
            given = doc.get(key, [])
            if isinstance(given, list):  # anything else is judged as it is: the schema denies
                doc[key] = [*given, *found]
                provenance[key] = joined(provenance.get(key, ""), source)
        signers = _signers(doc)
        doc["requesters"] = sorted(
            who for who in signers if recorded.book.has_requested(name, version, who)
        )
        provenance["requesters"] = LEDGER_DECISIONS
        tier = recorded_risk_tier(recorded.ledger, name)
        if tier is not None:
            doc["recorded_risk_tier"] = tier
            provenance["recorded_risk_tier"] = LEDGER_DECISIONS
    doc["provenance"] = provenance
    return doc


def _signers(doc: Mapping[str, Any]) -> set[str]:
    """Who gave the approvals and waivers in the document."""
    signers: set[str] = set()
    for key, field in (("approvals", "approver"), ("waivers", "approved_by")):
        entries = doc.get(key)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, Mapping) and isinstance(entry.get(field), str):
                signers.add(entry[field])
    return signers


class Pipeline:
    """The decision path over one gatekeeper (engine, schemas, ledger) and the recorded
    evidence; plain Python, run wherever the caller likes."""

    def __init__(self, gatekeeper: Gatekeeper, recorded: RecordedEvidence | None) -> None:
        self.gatekeeper = gatekeeper
        self.recorded = recorded

    def judge(self, request: GateRequest) -> tuple[Decision, bytes]:
        """Gather, assemble, evaluate and check: the unrecorded decision and the input's
        canonical bytes, for a ledger to record before it is answered."""
        return self.gatekeeper.judge(gather(request, self.recorded))

    def decide(self, request: GateRequest) -> Decision:
        """The whole path: the decision leaves only once its audit record is durable."""
        return self.gatekeeper.decide(gather(request, self.recorded))
