"""The registry as an evidence source: its documents, the caller's additions, and notes on
where the two disagree or an alias moved behind the gate's back.

Precedence (DESIGN.md): the registry, then files, then inline. Where the registry holds a
document, it is used; a caller's document that differs from it is noted (a warning naming the
first differing field) and not used. What the registry lacks, the caller may add.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from service.audit.kinds import MOVE_BACK, MOVE_INSTALL
from service.audit.ledger import Ledger
from service.errors import NotFound
from service.evidence.base import EVIDENCE_FILE, RECORDED_ONLY, REQUEST
from service.evidence.context import EvidenceContext
from service.evidence.gathered import Gathered, Part
from service.evidence.mlflow import VersionReader

REGISTRY = "registry: MLflow"
# Evidence the registry can supply for a version.
REGISTRY_PARTS = ("model_card", "metrics", "lineage", "baseline")
# How a caller whose version the registry lacks decides on the evidence it sent instead.
_WITHOUT_CARD = "the model card's name and version are then used"
_WITHOUT_REGISTRY = {
    REQUEST: f"to decide on the evidence sent, leave `model` out of the request: {_WITHOUT_CARD}",
    EVIDENCE_FILE: "to decide on the evidence files, run `mlgate decide` without --model and "
    f"--version: {_WITHOUT_CARD}",
}


@dataclass(frozen=True)
class RegistrySource:
    """The model version's card, metrics, lineage and artifact digest from the registry, and
    as baseline the version that `alias_of(config, target)` names now; read only when the
    request asks for the registry. Its documents replace the caller's (a differing one is
    noted), and its artifact digest replaces any the request named (noted too). A request
    that enacts, or goes to one of `fresh_stages`, is judged on the registry as it is now,
    never on a cache."""

    alias_of: Callable[[Mapping[str, Any], Mapping[str, Any] | None], str]
    fresh_stages: tuple[str, ...] = ()

    def read(self, gathered: Gathered, context: EvidenceContext) -> Part:
        if not gathered.from_registry:
            return Part()
        name = str(gathered.model.get("name", ""))
        version = str(gathered.model.get("version", ""))
        stage = str((gathered.target or {}).get("stage", ""))
        try:
            documents, digest, notes = registry_documents(
                context.versions,
                name,
                version,
                self.alias_of(gathered.config, gathered.target),
                fresh=gathered.enact or stage in self.fresh_stages,
            )
        except NotFound as exc:
            if not gathered.documents:
                raise
            raise NotFound(f"{exc.message}; {_without_registry(gathered.caller_source)}") from None
        caller_parts = {k: v for k, v in gathered.documents.items() if k not in RECORDED_ONLY}
        merged_docs, provenance, conflicts = merged(documents, caller_parts, gathered.caller_source)
        notes += conflicts
        claimed = gathered.model.get("artifact_digest")
        if claimed is not None and claimed != digest:
            notes.append(
                {
                    "code": "EVIDENCE_CONFLICT",
                    "field": "model.artifact_digest",
                    "message": f"the request names artifact {claimed}, the registry holds "
                    f"{digest}; the registry's is used",
                }
            )
        return Part(
            documents=merged_docs,
            provenance={**provenance, "model": REGISTRY},
            notes=tuple(notes),
            model={"artifact_digest": digest},
        )


def _without_registry(caller_source: str) -> str:
    return _WITHOUT_REGISTRY.get(caller_source, _WITHOUT_REGISTRY[REQUEST])


def registry_documents(
    versions: VersionReader, name: str, version: str, alias: str, *, fresh: bool = False
) -> tuple[dict[str, Any], str, list[dict[str, str]]]:
    """(documents, artifact digest, notes) for the version: its card, metrics and lineage, and
    as baseline the version `alias` names now (this version itself when it holds the alias:
    a promotion again compares it with itself; the baseline of record replaces it when the
    gate has installed one, service/evidence/baseline.py). Notes say what the registry lacks,
    and that a run which has not FINISHED is not evidence yet. NotFound, RegistryUnavailable."""
    read = versions.evidence(name, version, fresh=fresh)
    documents = dict(read.documents)
    notes = [
        {"code": "REGISTRY_EVIDENCE_MISSING", "field": m.split(":")[0], "message": m}
        for m in read.missing
    ]
    if read.run_status not in (None, "FINISHED"):
        run = documents.get("lineage", {}).get("run_id", "?")
        notes.append(
            {
                "code": "RUN_NOT_FINISHED",
                "field": "lineage.run_id",
                "message": f"{name} v{version} comes from run {run}, which is {read.run_status}, "
                "not FINISHED: its metrics and artifacts can still change, so it cannot be "
                "judged until the run has finished",
            }
        )
    holder = versions.registry.alias_version(name, alias)
    if holder is not None:  # the version itself, when it holds the alias already
        metrics = versions.metrics_of(name, holder)
        if metrics is not None:
            documents["baseline"] = {"version": holder, "metrics": metrics}
    return documents, read.artifact_digest, notes


def alias_moves(
    ledger: Ledger, name: str, alias: str, *, page: int = 4
) -> Iterator[dict[str, Any]]:
    """The moves of `alias` of model `name` that took effect, newest first, as signed (with
    their record's `recorded_at`), read page by page as the caller goes on (the first page
    of `page` records, Ledger.iter_find): an indexed read of this alias's moves only
    (records_by_alias), however many other aliases moved since."""
    found = ledger.iter_find(kind="alias_move", model=name, alias=alias, outcome="moved", page=page)
    for record in found:
        move = record.predicate()
        if move.get("alias") == alias and move.get("moved"):
            yield move


def last_alias_move(ledger: Ledger, name: str, alias: str) -> dict[str, Any] | None:
    """The newest alias move the ledger holds for (model, alias) that took effect. A rollback
    moved the alias back to a version an earlier promotion installed: its `decision_id` is
    then that promotion's allow (the decision the version was judged on), and the
    rollback's own decision is `rollback_decision_id`."""
    moves = alias_moves(ledger, name, alias, page=1)  # the newest is mostly all it needs
    newest = next(moves, None)
    if newest is None or newest.get("move") != MOVE_BACK:
        return newest
    installing = next(
        (
            m
            for m in moves
            if m.get("move", MOVE_INSTALL) == MOVE_INSTALL
            and m.get("to_version") == newest.get("to_version")
        ),
        None,
    )
    judged = installing.get("decision_id") if installing else None
    return {**newest, "decision_id": judged, "rollback_decision_id": newest.get("decision_id")}


def merged(
    registry: Mapping[str, Any], caller: Mapping[str, Any], caller_source: str
) -> tuple[dict[str, Any], dict[str, str], list[dict[str, str]]]:
    """The registry's documents with the caller's additions: (documents, provenance, notes)."""
    documents = dict(registry)
    provenance = {key: REGISTRY for key in registry}
    notes: list[dict[str, str]] = []
    for key, value in caller.items():
        if key not in registry:
            documents[key] = value
            provenance[key] = caller_source
            continue
        where = first_difference(registry[key], value, key)
        if where is not None:
            notes.append(
                {
                    "code": "EVIDENCE_CONFLICT",
                    "field": where,
                    "message": f"{where} in the {caller_source} differs from the registry's; "
                    "the registry's is used",
                }
            )
    return documents, provenance, notes


def first_difference(trusted: Any, claimed: Any, path: str) -> str | None:
    """The path of the first place `claimed` differs from `trusted`, or None."""
    if isinstance(trusted, Mapping) and isinstance(claimed, Mapping):
        for key in sorted(set(trusted) | set(claimed), key=str):
            found = first_difference(trusted.get(key), claimed.get(key), f"{path}.{key}")
            if found is not None:
                return found
        return None
    if isinstance(trusted, list) and isinstance(claimed, list) and len(trusted) == len(claimed):
        for i, (a, b) in enumerate(zip(trusted, claimed, strict=True)):
            found = first_difference(a, b, f"{path}[{i}]")
            if found is not None:
                return found
        return None
    return None if trusted == claimed else path
