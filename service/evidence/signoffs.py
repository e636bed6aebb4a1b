"""Evidence from the sign-off records: approvals and waivers given for a model version, and
which of their signers asked for a decision on it themselves (requesters)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.evidence.base import LEDGER_DECISIONS, SIGNOFF_RECORDS, joined
from service.evidence.context import EvidenceContext
from service.evidence.gathered import Gathered, Part
from service.signoffs.book import SignoffBook


def recorded_signoffs(book: SignoffBook, model: str, version: str) -> dict[str, list[Any]]:
    """{"approvals": [...], "waivers": [...], "withdrawn_waivers": [...]} recorded for this
    version, oldest first; each names its artifact digest, its record's id and seq; a
    withdrawn waiver its withdrawal too (it lifts nothing: the decision names it). Reads
    only; withdrawn_waivers is left out when there are none."""
    waivers, withdrawn = book.waivers_by_state(model, version)
    found: dict[str, list[Any]] = {
        "approvals": book.approvals_for(model, version),
        "waivers": waivers,
    }
    if withdrawn:
        found["withdrawn_waivers"] = withdrawn
    return found


def appended(
    gathered: Gathered, key: str, found: list[Any], source: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """`found` after what the caller gave for `key` (a trusted operator's file), with both
    sources named; what is not a list is left as it is, for the schema to deny."""
    given = gathered.documents.get(key, [])
    if not isinstance(given, list):
        return {}, {}
    provenance = joined(gathered.provenance.get(key, ""), source)
    return {key: [*given, *found]}, {key: provenance}


@dataclass(frozen=True)
class SignoffSource:
    """The version's approvals and waivers from the sign-off records, and the waivers
    withdrawn since."""

    def read(self, gathered: Gathered, context: EvidenceContext) -> Part:
        named = gathered.named_version()
        if named is None:
            return Part()
        documents: dict[str, Any] = {}
        provenance: dict[str, str] = {}
        for key, found in recorded_signoffs(context.book, *named).items():
            docs, prov = appended(gathered, key, found, SIGNOFF_RECORDS)
            documents.update(docs)
            provenance.update(prov)
        return Part(documents=documents, provenance=provenance)


@dataclass(frozen=True)
class RequesterSource:
    """Which of the gathered approvals' and waivers' signers asked for a decision on this
    version themselves: a sign-off never counts on its own approver's request."""

    def read(self, gathered: Gathered, context: EvidenceContext) -> Part:
        named = gathered.named_version()
        if named is None:
            return Part()
        requesters = sorted(
            who for who in signers(gathered.documents) if context.book.has_requested(*named, who)
        )
        return Part(
            documents={"requesters": requesters}, provenance={"requesters": LEDGER_DECISIONS}
        )


def signers(documents: Mapping[str, Any]) -> set[str]:
    """Who gave the approvals and waivers in the documents."""
    found: set[str] = set()
    for key, field in (("approvals", "approver"), ("waivers", "approved_by")):
        entries = documents.get(key)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, Mapping) and isinstance(entry.get(field), str):
                found.add(entry[field])
    return found
