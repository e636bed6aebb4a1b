"""The evidence gathered so far for one request, and the interface every evidence source has.

A gate spec lists its sources in order; the pipeline folds them: each source reads what was
gathered before it (and mlgate's own records, through the evidence context) and returns its
part: documents by input-document key, where each came from, notes, and what it learnt of the
model's identity. A source returns the whole new value of every key it touches, so the fold
only replaces. Sources only read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from service.evidence.inputdoc import model_from_evidence

if TYPE_CHECKING:
    from service.evidence.context import EvidenceContext


@dataclass(frozen=True)
class Part:
    """What one source read: documents by input key, their provenance, notes, identity."""

    documents: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[Mapping[str, str], ...] = ()
    model: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Gathered:
    """The evidence so far. `model` is the identity the request named, with what sources
    learnt (the registry's artifact digest); `config` is data.mlgate.config of the policy set
    in force; `from_registry` says the request asked for the registry's evidence; `enact`
    that it asks for the gate's effect too."""

    documents: Mapping[str, Any]
    provenance: Mapping[str, str]
    model: Mapping[str, Any]
    target: Mapping[str, Any] | None
    caller_source: str
    from_registry: bool
    config: Mapping[str, Any]
    notes: tuple[Mapping[str, str], ...] = ()
    enact: bool = False  # the request asks for the gate's effect after a durable decision
    trigger: Mapping[str, Any] | None = None  # why a rollback is asked (GateRequest.trigger)

    def identity(self) -> dict[str, Any]:
        """The model's name, version, tier and digest: the card's and the lineage's, under
        what the request named and the sources learnt."""
        return {**model_from_evidence(self.documents), **self.model}

    def named_version(self) -> tuple[str, str] | None:
        """(name, version) when both are known as text, else None."""
        identity = self.identity()
        name, version = identity.get("name"), identity.get("version")
        return (name, version) if isinstance(name, str) and isinstance(version, str) else None

    def with_part(self, part: Part) -> Gathered:
        return replace(
            self,
            documents={**self.documents, **part.documents},
            provenance={**self.provenance, **part.provenance},
            model={**self.model, **part.model},
            notes=(*self.notes, *part.notes),
        )


class EvidenceSource(Protocol):
    """One source of evidence for a gate (the request's own documents are the first, always)."""

    def read(self, gathered: Gathered, context: EvidenceContext) -> Part:
        """This source's part, given what was gathered before it. Reads only; raises the
        source's own errors (NotFound, RegistryUnavailable, LedgerUnreadable)."""
        ...
