"""A rule that can give a reason without METADATA code and severity refuses the set (finding 2)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service.decision.judge import Judge
from service.engine.catalogue import rule_catalogue
from service.engine.embedded import EmbeddedEngine
from service.engine.policyset import load_policy_set, read_policy_set
from service.engine.rulecheck import rule_problems
from service.errors import PolicyLoadError
from service.gates.registry import default_gates
from service.schemas import default_schemas
from tests.conftest import POLICY_DIR

UNANNOTATED = """package mlgate.promotion

deny contains reason if {
\tinput.metrics.values.auc < 0.95
\treason := {"message": "auc under 0.95"}
}
"""


def with_module(root: Path, source: str, name: str = "extra.rego") -> Path:
    (root / "promotion" / name).write_text(source)
    return root


def messages(root: Path) -> list[str]:
    return [str(p) for p in rule_problems(read_policy_set(root))]


def test_a_deny_rule_without_metadata_refuses_the_policy_set(
    policy_copy: Callable[[], Path],
) -> None:
    # On the old code this loaded, `mlgate test` passed and the gate allowed auc 0.94.
    root = with_module(policy_copy(), UNANNOTATED)

    with pytest.raises(PolicyLoadError) as refused:
        load_policy_set(root)

    assert refused.value.message == (
        "the policy set is refused (1 problem):\n"
        "promotion/extra.rego:3: a rule adding to `deny` needs METADATA with title and "
        "custom: {code, severity}; it has none"
    )


def annotated(meta: str, head: str = "deny contains reason if {") -> str:
    return f"package mlgate.promotion\n\n# METADATA\n{meta}{head}\n\treason := 1\n}}\n"


@pytest.mark.parametrize(
    ("meta", "head", "expected"),
    [
        (
            "# title: T\n# costum:\n#   code: X_Y\n#   severity: high\n",
            "deny contains reason if {",
            "custom is missing (found costum, title)",
        ),
        (
            "# title: T\n# custom:\n#   cod: X_Y\n#   severity: high\n",
            "hold contains reason if {",
            "custom.code is missing or not UPPER_SNAKE_CASE (custom has cod, severity)",
        ),
        (
            "# title: T\n# custom:\n#   code: x-y\n#   severity: high\n",
            "warn contains reason if {",
            "custom.code is missing or not UPPER_SNAKE_CASE",
        ),
        (
            "# title: T\n# custom:\n#   code: X_Y\n",
            "rollback contains reason if {",
            "custom.severity of X_Y is None",
        ),
        (
            "# title: T\n# custom:\n#   code: X_Y\n#   severity: hgh\n",
            "deny contains reason if {",
            "custom.severity of X_Y is 'hgh'",
        ),
        (
            "# custom:\n#   code: X_Y\n#   severity: high\n",
            "deny contains reason if {",
            "X_Y has no METADATA title",
        ),
        ("# title: T\n# custom: [\n", "deny contains reason if {", "METADATA is not valid YAML"),
    ],
)
def test_every_reason_set_needs_a_code_and_severity(
    policy_copy: Callable[[], Path], meta: str, head: str, expected: str
) -> None:
    found = messages(with_module(policy_copy(), annotated(meta, head)))

    assert len(found) == 1 and found[0].startswith("promotion/extra.rego:"), found
    assert expected in found[0]


def test_two_rules_with_one_code_refuse_the_set(policy_copy: Callable[[], Path]) -> None:
    meta = "# title: T\n# custom:\n#   code: METRIC_BELOW_FLOOR\n#   severity: high\n"

    found = messages(with_module(policy_copy(), annotated(meta)))

    [floor] = [
        e for e in rule_catalogue(read_policy_set(POLICY_DIR)) if e.code == "METRIC_BELOW_FLOOR"
    ]
    assert found == [
        f"{floor.file}:{floor.line}: code METRIC_BELOW_FLOOR is already used by the "
        "rule at promotion/extra.rego:8; codes must be unique"
    ]


def test_comments_above_a_metadata_block_are_not_part_of_it(
    policy_copy: Callable[[], Path],
) -> None:
    meta = "# title: T\n# custom:\n#   code: X_Y\n#   severity: high\n"
    source = annotated(meta).replace("# METADATA\n", "# Why this rule exists.\n# METADATA\n")

    assert messages(with_module(policy_copy(), source)) == []


def test_tests_and_helpers_need_no_metadata(policy_copy: Callable[[], Path]) -> None:
    helper = 'package mlgate.promotion\n\ndenylisted := {"x"}\n\n_deny_count := 0\n'
    test = "package mlgate.promotion_test\n\ndeny contains 1 if true\n"
    root = with_module(with_module(policy_copy(), helper), test, name="extra_test.rego")

    assert messages(root) == []


def test_a_rule_that_slips_through_still_denies_as_critical(
    policy_copy: Callable[[], Path], approved_input: dict[str, Any]
) -> None:
    """The second line: the reason helper's fallback, should a rule get past the load check."""
    root = with_module(
        policy_copy(),
        UNANNOTATED.replace(
            '\treason := {"message": "auc under 0.95"}',
            '\treason := reasons.from_rule(rego.metadata.rule(), "auc under 0.95", {})',
        ).replace(
            "package mlgate.promotion\n",
            "package mlgate.promotion\n\nimport data.mlgate.lib.reasons\n",
        ),
    )
    engine = EmbeddedEngine(read_policy_set(root))  # unchecked, as if the load check missed it

    decision = Judge(engine, default_schemas(), default_gates()).evaluate(approved_input)

    assert decision.outcome == "deny"
    assert [r.model_dump(exclude_none=True) for r in decision.reasons] == [
        {
            "rule": "Rule without METADATA",
            "code": "RULE_METADATA_MISSING",
            "severity": "critical",
            "message": "auc under 0.95",
            "controls": [],
        }
    ]
