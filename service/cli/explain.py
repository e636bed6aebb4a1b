"""`mlgate explain promotion --tier T --stage S`: what the gate needs, from the policies and
schemas in force (service/gates/requirements.py), as text for people or JSON."""

from __future__ import annotations

import argparse
import json
from typing import Any

from service.cli.arguments import model_name
from service.decision.model import STAGES
from service.gates.requirements import GATE, TIERS, requirements_in_force
from service.settings import get_settings


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "explain",
        help="what a gate needs of a model at a risk tier and stage",
        description="List what the promotion gate needs at a risk tier and target stage, read "
        "from the policies and schemas in force: metrics and thresholds, the model card's "
        "fields and shapes, lineage, earlier stages, approvals and who may give them, waivers. "
        "GET /v1/gates/promotion/requirements answers the same.",
    )
    parser.add_argument("gate", choices=[GATE])
    parser.add_argument("--tier", required=True, choices=TIERS)
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument(
        "--model", type=model_name, metavar="NAME", help="apply this model's own settings too"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from service.engine.policyset import load_policy_set
    from service.schemas import SchemaSet

    settings = get_settings()
    needs = requirements_in_force(
        load_policy_set(settings.policy_dir),
        SchemaSet(settings.schema_dir),
        args.tier,
        args.stage,
        args.model,
    )
    print(json.dumps(needs, indent=2) if args.format == "json" else as_text(needs))
    return 0


def explain_command(tier: str, stage: str) -> str:
    """The command that lists what promotion of a `tier`-risk model to `stage` needs."""
    return f"mlgate explain {GATE} --tier {tier} --stage {stage}"


def as_text(needs: dict[str, Any]) -> str:
    """The requirements document for people: one section per kind of evidence."""
    who = f" ({needs['model']})" if needs.get("model") else ""
    lines = [f"promotion of a {needs['tier']}-risk model{who} to {needs['stage']} needs:"]
    lines += _metrics(needs["metrics"])
    lines += _card(needs["model_card"])
    lines += _lineage(needs["lineage"])
    lines += _signoffs(needs)
    return "\n".join(lines)


def _metrics(metrics: dict[str, Any]) -> list[str]:
    lines = ["", "metrics (metrics.values, each a number):"]
    for name in metrics["required"]:
        limits = []
        if name in metrics["floors"]:
            limits.append(f">= {metrics['floors'][name]}")
        if name in metrics["ceilings"]:
            limits.append(f"<= {metrics['ceilings'][name]}")
        if name in metrics["regression"]:
            limits.append(_regression(metrics["regression"][name]))
        lines.append(f"  {name}  {'; '.join(limits)}")
    if not metrics["required"]:
        lines.append("  none required")
    if metrics["baseline_required"]:
        lines.append("  a champion baseline is required (the version the gate installed last)")
    for metric, limit in metrics["fairness"].items():
        lines.append(
            f"  fairness: {metric} in metrics.by_group.<attribute>.<group> for every group of "
            f"each protected attribute, at least two groups, gap <= {limit['max_gap']}"
        )
    return lines


def _regression(spec: dict[str, Any]) -> str:
    better = "higher" if spec["greater_is_better"] else "lower"
    changes = [
        f"{key.removeprefix('min_').replace('_', ' ')} {spec[key]}"
        for key in ("min_absolute_change", "min_relative_change")
        if key in spec
    ]
    return f"against the champion ({better} is better): {', '.join(changes)}"


def _card(card: dict[str, Any]) -> list[str]:
    lines = ["", "model card (model_card.yaml, or from the registry):"]
    for field in card["fields"]:
        if field["field"] in card["sections_with_text"]:
            need = "required, with text, at this tier"
        else:
            need = "required" if field["required"] else "optional"
        note = f"  ({_oneline(field['description'])})" if field.get("description") else ""
        lines.append(f"  {field['field']}: {field['shape']}  [{need}]{note}")
    return lines


def _oneline(text: str) -> str:
    return " ".join(text.split())


def _lineage(lineage: dict[str, Any]) -> list[str]:
    lines = ["", "lineage (lineage.json, or the registry's run):"]
    lines += [f"  {f['field']}: {f['shape']}" for f in lineage["fields"]]
    lines += [f"  {rule['code']}: {_oneline(rule['description'])}" for rule in lineage["rules"]]
    if lineage["from_registry"]:
        lines.append(f"  from the model registry: {', '.join(lineage['from_registry'])}")
    return lines


def _first_deployment(spec: dict[str, Any]) -> list[str]:
    """The stage's `first_deployment` settings (schemas/promotion_config.schema.json, read by
    policies/promotion/first_deployment.rego), for a promotion with no champion on record."""
    lines = ["a first deployment (no champion on record behind the stage's alias) also needs:"]
    roles = spec.get("approver_roles", [])
    if roles:
        lines.append(f"  an approval by each of: {', '.join(roles)}")
    lines += [f"  floor: {name} >= {floor}" for name, floor in spec.get("floors", {}).items()]
    lines += [f"  ceiling: {name} <= {limit}" for name, limit in spec.get("ceilings", {}).items()]
    return lines


def _signoffs(needs: dict[str, Any]) -> list[str]:
    lines = [""]
    other = dict(needs["other_settings"])
    first = other.pop("first_deployment", None)
    for key, value in other.items():
        lines.append(f"also configured: {key}: {json.dumps(value)}")
    if first is not None:
        lines += _first_deployment(first)
    earlier = needs["stage_prerequisites"]
    if earlier:
        lines.append(f"an earlier allow of the same version at: {' or '.join(earlier)}")
    roles = needs["approvals"]["roles"]
    if roles:
        lines += [
            f"an approval by one of: {', '.join(roles)} (not by whoever asked for a decision)",
            "  mlgate approve --model NAME --version N --as ROLE --digest ARTIFACT_DIGEST "
            "--comment TEXT",
            "  (ARTIFACT_DIGEST: lineage.artifact_digest, or from a decision on the version: "
            "mlgate decide ... --format json, its model.artifact_digest)",
        ]
    else:
        lines.append("no approval")
    waivers = needs["waivers"]
    waivers_by = ", ".join(waivers["roles"]) or "nobody unless waivers.roles names a role"
    lines.append(f"waivers: for at most {waivers['max_days']} days, by {waivers_by}")
    lines += [f"  {code}: by {', '.join(by)}" for code, by in waivers["by_code"].items()]
    if waivers["non_waivable"]:
        lines.append(f"  never waived: {', '.join(waivers['non_waivable'])}")
    return lines
