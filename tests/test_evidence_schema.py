"""Evidence is validated before it is trusted: every required field, removed, denies by name."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from service.decision.judge import Judge
from service.schemas import default_schemas
from tests.conftest import fixture_input


def _required_paths(
    schema: dict[str, Any], document: Any, prefix: tuple[str, ...]
) -> Iterator[tuple[str, ...]]:
    """Every required property path of `schema` that `document` has, following local $refs."""
    schemas = default_schemas()
    if "$ref" in schema:
        ref = schema["$ref"]
        if ref.startswith("#/$defs/"):
            schema = schemas.schema(prefix_schema(prefix))["$defs"][ref.split("/")[-1]]
        else:
            schema = schemas.schema(ref.removesuffix(".schema.json"))
    if not isinstance(document, dict):
        return
    for part in schema.get("allOf", []):  # a gate's input schema: the common one and its own
        yield from _required_paths(part, document, prefix)
    for key in schema.get("required", []):
        if key in document:
            yield (*prefix, key)
    for key, sub in schema.get("properties", {}).items():
        if key in document:
            yield from _required_paths(sub, document[key], (*prefix, key))


def prefix_schema(prefix: tuple[str, ...]) -> str:
    return "model_card" if prefix and prefix[0] == "model_card" else "gate_input"


APPROVED = fixture_input("approved")
# `gate` routes the request (the URL path or the CLI argument), so it is never evidence.
REQUIRED = sorted(
    set(_required_paths(default_schemas().schema("promotion_input"), APPROVED, ())) - {("gate",)}
)


def test_required_fields_are_found_in_the_approved_fixture() -> None:
    assert ("model_card", "owner", "contact") in REQUIRED
    assert ("model_card", "training_data", "name") in REQUIRED
    assert ("lineage",) in REQUIRED
    assert len(REQUIRED) >= 20


@pytest.mark.parametrize("path", REQUIRED, ids=".".join)
def test_removing_a_required_field_denies_naming_it(
    gatekeeper: Judge, path: tuple[str, ...]
) -> None:
    doc = copy.deepcopy(APPROVED)
    node = doc
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]

    decision = gatekeeper.evaluate(doc)

    assert decision.outcome == "deny"
    field = ".".join(path)
    assert any(
        r.field == field and r.message == f"{field}: required property missing"
        for r in decision.reasons
    ), [r.message for r in decision.reasons]


def test_wrong_type_denies_with_expected_and_found(gatekeeper: Judge) -> None:
    doc = copy.deepcopy(APPROVED)
    doc["metrics"]["values"]["auc"] = "0.94"

    decision = gatekeeper.evaluate(doc)

    assert decision.outcome == "deny"
    assert 'metrics.values.auc: "0.94" is not of type "number"' in [
        r.message for r in decision.reasons
    ]


def test_bad_timestamp_denies_naming_field(gatekeeper: Judge) -> None:
    doc = copy.deepcopy(APPROVED)
    doc["waivers"] = [
        {
            "rule_code": "METRIC_REGRESSION_ABSOLUTE",
            "model": "fraud-detector",
            "version": "7",
            "approved_by": "x@example.com",
            "reason": "r",
            "expires_at": "next friday",
        }
    ]

    decision = gatekeeper.evaluate(doc)

    assert decision.outcome == "deny"
    assert any(r.field == "waivers[0].expires_at" for r in decision.reasons)


def test_schema_problems_and_policy_problems_are_listed_together(gatekeeper: Judge) -> None:
    decision = gatekeeper.evaluate(fixture_input("incomplete-card"))

    assert decision.outcome == "deny"
    assert [(r.code, r.field) for r in decision.reasons] == [
        ("EVIDENCE_INVALID", "model_card.owner"),
        ("CARD_SECTION_MISSING", "model_card.monitoring_plan"),
    ]
