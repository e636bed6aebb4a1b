"""What the promotion gate needs of a model at one risk tier and target stage, read from the
policy data in force (data.mlgate.config.promotion, `policies/data/promotion.yaml`), the
METADATA of the rules that judge lineage, and the evidence schemas (`schemas/`): never a copy
of any of them, so the answer changes when they do.

The document (`promotion_requirements`) is what `mlgate explain promotion` prints and
`GET /v1/gates/promotion/requirements` answers:

    {gate, tier, stage, configured,
     metrics: {required, floors, ceilings, regression, baseline_required, fairness},
     model_card: {fields: [{field, shape, required}], sections_with_text, protected_attributes},
     lineage: {fields: [{field, shape}], rules: [{code, title, description}], from_registry},
     stage_prerequisites, other_settings, approvals: {roles},
     waivers: {max_days, roles, by_code, non_waivable}}

How the policy reads the data (policies/promotion/*.rego): a tier's settings with the model's
own (`models.<name>`) merged over them; required metrics are the stage's floors, ceilings and
regression specs (metrics.rego); fairness is the tier's `fairness` with the stage's merged over
it (fairness.rego); a code not in `waivers.roles` may be waived by any approver role of the tier
(lib/waivers.rego).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.engine.catalogue import RuleEntry, rule_catalogue
from service.engine.policyset import PolicySet
from service.errors import InvalidField
from service.modelname import check_model_name
from service.schemas import SchemaSet

GATE = "promotion"
TIERS = ("low", "medium", "high")
LINEAGE_RULES_FILE = "promotion/lineage.rego"
_EXPLAINED_TIER_KEYS = {"card_sections", "fairness", "stages"}
_EXPLAINED_STAGE_KEYS = {
    "floors",
    "ceilings",
    "regression",
    "baseline_required",
    "fairness",
    "approver_roles",
    "require_registry",
}


def requirements_in_force(
    policy_set: PolicySet,
    schemas: SchemaSet,
    tier: str,
    stage: str,
    model: str | None = None,
    catalogue: Sequence[RuleEntry] | None = None,
) -> dict[str, Any]:
    """The requirements document under `policy_set` and the schemas of `schemas`."""
    config = policy_set.data.get("mlgate", {}).get("config", {}).get(GATE, {})
    documents = {name: schemas.schema(name) for name in ("model_card", "lineage")}
    rules = rule_catalogue(policy_set) if catalogue is None else catalogue
    return promotion_requirements(config, documents, rules, tier, stage, model)


def promotion_requirements(
    config: Mapping[str, Any],
    schemas: Mapping[str, Mapping[str, Any]],
    catalogue: Sequence[RuleEntry],
    tier: str,
    stage: str,
    model: str | None = None,
) -> dict[str, Any]:
    """The requirements document for `tier` and `stage` (with the overrides of `model`, when
    named). `config` is data.mlgate.config.promotion; `schemas` holds `model_card` and
    `lineage` (JSON Schema documents); `catalogue` the rule catalogue of the policy set.
    InvalidField naming `tier` or `stage` when the data knows no such tier or stage."""
    if model is not None:
        check_model_name("model", model)
    tiers = config.get("tiers", {})
    if tier not in tiers:
        raise InvalidField("tier", f"expected one of {', '.join(sorted(tiers))}, found {tier!r}")
    settings = _union(tiers[tier], config.get("models", {}).get(model, {}) if model else {})
    stages = settings.get("stages", {})
    if stage not in stages:
        raise InvalidField(
            "stage",
            f"expected a stage configured for {tier}-risk models ({', '.join(sorted(stages))}), "
            f"found {stage!r}",
        )
    at_stage: Mapping[str, Any] = stages[stage]
    floors = dict(at_stage.get("floors", {}))
    ceilings = dict(at_stage.get("ceilings", {}))
    regression = dict(at_stage.get("regression", {}))
    waivers = config.get("waivers", {})
    tier_roles = sorted(
        {role for each in stages.values() for role in each.get("approver_roles", [])}
    )
    return {
        "gate": GATE,
        "tier": tier,
        "stage": stage,
        "model": model,
        "metrics": {
            "required": sorted({*floors, *ceilings, *regression}),
            "floors": floors,
            "ceilings": ceilings,
            "regression": regression,
            "baseline_required": bool(at_stage.get("baseline_required", False)),
            "fairness": _union(settings.get("fairness", {}), at_stage.get("fairness", {})),
        },
        "model_card": {
            "fields": schema_fields(schemas["model_card"]),
            "sections_with_text": list(settings.get("card_sections", [])),
        },
        "lineage": {
            "fields": schema_fields(schemas["lineage"]),
            "rules": [
                {"code": rule.code, "title": rule.title, "description": rule.description}
                for rule in catalogue
                if rule.file == LINEAGE_RULES_FILE
            ],
            "from_registry": list(at_stage.get("require_registry", [])),
        },
        "stage_prerequisites": list(config.get("stage_prerequisites", {}).get(stage, [])),
        # Settings of the tier and stage this document does not spell out, as the data has
        # them, so a new kind of requirement is listed before it is explained.
        "other_settings": {
            **{k: v for k, v in settings.items() if k not in _EXPLAINED_TIER_KEYS},
            **{k: v for k, v in at_stage.items() if k not in _EXPLAINED_STAGE_KEYS},
        },
        "approvals": {"roles": list(at_stage.get("approver_roles", []))},
        "waivers": {
            "max_days": waivers.get("max_days", 90),
            "roles": tier_roles,
            "by_code": {code: list(roles) for code, roles in waivers.get("roles", {}).items()},
            "non_waivable": list(config.get("non_waivable", [])),
        },
    }


def _union(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """OPA's object.union: `over` wins, objects merged key by key."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _union(merged[key], value)
        else:
            merged[key] = value
    return merged


def schema_fields(schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each top-level property of an object schema: {field, shape, required, description?}."""
    required = set(schema.get("required", []))
    fields = []
    for name, node in schema.get("properties", {}).items():
        field: dict[str, Any] = {
            "field": name,
            "shape": shape(node, schema),
            "required": name in required,
        }
        described = _resolved(node, schema).get("description")
        if described:
            field["description"] = described
        fields.append(field)
    return fields


def shape(node: Mapping[str, Any], root: Mapping[str, Any]) -> str:
    """A JSON Schema node as people write the value: `text`, `list of text`,
    `{team: text, contact: text}` (an optional key marked `?`), `one of low, medium, high`."""
    node = _resolved(node, root)
    if "enum" in node:
        return "one of " + ", ".join(str(v) for v in node["enum"])
    kind = node.get("type")
    if kind == "array":
        return "list of " + shape(node.get("items", {}), root)
    if kind == "object" and "properties" in node:
        required = set(node.get("required", []))
        keys = [
            f"{key}{'' if key in required else '?'}: {shape(value, root)}"
            for key, value in node["properties"].items()
        ]
        return "{" + ", ".join(keys) + "}"
    words = {"string": "text", "number": "number", "integer": "whole number", "boolean": "boolean"}
    text = words.get(str(kind), str(kind or "any"))
    if kind == "string" and "pattern" in node:
        text += f" matching {node['pattern']}"
    elif kind == "string" and node.get("minLength"):
        text = "non-empty text"
    return text


def _resolved(node: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """`node`, or the definition its local `$ref` (#/$defs/...) names."""
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node
    found: Any = root
    for part in ref[2:].split("/"):
        found = found[part]
    resolved: Mapping[str, Any] = found
    return resolved
