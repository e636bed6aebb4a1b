"""examples/argo/ against the openAPIV3Schema of Argo Rollouts' own CRDs (the Makefile's
ARGO_ROLLOUTS module; `make crds` copies them into .tools/crds/), as the Kubernetes API server
checks them under `kubectl apply`'s strict field validation: a field the schema does not know
is refused rather than silently pruned (a misspelt limit would otherwise vanish, leaving its
default in force)."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest
import yaml

from service.settings import PROJECT_ROOT
from tests.examples.conftest import EXAMPLES, TOOLS, required_tool

MODULE = re.search(r"^ARGO_ROLLOUTS := (\S+)$", (PROJECT_ROOT / "Makefile").read_text(), re.M)
CRDS = TOOLS / "crds" / (MODULE.group(1) if MODULE else "ARGO_ROLLOUTS") / "manifests" / "crds"
MANIFESTS = {
    "analysis-template.yaml": "analysis-template-crd.yaml",
    "rollout.yaml": "rollout-crd.yaml",
}


def closed(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with every object that lists properties closed to others, as strict field
    validation treats it, unless it keeps unknown fields (x-kubernetes-preserve-unknown-fields).
    Only subschemas are walked: properties' values, items, additionalProperties, the *Of lists."""
    made = dict(schema)
    if "properties" in schema:
        made["properties"] = {name: closed(sub) for name, sub in schema["properties"].items()}
        if "additionalProperties" not in schema and not schema.get(
            "x-kubernetes-preserve-unknown-fields"
        ):
            made["additionalProperties"] = False
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            made[key] = closed(schema[key])
    for key in ("anyOf", "allOf", "oneOf"):
        if key in schema:
            made[key] = [closed(sub) for sub in schema[key]]
    return made


def validator_for(manifest: dict[str, Any], crd_file: str) -> Any:
    crd = yaml.safe_load(required_tool(CRDS / crd_file, "`make crds` fetches them").read_text())
    group, version = manifest["apiVersion"].split("/")
    assert (crd["spec"]["group"], crd["spec"]["names"]["kind"]) == (group, manifest["kind"])
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema = closed(served["schema"]["openAPIV3Schema"])
    # The API server fills in metadata's schema itself; the CRD leaves it open.
    schema["properties"]["metadata"] = {"type": "object"}
    return jsonschema_rs.Draft4Validator(schema)


def problems(manifest: dict[str, Any], crd_file: str) -> list[str]:
    validator = validator_for(manifest, crd_file)
    return [
        f"{'/'.join(map(str, e.instance_path))}: {e.message}"
        for e in validator.iter_errors(manifest)
    ]


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((EXAMPLES / "argo" / name).read_text())
    return document


@pytest.mark.parametrize("name", MANIFESTS)
def test_each_manifest_is_valid_under_its_crd(name: str) -> None:
    assert problems(load(name), MANIFESTS[name]) == []


def test_a_misspelt_limit_is_refused_not_pruned() -> None:
    template = load("analysis-template.yaml")
    metric = template["spec"]["metrics"][0]
    metric["consecutiveSuccesLimit"] = metric.pop("consecutiveSuccessLimit")

    found = problems(template, MANIFESTS["analysis-template.yaml"])

    assert len(found) == 1 and "consecutiveSuccesLimit" in found[0], found


def test_a_field_of_the_wrong_type_is_refused() -> None:
    template = load("analysis-template.yaml")
    template["spec"]["metrics"][0]["provider"]["web"]["timeoutSeconds"] = "20"

    found = problems(template, MANIFESTS["analysis-template.yaml"])

    assert found == ['spec/metrics/0/provider/web/timeoutSeconds: "20" is not of type "integer"']


def test_the_rollout_runs_the_template_it_names() -> None:
    rollout = load("rollout.yaml")
    steps = rollout["spec"]["strategy"]["canary"]["steps"]
    names = [
        t["templateName"] for s in steps if "analysis" in s for t in s["analysis"]["templates"]
    ]

    assert names == [load("analysis-template.yaml")["metadata"]["name"]]
