"""The champion of record: the version the gate itself last installed behind an alias, as the
baseline a promotion is compared against. MLflow lets the model's owner set an alias (an
upsert, last writer wins), so what an alias names now is not evidence of anything; the ledger's
last alias move is. Its metrics are the ones the installing decision was judged on (its stored
input document), so logging new metrics to that run later changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from service.errors import NotFound
from service.evidence.base import ALIAS_MOVES, joined
from service.evidence.context import EvidenceContext
from service.evidence.gathered import Gathered, Part
from service.evidence.registry import REGISTRY, first_difference, last_alias_move


@dataclass(frozen=True)
class BaselineOfRecordSource:
    """When the gate has installed a version behind the alias `alias_of(config, target)`,
    that version and its judged metrics are the baseline, whatever the caller or the alias
    says; `alias_of_record` tells the policy which version that is and, when the registry was
    read, which version the alias names there now. Without a champion of record the baseline
    stays what it was (the registry's alias, or the caller's baseline), and when the registry
    was read and its alias names a version, `alias_unrecorded` says so: that alias was set
    outside the gate, and its version is no champion of record."""

    alias_of: Callable[[Mapping[str, Any], Mapping[str, Any] | None], str]

    def read(self, gathered: Gathered, context: EvidenceContext) -> Part:
        named = gathered.named_version()
        if named is None:
            return Part()
        name = named[0]
        alias = self.alias_of(gathered.config, gathered.target)
        move = last_alias_move(context.ledger, name, alias)
        if move is None:
            return _unrecorded(gathered, context, name, alias)
        version = str(move["to_version"])
        of_record: dict[str, Any] = {
            "alias": alias,
            "version": version,
            "move": str(move.get("id", "")),
            "decision_id": str(move.get("decision_id", "")),
        }
        if isinstance(move.get("artifact_digest"), str):
            of_record["artifact_digest"] = move["artifact_digest"]
        if gathered.from_registry:
            holder = context.registry.alias_version(name, alias)
            of_record["registry_version"] = holder
        metrics = _judged_metrics(context, str(move.get("decision_id", "")))
        if metrics is None:
            note = {
                "code": "BASELINE_OF_RECORD_UNREADABLE",
                "field": "baseline",
                "message": f"v{version} of {name} is the {alias!r} of record (alias move "
                f"{of_record['move']}), but the input of the decision that installed it "
                f"({of_record['decision_id']}) cannot be read back from the ledger: run "
                "`mlgate audit verify`",
            }
            return Part(documents={"alias_of_record": of_record}, notes=(note,), provenance={})
        baseline = {"version": version, "metrics": metrics}
        notes: tuple[Mapping[str, str], ...] = ()
        given = gathered.documents.get("baseline")
        source = gathered.provenance.get("baseline", "")
        if given is not None and first_difference(baseline, given, "baseline") is not None:
            where = first_difference(baseline, given, "baseline")
            notes = (
                {
                    "code": "EVIDENCE_CONFLICT",
                    "field": str(where),
                    "message": f"the baseline from the {source or 'request'} (v"
                    f"{_version_of(given)}) is not the {alias!r} of record, v{version} "
                    f"(alias move {of_record['move']}); the one of record is used",
                },
            )
        return Part(
            documents={"baseline": baseline, "alias_of_record": of_record},
            provenance={"baseline": ALIAS_MOVES, "alias_of_record": ALIAS_MOVES},
            notes=notes,
        )


def _unrecorded(gathered: Gathered, context: EvidenceContext, name: str, alias: str) -> Part:
    """`alias_unrecorded` when the registry was read and its `alias` names a version that no
    move of the gate put there (the ledger holds none for this alias), else nothing."""
    if not gathered.from_registry:
        return Part()
    holder = context.registry.alias_version(name, alias)
    if holder is None:
        return Part()
    return Part(
        documents={"alias_unrecorded": {"alias": alias, "registry_version": holder}},
        provenance={"alias_unrecorded": joined(REGISTRY, ALIAS_MOVES)},
    )


def _judged_metrics(context: EvidenceContext, decision_id: str) -> dict[str, Any] | None:
    """The metrics the decision `decision_id` was judged on (its stored input), or None."""
    try:
        record = context.ledger.get(decision_id)
        document = context.ledger.input_document(record.seq, record.input_digest)
    except NotFound:
        return None
    metrics = document.get("metrics")
    return metrics if isinstance(metrics, dict) else None


def _version_of(baseline: Any) -> str:
    return str(baseline.get("version", "?")) if isinstance(baseline, Mapping) else "?"
