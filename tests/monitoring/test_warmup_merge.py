"""The warm-up the statistics leave out is the policy's: the same merge of its settings as
policies/monitoring/monitoring.rego makes (models.<name>.<stage> over models.<name>.default
over stages.<stage> over stages.default)."""

from __future__ import annotations

from typing import Any

import pytest

from service.engine.policyset import load_policy_set
from service.evidence.snapshots import warmup_intervals
from tests.conftest import POLICY_DIR


def config(**levels: int) -> dict[str, Any]:
    place = {
        "stage_default": ("stages", "default"),
        "stage": ("stages", "canary"),
        "model_default": ("models", "m", "default"),
        "model_stage": ("models", "m", "canary"),
    }
    made: dict[str, Any] = {}
    for level, value in levels.items():
        node = made
        for key in place[level]:
            node = node.setdefault(key, {})
        node["warmup_intervals"] = value
    return made


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ({}, 0),
        ({"stage_default": 1}, 1),
        ({"stage_default": 1, "stage": 2}, 2),
        ({"stage_default": 1, "stage": 2, "model_default": 3}, 3),
        ({"stage_default": 1, "stage": 2, "model_default": 3, "model_stage": 4}, 4),
        ({"stage": 0, "stage_default": 5}, 0),
    ],
)
def test_the_most_specific_setting_wins(levels: dict[str, int], expected: int) -> None:
    assert warmup_intervals(config(**levels), "canary", "m") == expected


def test_the_shipped_thresholds_warm_up_a_canary_for_one_interval() -> None:
    monitoring = load_policy_set(POLICY_DIR).config["monitoring"]

    assert warmup_intervals(monitoring, "canary", "fraud-detector") == 1
    assert warmup_intervals(monitoring, "production", "fraud-detector") == 0
