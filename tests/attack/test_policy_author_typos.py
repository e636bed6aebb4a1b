"""Findings of an attack review of the policy checks: a policy author's one-word typo that
`mlgate check` and the service's load accept, leaving a rule that never fires, so the gate
allows what the rule was written to deny. Each test fails on the code before its fix. Its
docstring says what was done, what was seen and what is expected: the check (and so the load,
which makes the same checks) refuses the set, naming the file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from service.decision.judge import Judge
from service.engine.embedded import EmbeddedEngine
from service.engine.policycheck import check_policy_dir
from service.engine.policyset import load_policy_set, read_policy_set
from service.errors import PolicyLoadError
from service.gates.registry import default_gates
from service.schemas import default_schemas
from service.settings import PROJECT_ROOT
from tests.conftest import fixture_input

SCHEMAS = PROJECT_ROOT / "schemas"

# A reason rule as the shipped ones are written, under a package and reading a data path the
# tests below misspell: it denies every promotion, so a set where it fires allows nothing.
EXTRA_RULE = """package {package}

import data.mlgate.lib.reasons

# METADATA
# title: Every floor is far above the metric
# description: A rule that denies every candidate, to see whether it fires at all.
# custom:
#   code: EXTRA_FLOOR_CHECK
#   severity: high
#   controls: ["SR 11-7 III.B"]
deny contains reason if {{
\tsome metric, floor in {floors}
\tinput.metrics.values[metric] < floor + 1
\treason := reasons.from_rule(rego.metadata.rule(), "below", {{"field": "metrics.values"}})
}}
"""
FLOORS = "data.mlgate.config.promotion.tiers.high.stages.staging.floors"


def _problems(root: Path) -> list[str]:
    return [str(p) for p in check_policy_dir(root, SCHEMAS, default_gates()).problems]


def _staging_outcome(root: Path, **card: str) -> str:
    """The promotion gate's outcome under the policies at `root` for the approved fixture at
    staging (which the shipped policies allow), its model card changed by `card`."""
    doc = fixture_input("approved", stage="staging")
    doc["model_card"].update(card)
    engine = EmbeddedEngine(load_policy_set(root))
    try:
        return Judge(engine, default_schemas(), default_gates()).evaluate(doc).outcome
    finally:
        engine.close()


def test_the_rule_under_test_denies_when_written_right(policy_copy: Callable[[], Path]) -> None:
    """The control for the tests below: spelt right, the extra rule passes the check and denies."""
    root = policy_copy()
    (root / "promotion" / "extra.rego").write_text(
        EXTRA_RULE.format(package="mlgate.promotion", floors=FLOORS)
    )

    assert _problems(root) == []
    assert _staging_outcome(root) == "deny"


def test_a_reason_rule_whose_set_name_is_misspelt_fails_the_check_and_the_load(
    policy_copy: Callable[[], Path],
) -> None:
    """`deny contains` written `denny contains` in policies/promotion/card.rego: the rule keeps
    its METADATA (title, code CARD_SECTION_MISSING) but adds to a set no decision reads.
    Seen: `mlgate check` says ok (66 reason rules instead of 67), the service loads the set, and
    a high-risk card whose monitoring_plan is blank is allowed to staging (the shipped policies
    deny it CARD_SECTION_MISSING). Expected: a rule carrying `custom.code` that adds to none of
    deny, hold, warn, rollback is a problem naming its file and line, and the set does not load.
    """
    root = policy_copy()
    card = root / "promotion" / "card.rego"
    source = card.read_text()
    assert source.count("deny contains reason if {") == 1
    card.write_text(source.replace("deny contains reason if {", "denny contains reason if {"))
    line = 1 + card.read_text().splitlines().index("denny contains reason if {")

    problems = _problems(root)

    assert any(p.startswith(f"promotion/card.rego:{line}:") for p in problems), problems
    with pytest.raises(PolicyLoadError):
        load_policy_set(root)


def test_a_reason_rule_in_a_misspelt_package_fails_the_check_and_the_load(
    policy_copy: Callable[[], Path],
) -> None:
    """A new file of the promotion gate declaring `package mlgate.promotoin`: its deny rule goes
    to a package no gate queries. Seen: `mlgate check` says ok (it counts the rule among the
    reason rules checked), the service loads the set, GET /v1/policies lists EXTRA_FLOOR_CHECK
    in its catalogue, and every promotion the rule should deny is allowed. Expected: a reason
    rule in a package under mlgate that is neither a gate's (mlgate.<gate>) nor the library's
    (mlgate.lib...) is a problem naming the file, and the set does not load."""
    root = policy_copy()
    (root / "promotion" / "extra.rego").write_text(
        EXTRA_RULE.format(package="mlgate.promotoin", floors=FLOORS)
    )

    problems = _problems(root)

    assert any(p.startswith("promotion/extra.rego") for p in problems), problems
    with pytest.raises(PolicyLoadError):
        load_policy_set(root)


@pytest.mark.parametrize(
    "floors",
    [
        "data.mlgate.config.promotoin.tiers.high.stages.staging.floors",
        "data.mlgate.config.promotion.tiers.high.stages.staging.flors",
    ],
    ids=["data-file-name", "data-key"],
)
def test_a_reason_rule_reading_a_misspelt_data_path_fails_the_check_and_the_load(
    policy_copy: Callable[[], Path], floors: str
) -> None:
    """A rule reading its thresholds at a misspelt path of the data files (a data file name, a
    key the thresholds schema does not define): the path is undefined, so the rule never fires.
    Seen: `mlgate check` says ok, the service loads the set and allows what the rule denies
    spelt right (test_the_rule_under_test_denies_when_written_right). Expected: as for a
    misspelt input path (OPA's type checker with the schemas, `opa check --schema`), a
    reference into data.mlgate.config that the thresholds schemas do not define is a problem
    naming the file and line, and the set does not load."""
    root = policy_copy()
    (root / "promotion" / "extra.rego").write_text(
        EXTRA_RULE.format(package="mlgate.promotion", floors=floors)
    )

    problems = _problems(root)

    assert any(p.startswith("promotion/extra.rego") for p in problems), problems
    with pytest.raises(PolicyLoadError):
        load_policy_set(root)


def _misspell(root: Path, rel: str, written: str, typo: str) -> int:
    """Write `typo` for `written` (once in the file) in the copy's `rel`; its line."""
    path = root / rel
    source = path.read_text()
    assert source.count(written) == 1, written
    path.write_text(source.replace(written, typo))
    return 1 + next(i for i, line in enumerate(source.splitlines()) if written in line)


def test_a_floor_rule_reading_a_misspelt_key_of_the_stage_settings_fails_the_check(
    policy_copy: Callable[[], Path],
) -> None:
    """policies/promotion/metrics.rego's METRIC_BELOW_FLOOR rule with `"floors"` written
    `"flors"`: `object.get(stage_settings, "flors", {})` is always {}, so no floor is checked.
    Seen: `mlgate check` says ok (the check followed data.mlgate.config through alias rules
    only, and stage_settings is read through the function _settings_of and object.union), the
    service loads the set, and a high-risk model with auc 0.5 is allowed to staging, whose floor
    is 0.9 (the shipped policies deny it METRIC_BELOW_FLOOR). Expected: the read of a key the
    stage settings' schema does not define is a problem at its line, and the set does not load.
    """
    root = policy_copy()
    written = 'some name, floor in object.get(stage_settings, "floors", {})'
    line = _misspell(root, "promotion/metrics.rego", written, written.replace("floors", "flors"))

    problems = _problems(root)

    assert any(p.startswith(f"promotion/metrics.rego:{line}:") for p in problems), problems
    assert any("flors" in p and "floors" in p for p in problems), problems  # did you mean
    with pytest.raises(PolicyLoadError):
        load_policy_set(root)


@pytest.mark.parametrize(
    ("rel", "written", "typo"),
    [
        (
            "promotion/card.rego",
            'object.get(settings, "card_sections", [])',
            'object.get(settings, "card_section", [])',
        ),
        (
            "promotion/fairness.rego",
            'object.get(stage_settings, "fairness", {})',
            'object.get(stage_settings, "fairnes", {})',
        ),
        (
            "monitoring/thresholds.rego",
            'some name, ceiling in object.get(settings, "ceilings", {})',
            'some name, ceiling in object.get(settings, "cielings", {})',
        ),
    ],
    ids=["tier-settings", "object-union", "monitoring-settings"],
)
def test_a_misspelt_key_of_merged_settings_fails_the_check(
    policy_copy: Callable[[], Path], rel: str, written: str, typo: str
) -> None:
    """The same mistake where other rules read the settings the gates merge: the tier's
    settings (`settings`, from `_settings_of(tier)`), a stage's fairness limits merged over the
    tier's (object.union), the monitoring gate's settings (stages.default, the stage, the
    model's own, merged). Each such read of a key the schema does not define is a problem."""
    root = policy_copy()
    line = _misspell(root, rel, written, typo)

    assert any(p.startswith(f"{rel}:{line}:") for p in _problems(root)), _problems(root)


def test_the_floor_typo_would_allow_what_the_shipped_policies_deny(
    policy_copy: Callable[[], Path],
) -> None:
    """Why the typo above matters: loaded without the check (the engine alone), the set with
    `"flors"` allows to staging a high-risk model with auc 0.5 that the shipped set denies."""
    root = policy_copy()
    written = 'some name, floor in object.get(stage_settings, "floors", {})'
    _misspell(root, "promotion/metrics.rego", written, written.replace("floors", "flors"))
    doc = fixture_input("approved", stage="staging")
    doc["metrics"]["values"]["auc"] = 0.5
    outcomes = []
    for policies in (PROJECT_ROOT / "policies", root):
        engine = EmbeddedEngine(read_policy_set(policies))
        try:
            outcomes.append(Judge(engine, default_schemas(), default_gates()).evaluate(doc).outcome)
        finally:
            engine.close()
    assert outcomes == ["deny", "allow"]


def test_a_misspelt_key_asked_of_each_regression_spec_fails_the_check(
    policy_copy: Callable[[], Path],
) -> None:
    """policies/promotion/regression.rego's METRIC_REGRESSION_ABSOLUTE rule with
    `"min_absolute_change" in object.keys(spec)` written `"min_absolut_change"`, where `spec` is
    each value of the stage's `regression` map (`some name, spec in ...`): the rule never fires.
    Seen: `mlgate check` says ok (a variable bound by `some ... in` was not followed, a key asked
    with `in object.keys(...)` was not read as a path, and the regression schema's anyOf of
    `required` lists was taken for a union of shapes), the set loads, and `mlgate decide
    promotion --evidence fixtures/evidence/regressed --to production` allows (exit 0) what the
    shipped policies deny. Expected: a problem at the line, and the set does not load."""
    root = policy_copy()
    written = '"min_absolute_change" in object.keys(spec)'
    line = _misspell(
        root, "promotion/regression.rego", written, written.replace("absolute", "absolut")
    )

    problems = _problems(root)

    assert any(
        p.startswith(f"promotion/regression.rego:{line}:") and "min_absolute_change?" in p
        for p in problems
    ), problems
    with pytest.raises(PolicyLoadError):
        load_policy_set(root)


def test_a_misspelt_field_of_a_spec_bound_by_some_fails_the_check(
    policy_copy: Callable[[], Path],
) -> None:
    """The same through a reference: `spec.min_relative_change` written
    `spec.min_relative_chnage` where `spec` is bound by `some name, spec in <the regression
    map>` is a read of a key the schema does not define."""
    root = policy_copy()
    written = "_tolerance_note(spec.min_relative_change)"
    line = _misspell(
        root, "promotion/regression.rego", written, written.replace("change", "chnage")
    )

    assert any(p.startswith(f"promotion/regression.rego:{line}:") for p in _problems(root))


def test_a_misspelt_key_read_inside_a_library_function_fails_the_check(
    policy_copy: Callable[[], Path],
) -> None:
    """policies/lib/metrics.rego's `_greater_is_better(spec)` with `"greater_is_better"` written
    `"greater_is_beter"`: object.get's default (true) then holds for every metric, so a metric
    where lower is better (latency_p99_ms) is compared the wrong way round. Seen: `mlgate check`
    says ok (a function's argument was not followed to the thresholds its callers pass), the
    set loads, and a production candidate whose latency_p99_ms is 40 against the champion's
    29.8 (the high tier tolerates 10% slower, and its ceiling is 50) is allowed where the
    shipped policies deny it METRIC_REGRESSION_RELATIVE. Expected: a problem at the line, and
    the set does not load."""
    root = policy_copy()
    written = 'object.get(spec, "greater_is_better", true)'
    line = _misspell(root, "lib/metrics.rego", written, written.replace("better", "beter"))

    problems = _problems(root)

    assert any(
        p.startswith(f"lib/metrics.rego:{line}:") and "greater_is_better?" in p for p in problems
    ), problems
    with pytest.raises(PolicyLoadError):
        load_policy_set(root)

    doc = fixture_input("approved")
    doc["metrics"]["values"]["latency_p99_ms"] = 40.0
    outcomes = []
    for policies in (PROJECT_ROOT / "policies", root):
        engine = EmbeddedEngine(read_policy_set(policies))  # the engine alone, unchecked
        try:
            outcomes.append(Judge(engine, default_schemas(), default_gates()).evaluate(doc).outcome)
        finally:
            engine.close()
    assert outcomes == ["deny", "allow"]
