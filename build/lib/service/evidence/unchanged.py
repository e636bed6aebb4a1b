"""Evidence bound to what it was when judged: a FINISHED run's card, metrics and lineage must
not change. If a decision on the same model version and artifact recorded a digest of a
document read from the registry, and the registry now gives a document with another digest,
the evidence was edited after it was judged (MLflow lets the model's owner log metrics and
tags to a finished run): a deny no waiver lifts, naming the document and both digests.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.canonical import canonical_json, sha256_digest
from service.evidence.context import EvidenceContext
from service.evidence.gathered import Gathered, Part

# The documents a run's evidence consists of, compared when both came from the registry.
BOUND = ("model_card", "metrics", "lineage")


@dataclass(frozen=True)
class EvidenceUnchangedSource:
    """Compares the registry's documents with the digests the newest earlier decision on the
    same model, version and artifact digest recorded for its registry-read documents."""

    def read(self, gathered: Gathered, context: EvidenceContext) -> Part:
        named = gathered.named_version()
        digest = gathered.identity().get("artifact_digest")
        if named is None or not isinstance(digest, str) or not gathered.from_registry:
            return Part()
        earlier = context.ledger.find(
            kind="decision", model=named[0], version=named[1], artifact_digest=digest, limit=1
        )
        if not earlier:
            return Part()
        recorded = earlier[0].predicate()
        then_digests = recorded.get("evidence_digests") or {}
        then_sources = recorded.get("provenance") or {}
        notes = []
        for key in BOUND:
            then = then_digests.get(key)
            if not (
                isinstance(then, str)
                and str(then_sources.get(key, "")).startswith("registry")
                and str(gathered.provenance.get(key, "")).startswith("registry")
                and key in gathered.documents
            ):
                continue
            now = sha256_digest(canonical_json(gathered.documents[key]))
            if now != then:
                notes.append(
                    {
                        "code": "EVIDENCE_CHANGED",
                        "field": key,
                        "message": f"{key} of {named[0]} v{named[1]} (artifact {digest}) reads "
                        f"{now} from the registry now, but decision {recorded.get('decision_id')}"
                        f" was judged on {then}: the evidence was changed after it was judged",
                    }
                )
        return Part(notes=tuple(notes))
