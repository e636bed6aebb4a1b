"""A reference to an input path the gate's schema does not define refuses the policy set
(review finding: `input.metrics.value.auc` for `values` passed every check and never fired).

OPA's own type checker, given the gate input schemas, finds plain references; object.get keys
are read from the parse; the schemas reach OPA self-contained, nothing fetched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from service.engine.bindings import new_opa
from service.engine.inputpaths import object_get_problems, optional_only_warnings
from service.engine.inputschema import InputSchemas
from service.engine.policyset import load_policy_set, read_policy_set
from service.engine.typecheck import input_annotation_problems, type_problems
from service.errors import PolicyLoadError
from service.gates.registry import default_gates
from service.settings import PROJECT_ROOT
from tests.conftest import POLICY_DIR

SCHEMAS = PROJECT_ROOT / "schemas"
POLICY_FILES = sorted(
    path.relative_to(POLICY_DIR).as_posix()
    for path in POLICY_DIR.rglob("*.rego")
    if not path.name.endswith("_test.rego")
)
_REF = re.compile(r"\binput((?:\.[A-Za-z_]\w*)+)")
_GET = re.compile(r'object\.get\(input[\w.]*, (?:"(\w+)"|\[("\w+"(?:, "\w+")*))')


def _code_lines(rel: str) -> Iterator[tuple[int, str]]:
    for number, text in enumerate((POLICY_DIR / rel).read_text().splitlines(), start=1):
        if not text.lstrip().startswith("#"):
            yield number, text


def _references() -> list[tuple[str, int, int]]:
    """(file, line, column just past the last key) of every plain reference into input."""
    return [
        (rel, number, match.end())
        for rel in POLICY_FILES
        for number, text in _code_lines(rel)
        for match in _REF.finditer(text)
    ]


def _object_get_keys() -> list[tuple[str, int, int]]:
    """(file, line, column just past the last literal key) of every object.get on input."""
    found = []
    for rel in POLICY_FILES:
        for number, text in _code_lines(rel):
            for match in _GET.finditer(text):
                group = 1 if match.group(1) else 2
                found.append((rel, number, match.end(group) - (group == 2)))
    return found


REFERENCES = _references()
OBJECT_GET_KEYS = _object_get_keys()


def _misspell(root: Path, rel: str, line: int, column: int) -> None:
    """Drop the character before `column` (0-based) on `line`: `values` becomes `value`."""
    path = root / rel
    lines = path.read_text().splitlines()
    lines[line - 1] = lines[line - 1][: column - 1] + lines[line - 1][column:]
    path.write_text("\n".join(lines) + "\n")


def _parsed(source: str) -> dict[str, Any]:
    opa = new_opa()
    try:
        parsed: dict[str, Any] = opa.eval_query('p := rego.parse_module("m.rego", input)', source)[
            0
        ]["p"]
        return parsed
    finally:
        opa.close()


def test_the_policies_read_input_in_both_ways() -> None:
    assert len(REFERENCES) >= 25 and len(OBJECT_GET_KEYS) >= 10


def test_the_shipped_policies_type_check_against_their_gate_schemas(opa_path: Path) -> None:
    assert type_problems(read_policy_set(POLICY_DIR), SCHEMAS, str(opa_path)) == []


@pytest.mark.parametrize(("rel", "line", "column"), REFERENCES, ids=str)
def test_misspelling_any_input_reference_is_a_type_error_at_its_line(
    policy_copy: Callable[[], Path], opa_path: Path, rel: str, line: int, column: int
) -> None:
    root = policy_copy()
    _misspell(root, rel, line, column)

    problems = type_problems(read_policy_set(root), SCHEMAS, str(opa_path))

    assert [(p.file, p.line) for p in problems] == [(rel, line)], problems
    schema = InputSchemas(SCHEMAS).name_for("mlgate." + rel.split("/")[0])
    assert f"{schema}.schema.json defines no" in problems[0].message


@pytest.mark.parametrize(("rel", "line", "column"), OBJECT_GET_KEYS, ids=str)
def test_misspelling_any_object_get_key_read_from_input_is_a_problem_at_its_line(
    policy_copy: Callable[[], Path], rel: str, line: int, column: int
) -> None:
    root = policy_copy()
    _misspell(root, rel, line, column)
    source = (root / rel).read_text()

    problems = object_get_problems(rel, source, _parsed(source), InputSchemas(SCHEMAS))

    assert [(p.file, p.line) for p in problems] == [(rel, line)], problems
    assert "a misspelt key quietly yields the default" in problems[0].message


def test_a_misspelt_input_path_refuses_the_policy_set_at_load(
    policy_copy: Callable[[], Path], opa_path: Path
) -> None:
    root = policy_copy()
    card = root / "promotion" / "card.rego"
    card.write_text(card.read_text().replace("input.model_card,", "input.model_crd,"))

    with pytest.raises(PolicyLoadError) as refused:
        load_policy_set(root)

    assert refused.value.message.startswith(
        "the policy set is refused (1 problem):\npromotion/card.rego:18: input.model_crd: "
        "promotion_input.schema.json defines no model_crd in input (input has "
    )
    assert refused.value.message.endswith(
        " model_card, provenance, recorded_risk_tier, requested_at, requesters, snapshots, "
        "target, waivers, withdrawn_waivers); a rule reading a path the input never has would "
        "never fire"
    )


def test_a_library_package_reads_input_as_the_common_gate_input(
    tmp_path: Path, opa_path: Path
) -> None:
    (tmp_path / "lib.rego").write_text(
        "package mlgate.lib.extra\n\nstage := input.target.stage\n\nauc := input.metrics.value\n"
    )

    [problem] = type_problems(read_policy_set(tmp_path), SCHEMAS, str(opa_path))

    assert (problem.file, problem.line) == ("lib.rego", 5)
    assert problem.message.startswith("input.metrics.value: gate_input.schema.json defines no")


# The schema lookup object.get and the warnings rely on answers as OPA's type checker does.
LOOKUPS = [
    "input.metrics.values.auc",
    "input.metrics.value",
    "input.metrics.by_group.age.young.tpr",
    "input.model.risk_tier",
    "input.model.tier",
    "input.model_card.owner.team",
    "input.model_card.owner.teem",
    "input.model_card.protected_attributes[0]",
    "input.lineage.datasets[0].digest",
    "input.lineage.datasets[0].digests",
    "input.provenance.anything",
    "input.requested_at.year",
    "input.baseline.metrics.values.auc",
    "input.baseline.metric",
    "input.history[0].outcome",
    "input.gate",
    "input.snapshots[0].anything",
]


def test_the_schema_lookup_agrees_with_opas_type_checker(tmp_path: Path, opa_path: Path) -> None:
    rules = "\n".join(f"r{i} if {path}\n" for i, path in enumerate(LOOKUPS))
    (tmp_path / "p.rego").write_text(f"package mlgate.promotion\n\n{rules}")
    problems = type_problems(read_policy_set(tmp_path), SCHEMAS, str(opa_path))
    undefined_by_opa = {LOOKUPS[(p.line - 3) // 2] for p in problems}
    schemas = InputSchemas(SCHEMAS)

    def path(text: str) -> list[str | int]:
        return [int(k) if k.isdigit() else k for k in re.findall(r"\w+", text)[1:]]

    undefined_by_lookup = {
        p for p in LOOKUPS if not schemas.lookup("promotion_input", path(p)).defined
    }
    assert undefined_by_lookup == undefined_by_opa
    assert undefined_by_opa == {
        "input.metrics.value",
        "input.model.tier",
        "input.model_card.owner.teem",
        "input.lineage.datasets[0].digests",
        "input.requested_at.year",
        "input.baseline.metric",
    }


def test_each_gate_is_type_checked_against_the_schema_it_validates_its_input_with() -> None:
    schemas = InputSchemas(SCHEMAS)

    for name, spec in default_gates().items():
        assert schemas.name_for(f"mlgate.{name}") == spec.input_schema


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_the_schemas_reach_opa_self_contained() -> None:
    bundled = InputSchemas(SCHEMAS).bundled("promotion_input")

    refs = set(_refs(bundled))

    assert refs and all(ref.startswith("#/$defs/") for ref in refs)
    assert "https://" not in json.dumps(bundled)


def test_a_ref_to_a_schema_outside_the_directory_is_refused_not_fetched(tmp_path: Path) -> None:
    for path in SCHEMAS.glob("*.schema.json"):
        (tmp_path / path.name).write_text(path.read_text())
    gate = tmp_path / "gate_input.schema.json"
    gate.write_text(
        gate.read_text().replace('"metric_set.schema.json"', '"https://example.org/m.json"', 1)
    )

    with pytest.raises(PolicyLoadError) as refused:
        InputSchemas(tmp_path).bundled("gate_input")

    assert refused.value.message == (
        "schema gate_input.schema.json: $ref https://example.org/m.json names "
        "https://example.org/m.json, which is no file of the schema directory; a $ref must "
        "name a file beside it (nothing is fetched)"
    )


def test_a_policy_may_not_type_input_with_a_schema_of_its_own() -> None:
    source = (
        "package mlgate.promotion\n\n# METADATA\n# title: T\n# schemas:\n#   - input: {}\n"
        "x if input.anything\n"
    )

    assert [str(p) for p in input_annotation_problems({"p.rego": source})] == [
        "p.rego:3: METADATA `schemas` types input here, in place of the gate's input schema "
        "that mlgate check and the load check it against; remove it"
    ]


RULE = """package mlgate.promotion

import data.mlgate.lib.reasons

# METADATA
# title: Monitoring plan names an owner
# description: The monitoring plan says who watches the model.
# custom:
#   code: MONITORING_PLAN_OWNERLESS
#   severity: high{listed}
deny contains reason if {{
	{body}
	reason := reasons.from_rule(rego.metadata.rule(), "no owner", {{}})
}}
"""


def _warnings(body: str, listed: str = "") -> list[str]:
    source = RULE.format(body=body, listed=listed)
    found = optional_only_warnings("m.rego", source, _parsed(source), InputSchemas(SCHEMAS))
    return [str(w) for w in found]


def test_a_rule_that_fires_only_on_an_optional_field_is_named_as_a_warning() -> None:
    assert _warnings('not contains(input.model_card.monitoring_plan, "owner")') == []
    assert _warnings('contains(input.model_card.monitoring_plan, "TODO")') == [
        "m.rego:11: MONITORING_PLAN_OWNERLESS fires only when model_card.monitoring_plan is "
        "given, which promotion_input.schema.json does not require: without it the rule is "
        "silent. If that is meant, list it in its METADATA under custom.when_present"
    ]


@pytest.mark.parametrize(
    ("body", "listed"),
    [
        (
            'contains(input.model_card.monitoring_plan, "TODO")',
            "\n#   when_present: [model_card.monitoring_plan]",
        ),
        ('contains(object.get(input, ["model_card", "monitoring_plan"], ""), "TODO")', ""),
        ('contains(input.model_card.limitations, "TODO")', ""),
        ("not input.model_card.monitoring_plan", ""),
    ],
)
def test_a_rule_meant_for_an_optional_field_or_reading_a_required_one_is_not(
    body: str, listed: str
) -> None:
    assert _warnings(body, listed) == []
