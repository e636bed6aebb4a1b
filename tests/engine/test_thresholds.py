"""Thresholds files are checked against their schema when the policy set loads (finding 1)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from service.engine.policyset import load_policy_set
from service.engine.problems import Problem
from service.engine.thresholds import config_problems
from service.errors import PolicyLoadError
from service.settings import PROJECT_ROOT

CONFIG = "data/promotion.yaml"
SCHEMAS = PROJECT_ROOT / "schemas"


def edited(root: Path, old: str, new: str) -> Path:
    config = root / CONFIG
    text = config.read_text()
    assert old in text, f"{old!r} is not in {CONFIG}"
    config.write_text(text.replace(old, new, 1))
    return root


def line_of(root: Path, text: str) -> int:
    """The 1-based line of the thresholds file where `text` first appears."""
    lines = (root / CONFIG).read_text().splitlines()
    return next(n for n, line in enumerate(lines, start=1) if text in line)


def problems(root: Path) -> list[str]:
    return [str(p) for p in config_problems(root, [CONFIG], SCHEMAS)]


def test_shipped_thresholds_match_their_schema() -> None:
    assert problems(PROJECT_ROOT / "policies") == []


def test_misspelt_floors_key_refuses_the_policy_set(policy_copy: Callable[[], Path]) -> None:
    # On the old code this loaded, and auc 0.60 passed the high-risk canary (floor 0.90).
    root = edited(policy_copy(), "floors: {auc: 0.90, recall", "flors: {auc: 0.90, recall")

    with pytest.raises(PolicyLoadError) as refused:
        load_policy_set(root)

    assert refused.value.message == (
        "the policy set is refused (1 problem):\n"
        f"data/promotion.yaml:{line_of(root, 'flors:')}: "
        "tiers.high.stages.canary: unknown key flors "
        "(not in promotion_config.schema.json; misspelt?)"
    )


def test_ceiling_written_5e1_refuses_the_set_and_names_the_fix(
    policy_copy: Callable[[], Path],
) -> None:
    # PyYAML (YAML 1.1) reads 5e1 as the text "5e1"; Rego orders every number below any text,
    # so on the old code 61 ms passed a "5e1" ms ceiling.
    root = edited(
        policy_copy(), "ceilings: {latency_p99_ms: 50,", "ceilings: {latency_p99_ms: 5e1,"
    )

    with pytest.raises(
        PolicyLoadError,
        match=re.escape(
            f"data/promotion.yaml:{line_of(root, 'latency_p99_ms: 5e1')}: "
            "tiers.high.stages.canary.ceilings.latency_p99_ms: "
            "found the text '5e1' where a number belongs: "
            "YAML 1.1 reads 5e1 as text; write 50 or 5.0e+1"
        ),
    ):
        load_policy_set(root)


def test_regression_spec_written_1e_2_refuses_the_set_at_the_data_file(
    policy_copy: Callable[[], Path],
) -> None:
    # On the old code every decision of the tier became an engine error blaming lib/metrics.rego.
    root = edited(policy_copy(), "min_relative_change: -0.02", "min_relative_change: 1e-2")

    assert problems(root) == [
        f"data/promotion.yaml:{line_of(root, 'min_relative_change: 1e-2')}: "
        "tiers.high.stages.production.regression.recall_at_1pct_fpr"
        ".min_relative_change: found the text '1e-2' where a number belongs: "
        "YAML 1.1 reads 1e-2 as text; write 0.01 or 1.0e-2"
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("non_waivable:", "non_waiveable:", "(file): unknown key non_waiveable"),
        ("  high:\n", "  hihg:\n", 'tiers: "hihg" is not one of'),
        (
            "      staging:\n        floors: {auc: 0.85}",
            "      stagin:\n        floors: {auc: 0.85}",
            'tiers.high.stages: "stagin" is not one of',
        ),
        (
            "ceilings: {latency_p99_ms: 80}",
            "cielings: {latency_p99_ms: 80}",
            "unknown key cielings",
        ),
        ("baseline_required: true", "baseline_required: 'yes'", 'baseline_required: "yes" is not'),
        (
            "floors: {auc: 0.85}",
            "floors: {auc: '0.85'}",
            "floors.auc: found the text '0.85' where a number belongs: "
            "YAML reads it as text; write 0.85",
        ),
        (
            "{greater_is_better: true, min_absolute_change: 0.0}",
            "{greater_is_better: true, min_absolute_chnage: 0.0}",
            "unknown key min_absolute_chnage",
        ),
        (
            "{greater_is_better: true, min_absolute_change: 0.0}",
            "{min_absolute_change: 0.0}",
            '"greater_is_better" is a required property',
        ),
        (
            "{greater_is_better: true, min_absolute_change: 0.0}",
            "{greater_is_better: true}",
            "is not valid under any of the schemas listed in the 'anyOf' keyword",
        ),
        (
            "fairness: {tpr: {max_gap: 0.05}}",
            "fairness: {tpr: {max_gap: 5e-2}}",
            "found the text '5e-2' where a number belongs",
        ),
        (
            "fairness: {tpr: {max_gap: 0.05}}",
            "fairness: {tpr: {max_gaps: 0.05}}",
            "unknown key max_gaps",
        ),
        (
            "fairness: {tpr: {max_gap: 0.05}}",
            "fairness: {metric: tpr, max_gap: 0.05}",
            "fairness.metric",
        ),
        (
            "card_sections: [monitoring_plan]",
            "card_section: [monitoring_plan]",
            "unknown key card_section",
        ),
        (
            "approver_roles: [model-risk-officer]",
            "approvers: [model-risk-officer]",
            "unknown key approvers",
        ),
        ("  canary: [staging]", "  on: [staging]", "the key True is not text"),
        (
            "          floors: {auc: 0.88}",
            "          floor: {auc: 0.88}",
            "tiers.medium.stages.production.first_deployment: unknown key floor",
        ),
        (
            "          approver_roles: [model-risk-officer]\n          floors: {auc: 0.88}",
            "          floors: {auc: 0.88}",
            'first_deployment: "approver_roles" is a required property',
        ),
        (
            "          approver_roles: [model-risk-officer]\n          floors: {auc: 0.88}",
            "          approver_roles: []\n          floors: {auc: 0.88}",
            "first_deployment.approver_roles: [] has less than 1 item",
        ),
        (  # first_deployment where no champion is compared against
            "        baseline_required: true\n        regression:\n"
            "          auc: {greater_is_better: true, min_absolute_change: -0.005}",
            "        regression:\n          auc: {greater_is_better: true, min_absolute_change:"
            " -0.005}",
            'tiers.medium.stages.production: "baseline_required" is a required property',
        ),
    ],
)
def test_every_kind_of_thresholds_mistake_is_refused(
    policy_copy: Callable[[], Path], old: str, new: str, expected: str
) -> None:
    found = problems(edited(policy_copy(), old, new))

    assert len(found) >= 1
    assert any(expected in p for p in found), found


def test_a_data_file_without_a_schema_is_not_checked(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "extra.yaml").write_text("anything: [goes]\n")

    assert config_problems(tmp_path, ["data/extra.yaml"], SCHEMAS) == []


def test_a_problem_without_a_line_names_the_file() -> None:
    assert str(Problem("data/promotion.yaml", 0, "cannot be read")) == (
        "data/promotion.yaml: cannot be read"
    )
