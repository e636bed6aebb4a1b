"""Evidence of the monitoring gate: the deployment, its metric snapshots, the canary
statistics computed from them, and the gate's own earlier decisions on it, all from the ledger.

A deployment is a model version at a stage. Whether the gate put it there is the ledger's
alias moves' word, not the registry's (its aliases can be set by the model's owner): the newest
move the gate recorded for the stage's alias names the version, or it does not, and then the
decision says so. Snapshots of intervals that began before the version was installed are
another deployment's and are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.evidence.base import (
    ALIAS_MOVES,
    CANARY_STATISTICS,
    LEDGER_DECISIONS,
    SNAPSHOT_RECORDS,
)
from service.evidence.context import EvidenceContext
from service.evidence.gathered import Gathered, Part
from service.evidence.registry import last_alias_move
from service.monitoring.snapshot import interval_bounds

NOT_INSTALLED_BY_GATE = "DEPLOYMENT_NOT_INSTALLED_BY_GATE"
# Monitoring decisions read at a time, newest first, to say since when a deployment is held.
HISTORY_PAGE = 20


@dataclass(frozen=True)
class DeploymentSource:
    """The deployment (`deployment`), its snapshots since it was installed (`snapshots`),
    the canary-versus-baseline statistics over those after the warm-up (`comparisons`), and
    the `gate`'s earlier decisions on it (`monitoring_history`). `alias_of(config, target)` is
    the stage's alias, as promotion moves it."""

    gate: str
    alias_of: Callable[[Mapping[str, Any], Mapping[str, Any] | None], str]

    def read(self, gathered: Gathered, context: EvidenceContext) -> Part:
        named = gathered.named_version()
        stage = (gathered.target or {}).get("stage")
        if named is None or not isinstance(stage, str):
            return Part()
        name, version = named
        alias = self.alias_of(gathered.config, gathered.target)
        deployment, notes = installed(context, name, version, stage, alias)
        snapshots = context.snapshots.deployment(name, version, stage)
        since = deployment["installed_at"]
        if since is not None:
            snapshots = [s for s in snapshots if _starts_from(s, since)]
        monitoring = gathered.config.get("monitoring", {})
        warmup = warmup_intervals(monitoring, stage, name)
        # numpy and scipy are the server's: the client install reads gate specs without them.
        from service.monitoring.analysis import compare_window

        comparisons = compare_window(snapshots[warmup:], monitoring.get("statistics", {}))
        return Part(
            documents={
                "deployment": deployment,
                "snapshots": snapshots,
                "comparisons": comparisons,
                "monitoring_history": held_since(context, self.gate, name, version, stage, since),
            },
            provenance={
                "deployment": ALIAS_MOVES,
                "snapshots": SNAPSHOT_RECORDS,
                "comparisons": CANARY_STATISTICS,
                "monitoring_history": LEDGER_DECISIONS,
            },
            notes=notes,
        )


def installed(
    context: EvidenceContext, name: str, version: str, stage: str, alias: str
) -> tuple[dict[str, Any], tuple[Mapping[str, str], ...]]:
    """The `deployment` part (schemas/monitoring_input.schema.json) and, when the gate did not
    put this version behind the stage's alias, a note saying what the ledger shows instead."""
    move = last_alias_move(context.ledger, name, alias)
    if move is not None and str(move.get("to_version")) == version:
        return {
            "stage": stage,
            "alias": alias,
            "installed_by_gate": True,
            "installed_at": move.get("recorded_at"),
            "alias_move": move.get("id"),
            "decision_id": move.get("decision_id"),
        }, ()
    if move is None:
        shown = f"the gate has recorded no move of {name}'s alias {alias!r}"
    else:
        shown = (
            f"the gate last moved {name}'s alias {alias!r} to v{move.get('to_version')} "
            f"(alias move {move.get('id')}, {move.get('recorded_at')})"
        )
    note = {
        "code": NOT_INSTALLED_BY_GATE,
        "field": "deployment",
        "message": f"v{version} of {name} at {stage} was not installed by the gate: {shown}; "
        "its snapshots are judged, but no decision of this gate vouches for the version",
    }
    deployment = {
        "stage": stage,
        "alias": alias,
        "installed_by_gate": False,
        "installed_at": None,
        "alias_move": None,
        "decision_id": None,
    }
    return deployment, (note,)


def warmup_intervals(monitoring: Mapping[str, Any], stage: str, model: str) -> int:
    """warmup_intervals as policies/monitoring/monitoring.rego merges its settings:
    models.<model>.<stage> over models.<model>.default over stages.<stage> over
    stages.default (data.mlgate.config.monitoring); 0 when none says."""
    stages = monitoring.get("stages", {})
    own = monitoring.get("models", {}).get(model, {})
    for settings in (
        own.get(stage, {}),
        own.get("default", {}),
        stages.get(stage, {}),
        stages.get("default", {}),
    ):
        if isinstance(settings.get("warmup_intervals"), int):
            return int(settings["warmup_intervals"])
    return 0


def held_since(
    context: EvidenceContext,
    gate: str,
    name: str,
    version: str,
    stage: str,
    installed_at: str | None,
) -> dict[str, Any]:
    """The `monitoring_history` part: the newest of the gate's decisions on this deployment
    since it was installed, and since when it has been held without a break (the time of the
    oldest hold in the newest run of holds). Reads newest first, a page at a time, and stops
    at the first decision that is not a hold: the cost follows the run of holds, not the
    deployment's age."""
    since: str | None = None
    last: str | None = None
    for record in context.ledger.iter_find(
        kind="decision",
        gate=gate,
        model=name,
        version=version,
        stage=stage,
        since=installed_at,
        page=HISTORY_PAGE,
    ):
        outcome = str(record.predicate().get("outcome"))
        last = last or outcome
        if outcome != "hold":
            break
        since = record.recorded_at
    return {"held_since": since, "last_outcome": last}


def _starts_from(snapshot: Mapping[str, Any], moment: str) -> bool:
    """Whether the snapshot's interval lies after `moment` (an interval that began before the
    installation measured the version before, too)."""
    return interval_bounds(snapshot)[0] >= datetime.fromisoformat(moment.replace("Z", "+00:00"))
