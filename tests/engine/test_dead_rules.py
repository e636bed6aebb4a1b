"""One-word typos that leave a rule compiling but dead: a reason set no decision reads, a
package no gate queries, a threshold path its schema does not define. `mlgate check` names
each at its file and line with what it expected, and the load refuses the set."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from service.engine.policycheck import check_policy_dir
from service.engine.policyset import load_policy_set
from service.errors import PolicyLoadError
from service.gates.registry import default_gates
from service.settings import PROJECT_ROOT

SCHEMAS = PROJECT_ROOT / "schemas"

REASON_RULE = """package {package}

import data.mlgate.lib.reasons

# METADATA
# title: Extra check
# description: Refuses a candidate whose auc is missing.
# custom:
#   code: EXTRA_CHECK
#   severity: high
{head} contains reason if {{
\tnot input.metrics.values.auc
\treason := reasons.from_rule(rego.metadata.rule(), "auc missing", {{}})
}}
"""
# The line of the rule head in REASON_RULE.
REASON_RULE_HEAD = 11


def _edit_first(root: Path, rel: str, old: str, new: str) -> int:
    """Replace the first line of `rel` that is `old` with `new`; its 1-based number."""
    path = root / rel
    lines = path.read_text().splitlines(keepends=True)
    index = [line.rstrip("\n") for line in lines].index(old)
    lines[index] = new + "\n"
    path.write_text("".join(lines))
    return index + 1


def _problems_at(root: Path, rel: str, line: int) -> list[str]:
    problems = check_policy_dir(root, SCHEMAS, default_gates()).problems
    return [str(p) for p in problems if (p.file, p.line) == (rel, line)]


def _refusal(root: Path) -> str:
    with pytest.raises(PolicyLoadError) as refused:
        load_policy_set(root, SCHEMAS)
    return refused.value.message


@pytest.mark.parametrize(
    ("rel", "old", "new", "expected"),
    [
        (
            "promotion/baseline.rego",
            "warn contains reason if {",
            "wran contains reason if {",
            "`wran`, which the decision of mlgate.promotion never reads: it reads deny, hold, "
            "warn (did you mean warn?)",
        ),
        (
            "monitoring/budgets.rego",
            "hold contains reason if {",
            "hodl contains reason if {",
            "`hodl`, which the decision of mlgate.monitoring never reads: it reads deny, "
            "held_too_long, hold, rollback, warn (did you mean hold?)",
        ),
    ],
    ids=["warn-in-promotion", "hold-in-monitoring"],
)
def test_a_misspelt_reason_set_is_named_with_the_sets_the_decision_reads(
    policy_copy: Callable[[], Path], rel: str, old: str, new: str, expected: str
) -> None:
    root = policy_copy()
    line = _edit_first(root, rel, old, new)

    found = _problems_at(root, rel, line)

    assert len(found) == 1 and expected in found[0], found
    assert f"{rel}:{line}:" in _refusal(root)


def test_a_set_of_another_gate_is_one_the_decision_does_not_read(
    policy_copy: Callable[[], Path],
) -> None:
    """`rollback contains` is a real reason set, but the promotion decision reads only deny,
    hold and warn: in package mlgate.promotion such a rule never fires."""
    root = policy_copy()
    source = REASON_RULE.format(package="mlgate.promotion", head="rollback")
    (root / "promotion" / "extra.rego").write_text(source)

    found = _problems_at(root, "promotion/extra.rego", REASON_RULE_HEAD)

    assert len(found) == 1, found
    assert "EXTRA_CHECK adds to `rollback`" in found[0]
    assert "never reads: it reads deny, hold, warn" in found[0]
    assert f"promotion/extra.rego:{REASON_RULE_HEAD}:" in _refusal(root)


@pytest.mark.parametrize(
    ("package", "close"),
    [
        ("mlgate.promotoin", " (did you mean mlgate.promotion?)"),
        ("mlgate.promotion.extra", " (did you mean mlgate.promotion?)"),
    ],
    ids=["misspelt", "subpackage"],
)
def test_a_reason_rule_outside_the_gate_packages_names_the_packages_expected(
    policy_copy: Callable[[], Path], package: str, close: str
) -> None:
    root = policy_copy()
    (root / "promotion" / "extra.rego").write_text(REASON_RULE.format(package=package, head="deny"))

    found = _problems_at(root, "promotion/extra.rego", REASON_RULE_HEAD)

    assert len(found) == 1, found
    assert f"is in package {package}, which no gate queries" in found[0]
    assert f"packages mlgate.monitoring, mlgate.promotion, mlgate.rollback{close};" in found[0]
    assert f"promotion/extra.rego:{REASON_RULE_HEAD}:" in _refusal(root)


@pytest.mark.parametrize(
    ("rel", "old", "new", "expected"),
    [
        (
            "monitoring/statistics.rego",
            '_spec(comparison) := object.get(_statistics, ["metrics", comparison.metric], {})',
            '_spec(comparison) := object.get(_statistics, ["metrcs", comparison.metric], {})',
            "reads data.mlgate.config.monitoring.statistics.metrcs: monitoring_config.schema.json"
            " defines no metrcs (did you mean metrics?) in "
            "data.mlgate.config.monitoring.statistics, which has confidence, marginal_score, "
            "metrics, min_intervals, pass_score;",
        ),
        (
            "promotion/promotion.rego",
            '_promotion := object.get(data.mlgate.config, "promotion", {})',
            '_promotion := object.get(data.mlgate.config, "promotoin", {})',
            "reads data.mlgate.config.promotoin: data.mlgate.config has no promotoin (did you "
            "mean promotion?); it has monitoring, promotion, rollback",
        ),
    ],
    ids=["key-through-alias-of-alias", "data-file-through-object-get"],
)
def test_a_misspelt_threshold_path_names_what_the_schema_defines(
    policy_copy: Callable[[], Path], rel: str, old: str, new: str, expected: str
) -> None:
    root = policy_copy()
    line = _edit_first(root, rel, old, new)

    found = _problems_at(root, rel, line)

    assert len(found) == 1 and expected in found[0], found
    assert f"{rel}:{line}:" in _refusal(root)


def test_a_tier_name_the_schema_does_not_list_is_refused(
    policy_copy: Callable[[], Path],
) -> None:
    """tiers lists its keys with propertyNames: a misspelt tier names nothing."""
    root = policy_copy()
    rule = (
        "package mlgate.promotion\n\n"
        '_high_floors := object.get(_promotion, ["tiers", "hihg", "stages"], {})\n'
    )
    (root / "promotion" / "extra.rego").write_text(rule)

    found = _problems_at(root, "promotion/extra.rego", 3)

    assert len(found) == 1, found
    assert "defines no hihg (did you mean high?) in data.mlgate.config.promotion.tiers" in found[0]
    assert "which has high, low, medium" in found[0]


def test_the_shipped_policies_have_no_dead_rule_nor_undefined_threshold_path() -> None:
    """The control: every reason rule shipped is read by its gate's decision, and every
    threshold path the policies read is one their schemas define."""
    problems = check_policy_dir(PROJECT_ROOT / "policies", SCHEMAS, default_gates()).problems

    assert problems == []
    load_policy_set(PROJECT_ROOT / "policies", SCHEMAS)
