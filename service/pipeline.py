"""The one decision path: gather evidence -> assemble the input -> evaluate -> check -> record.

Every entry point runs it: the HTTP route and its fast path, `mlgate decide` (local), `mlgate
demo`; after the record is durable, enact (service/enact/) may move a registry alias. Where
a step runs (a thread, a decision worker process, the ledger writer process) is the business
of service/execution/, not of this module.

Evidence is gathered in a fixed order (service/evidence/base.py says who may assert what):

1. the model registry, when the request asks for it: card, metrics, lineage, artifact digest
   and the champion baseline (service/evidence/registry.py); the request's (or the evidence
   files') documents add what it lacks, and a differing one is noted, not used;
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
from service.enact.mlflow_alias import enact
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
from service.evidence.mlflow import MlflowRegistry
from service.evidence.registry import REGISTRY, merged, registry_documents, stage_alias
from service.evidence.risk_tier import recorded_risk_tier
from service.evidence.signoffs import recorded_signoffs
from service.gate import Gatekeeper
from service.inputdoc import assemble
from service.settings import Settings
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
    registry: bool = False  # read the model version's evidence from the registry first
    enact: bool = False  # on allow, move the stage's alias to the version (service/enact/)


class RecordedEvidence:
    """mlgate's own records as evidence sources: sign-offs and decision history, both read
    from the ledger; and the model registry, when there is one (opened on first use)."""

    def __init__(self, ledger: Ledger, settings: Settings | None = None) -> None:
        self.ledger = ledger
        self.book = SignoffBook(ledger)
        self.settings = settings
        self._registry: MlflowRegistry | None = None

    @property
    def registry(self) -> MlflowRegistry:
        """The MLflow registry of the settings; UsageError if this pipeline has none."""
        if self.settings is None:
            raise UsageError("this pipeline reads no model registry")
        if self._registry is None:
            from service.evidence.mlflow import MlflowRegistry

            self._registry = MlflowRegistry(
                self.settings.resolved_mlflow_uri,
                self.settings.home / "cache" / "mlflow",
                retries=self.settings.mlflow_request_retries,
                timeout_s=self.settings.mlflow_request_timeout_seconds,
            )
        return self._registry


def gather(
    request: GateRequest,
    recorded: RecordedEvidence | None,
    config: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The input document for `request`, with the registry's and the recorded evidence added
    (none when `recorded` is None) and its provenance. `config` is data.mlgate.config (the
    stage aliases). Raises CallerMayNotAssert for an untrusted request that carries approvals,
    waivers or history; NotFound or RegistryUnavailable when the registry is asked for a
    version it cannot give. Reads only."""
    if not request.trusted:
        for key in RECORDED_ONLY:
            if key in request.evidence:
                raise CallerMayNotAssert(key)
    evidence = dict(request.evidence)
    provenance = {
        key: TRUSTED_FILE if key in RECORDED_ONLY else request.source for key in request.evidence
    }
    notes: list[dict[str, str]] = []
    model = dict(request.model or {})
    if request.registry and recorded is not None:
        name, version = str(model.get("name", "")), str(model.get("version", ""))
        stage = str((request.target or {}).get("stage", ""))
        documents, digest, notes = registry_documents(
            recorded.registry, recorded.ledger, name, version, stage_alias(config or {}, stage)
        )
        caller_parts = {k: v for k, v in evidence.items() if k not in RECORDED_ONLY}
        merged_docs, merged_provenance, conflicts = merged(documents, caller_parts, request.source)
        evidence.update(merged_docs)
        provenance.update(merged_provenance)
        notes += conflicts
        claimed = model.get("artifact_digest")
        if claimed is not None and claimed != digest:
            notes.append(
                {
                    "code": "EVIDENCE_CONFLICT",
                    "field": "model.artifact_digest",
                    "message": f"the request names artifact {claimed}, the registry holds "
                    f"{digest}; the registry's is used",
                }
            )
        model["artifact_digest"] = digest
        provenance["model"] = REGISTRY
    doc = assemble(
        request.gate,
        evidence,
        caller=request.caller,
        target=request.target,
        model=model or None,
        requested_at=request.requested_at,
    )
    if notes:
        doc["evidence_notes"] = notes
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

    def gather(self, request: GateRequest) -> dict[str, Any]:
        return gather(request, self.recorded, self.gatekeeper.engine.policy_set.config)

    def judge(self, request: GateRequest) -> tuple[Decision, bytes]:
        """Gather, assemble, evaluate and check: the unrecorded decision and the input's
        canonical bytes, for a ledger to record before it is answered."""
        return self.gatekeeper.judge(self.gather(request))

    def decide(self, request: GateRequest) -> Decision:
        """Gather, judge and record: the decision leaves only once its record is durable."""
        return self.gatekeeper.decide(self.gather(request))

    def decide_and_enact(self, request: GateRequest) -> Decision:
        """The whole path of a local command: decide, then, if the request asks, enact an
        allow (the alias moved, as a record of its own). The service enacts the same way
        after its decider answers (service/api/routes_decisions.py)."""
        decision = self.decide(request)
        if request.enact and self.recorded is not None:
            enact(decision, request, self.recorded, self.gatekeeper.engine.policy_set.config)
        return decision
