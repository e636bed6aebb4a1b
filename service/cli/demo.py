"""`mlgate demo`: every evidence fixture through the audited promotion gate, then one version's
promotion flow in local mode (staging, canary, a recorded approval, production), versions of a
real model promoted from a local MLflow store, one of them rolled back after its snapshots went
bad, then a ledger check."""

from __future__ import annotations

import argparse
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from service.audit.kinds import MOVE_INSTALL
from service.decision.request import GateRequest
from service.enact.history import alias_history
from service.evidence.base import EVIDENCE_FILE, RECORDED_ONLY
from service.evidence.files import read_evidence_dir
from service.execution.inline import LocalPath
from service.gates.registry import default_gates
from service.settings import PROJECT_ROOT, Settings, get_settings
from service.statefiles import private_copy


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "demo", help="decide every fixture under fixtures/evidence and verify the ledger"
    )
    parser.add_argument("--to", dest="stage", default="production")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from service.audit.ledger import verify_ledger
    from service.compose import local_path

    settings = get_settings()
    pipeline = local_path(settings)
    fixtures = sorted(p for p in (PROJECT_ROOT / "fixtures" / "evidence").iterdir() if p.is_dir())
    rows = []
    for fixture in fixtures:
        request = GateRequest(
            gate="promotion",
            caller={"id": "demo", "role": "cli"},
            evidence=read_evidence_dir(fixture),
            source=EVIDENCE_FILE,
            target={"stage": args.stage},
            trusted=True,  # local mode: the fixtures carry their own approvals and history
        )
        decision = pipeline.decide(request)
        if decision.reasons:
            note = f"{decision.reasons[0].code}: {decision.reasons[0].message}"
        elif decision.warnings:
            note = f"waived {decision.warnings[0].code}: {decision.warnings[0].message}"
        else:
            note = ""
        seq = decision.audit.seq if decision.audit else "-"
        rows.append((fixture.name, decision.outcome.upper(), str(seq), note))

    widths = [max(len(r[i]) for r in [*rows, ("fixture", "outcome", "seq", "")]) for i in range(3)]
    print(f"promotion to {args.stage}, policy {pipeline.policy_set.revision[:19]}")
    header = ("fixture", "outcome", "seq")
    print(
        f"{header[0]:<{widths[0]}}  {header[1]:<{widths[1]}}  {header[2]:>{widths[2]}}  "
        "first reason or warning"
    )
    for name, outcome, seq, note in rows:
        print(f"{name:<{widths[0]}}  {outcome:<{widths[1]}}  {seq:>{widths[2]}}  {_clip(note)}")
    print()
    _flow(pipeline)
    print()
    _registry_flow(settings, pipeline)
    print()
    _rollback_story(settings, pipeline)
    report = verify_ledger(settings)
    print(f"\nledger {settings.resolved_ledger_url}: {report.summary}")
    print(
        "\nTry next:\n"
        "  mlgate audit show 1                 one record, for a person\n"
        "  mlgate history --model fraud-detector-mlflow\n"
        "  mlgate history --model fraud-detector-story   a promotion rolled back\n"
        "  mlgate decide promotion --model fraud-detector-mlflow --version 3 --to staging\n"
        "  make run                            the service; then the curl line it prints"
    )
    return 0 if report.ok else 1


def _flow(pipeline: LocalPath) -> None:
    """A new version of the approved model through staging and canary to production, where it
    waits for an approval recorded in the ledger: the history and the sign-off come from the
    ledger, not from the evidence files."""
    version = datetime.now(UTC).strftime("%Y%m%d%H%M%S")  # new each run: its own history
    evidence = read_evidence_dir(PROJECT_ROOT / "fixtures" / "evidence" / "approved")
    own = {k: v for k, v in evidence.items() if k not in RECORDED_ONLY}
    digest = str(own["lineage"]["artifact_digest"])
    print(f"the promotion flow of fraud-detector v{version}, sign-off and history from the ledger")

    def decide(stage: str) -> None:
        request = GateRequest(
            gate="promotion",
            caller={"id": "demo", "role": "cli"},
            evidence=own,
            source=EVIDENCE_FILE,
            target={"stage": stage},
            model={"name": "fraud-detector", "version": version},
            trusted=True,
        )
        decision = pipeline.decide(request)
        first = decision.reasons[0].message if decision.reasons else ""
        seq = decision.audit.seq if decision.audit else "-"
        print(f"  decide {stage:<10} {decision.outcome.upper():<5}  seq {seq}  {_clip(first, 60)}")

    for stage in ("staging", "canary", "production"):
        decide(stage)
    approval = pipeline.context.book.approve(
        model="fraud-detector",
        version=version,
        artifact_digest=digest,
        approver="demo-risk-officer",
        role="model-risk-officer",
        status="approved",
        comment="validation report reviewed (demo)",
    ).content
    print(f"  approve as model-risk-officer         seq {approval['record']}  (mlgate approve)")
    decide("production")


def _registry_flow(settings: Settings, local: LocalPath) -> None:
    """Versions of a real scikit-learn model in a local MLflow store (service/cli/demo_registry),
    each decided from the registry alone with --enact. The registry's champion was set before
    the gate came, so it is no champion of record: production of the good one is a first
    deployment (a warning names the alias; the first-deployment floors apply on top of the
    comparison with that version), needs registry provenance (require_registry switched on in
    a copy of the thresholds) and a recorded approval."""
    from service.cli.demo_registry import CHAMPION, build_demo_registry
    from service.compose import local_path

    model = "fraud-detector-mlflow"
    notes = build_demo_registry(settings.resolved_mlflow_uri, model)
    strict = _with_registry_required(settings.policy_dir, settings.home / "demo-policies")
    pipeline = local_path(settings.model_copy(update={"policy_dir": strict}))
    print(f"from the MLflow registry at {settings.resolved_mlflow_uri} ({model}), with --enact;")
    print("high-risk production requires card, metrics and lineage from the registry here")

    def decide(version: str, stage: str) -> str:
        request = GateRequest(
            gate="promotion",
            caller={"id": "demo", "role": "cli"},
            evidence={},
            target={"stage": stage},
            model={"name": model, "version": version},
            trusted=True,
            registry=True,
            enact=True,
        )
        decision = pipeline.decide(request)
        first = decision.reasons[0].message if decision.reasons else ""
        moved = decision.enactment.note if decision.enactment else ""
        print(
            f"  v{version} {notes[version]:<15} {stage:<10} {decision.outcome.upper():<5}  "
            f"{_clip(first or moved, 70)}"
        )
        for warning in decision.warnings:
            print(f"{'':<39}warning {warning.code}: {_clip(warning.message, 60)}")
        return decision.outcome

    for version in (v for v in notes if v != CHAMPION):
        for stage in ("staging", "canary", "production"):
            if decide(version, stage) != "allow":
                break
    digest = pipeline.context.versions.evidence(model, "2").artifact_digest
    approval = local.context.book.approve(
        model=model,
        version="2",
        artifact_digest=digest,
        approver="demo-risk-officer",
        role="model-risk-officer",
        status="approved",
        comment="validation report reviewed (demo)",
    ).content
    print(f"  v2 approved as model-risk-officer (seq {approval['record']})")
    decide("2", "production")
    print(f"alias history (mlgate history --model {model}):")
    for move in alias_history(pipeline.context.ledger, model):
        print(
            f"  {move['alias']:<9} {_from(move)} -> v{move['to_version']}  "
            f"decision {move['decision_id']}  seq {move['record']}"
        )


def _rollback_story(settings: Settings, local: LocalPath) -> None:
    """From promotion to rollback: two versions installed in production by the gate, the
    second's snapshots go bad, the monitoring gate says rollback and, with --enact, the
    rollback gate moves the alias back to the first; the alias history tells it."""
    from service.cli.demo_registry import build_demo_registry, register_copy
    from service.monitoring.snapshot import parse_snapshot
    from service.schemas import default_schemas

    model = "fraud-detector-story"
    uri = settings.resolved_mlflow_uri
    build_demo_registry(uri, model)
    fresh = register_copy(uri, model, "2")  # a rebuild of v2, to install after it
    print(f"from promotion to rollback ({model}): v2, then v{fresh}, installed in production")

    def install(version: str) -> str:
        for stage in ("staging", "canary", "production"):
            if stage == "production":
                digest = local.context.versions.evidence(model, version).artifact_digest
                local.context.book.approve(
                    model=model,
                    version=version,
                    artifact_digest=digest,
                    approver="demo-risk-officer",
                    role="model-risk-officer",
                    status="approved",
                    comment="validation report reviewed (demo)",
                )
            decision = local.decide(_demo_request("promotion", model, version, stage))
            if decision.outcome != "allow":
                return f"{stage} {decision.outcome}: {decision.reasons[0].message}"
        return decision.enactment.note if decision.enactment else ""

    for version in ("2", fresh):
        print(f"  v{version:<3} promotion  {_clip(install(version), 80)}")
    moved = alias_history(local.context.ledger, model, "champion")[0]
    start = datetime.fromisoformat(local.ledger.get_seq(moved["record"]).recorded_at)
    time.sleep(1.0)  # the intervals below end after the installation and before now
    for i in range(3):
        begin = start + timedelta(milliseconds=1 + 300 * i)
        snapshot = {
            "deployment": {"model": model, "version": fresh, "stage": "production"},
            "interval": {
                "start": _stamp(begin),
                "end": _stamp(begin + timedelta(milliseconds=299)),
            },
            "sample_count": 1800,
            "operational": {"error_rate": 0.12 + i / 100, "latency_p99_ms": 140.0},
        }
        local.context.snapshots.add(parse_snapshot(snapshot, default_schemas()), "demo-monitor")
    print(f"  v{fresh:<3} 3 snapshots reported: error_rate 0.12 to 0.14 (ceiling 0.02)")
    decision = local.decide(_demo_request("monitoring", model, fresh, "production"))
    first = decision.reasons[0].message if decision.reasons else ""
    print(f"  v{fresh:<3} monitoring {decision.outcome.upper():<8} {_clip(first, 70)}")
    rollback = decision.triggered
    if rollback is not None:
        note = rollback.enactment.note if rollback.enactment else ""
        target = f"to v{rollback.target_version}: " if rollback.target_version else ""
        print(f"  v{fresh:<3} rollback   {rollback.outcome.upper():<8} {target}{_clip(note, 60)}")
    print(f"alias history (mlgate history --model {model} --alias champion):")
    for move in alias_history(local.context.ledger, model, "champion"):
        kind = move.get("move", MOVE_INSTALL)
        print(
            f"  {kind:<9} {_from(move)} -> v{move['to_version']}  "
            f"decision {move['decision_id']}  seq {move['record']}"
        )


def _demo_request(gate: str, model: str, version: str, stage: str) -> GateRequest:
    return GateRequest(
        gate=gate,
        caller={"id": "demo", "role": "cli"},
        evidence={},
        target={"stage": stage},
        model={"name": model, "version": version},
        trusted=True,
        registry=default_gates().spec(gate).reads_evidence,
        enact=True,
    )


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _from(move: dict[str, Any]) -> str:
    return f"v{move['from_version']}" if move.get("from_version") else "(unset)"


def _with_registry_required(policies: Path, target: Path) -> Path:
    """A copy of the policies whose high-risk production step requires registry provenance
    (private, as everything under MLGATE_HOME)."""
    if target.exists():
        shutil.rmtree(target)
    private_copy(policies, target)
    data = target / "data" / "promotion.yaml"
    config = yaml.safe_load(data.read_text(encoding="utf-8"))
    production = config["tiers"]["high"]["stages"]["production"]
    production["require_registry"] = ["model_card", "metrics", "lineage"]
    data.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return target


def _clip(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
