"""mlgate's regression rules against MLflow's own model validation, case by case.

MLflow's `validate_evaluation_results` (mlflow.models.evaluation.validation, the real code,
from mlflow-skinny) judges a grid of champions and candidates for every regression spec
MLflow's `MetricThreshold` accepts; the promotion policy judges the same cases with the real
OPA engine. They agree everywhere but for one documented difference: OPA computes in decimal
and MLflow in binary floating point, so a candidate within a few float roundings of the
threshold (0.94 against 0.93 + 0.01, which is 0.9400000000000001 in floats) can fall on
either side. Specs MLflow refuses (negative tolerances) are mlgate's documented extension.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import yaml

mlflow_validation = pytest.importorskip("mlflow.models.evaluation.validation")
from mlflow.models.evaluation import EvaluationResult  # noqa: E402

from service.engine.embedded import EmbeddedEngine  # noqa: E402
from tests.conftest import POLICY_DIR, fixture_input  # noqa: E402

MetricThreshold = mlflow_validation.MetricThreshold
BASELINES = [-1000.5, -0.35, -1e-9, 0.0, 1e-9, 0.35, 0.93, 30.0, 1e6]
ABSOLUTE = [1e-10, 0.01, 0.5, 5.0]
RELATIVE = [0.0, 0.02, 0.1, 0.5, 1.0]
ROUNDINGS = 4  # how many float roundings apart a boundary case may be


def specs() -> Iterator[dict[str, Any]]:
    for greater_is_better in (True, False):
        for change in ABSOLUTE:
            yield {"greater_is_better": greater_is_better, "min_absolute_change": change}
        for change in RELATIVE:
            yield {"greater_is_better": greater_is_better, "min_relative_change": change}


def mlflow_threshold(baseline: float, spec: dict[str, Any]) -> float:
    """Where MLflow's formula puts the boundary, in floats (only to pick candidates near it)."""
    sign = 1 if spec["greater_is_better"] else -1
    if "min_absolute_change" in spec:
        return baseline + sign * spec["min_absolute_change"]
    if baseline == 0:
        return sign * 1e-10
    return baseline + sign * spec["min_relative_change"] * abs(baseline)


def candidates(baseline: float, spec: dict[str, Any]) -> list[float]:
    edge = mlflow_threshold(baseline, spec)
    near = [math.nextafter(edge, -math.inf), edge, math.nextafter(edge, math.inf)]
    scale = max(abs(baseline), 1e-9)
    around = [baseline + f * scale for f in (-2, -0.5, -0.01, 0, 0.01, 0.5, 2)]
    return sorted({*near, *around, 0.0, -1e-10, 1e-10, baseline})


def mlflow_passes(candidate: float, baseline: float, spec: dict[str, Any]) -> bool:
    thresholds = {"m": MetricThreshold(**spec)}
    try:
        mlflow_validation.validate_evaluation_results(
            thresholds,
            EvaluationResult(metrics={"m": candidate}, artifacts={}),
            EvaluationResult(metrics={"m": baseline}, artifacts={}),
        )
    except mlflow_validation.ModelValidationFailedException:
        return False
    return True


# The config is bound before `with input as doc`, which would otherwise change what
# `input.config` means.
QUERY = """
config := input.config
x := [codes |
	some doc in input.docs
	denials := data.mlgate.promotion.deny with input as doc with data.mlgate.config as config
	codes := [r.code | some r in denials; startswith(r.code, "METRIC_REGRESSION")]
]
"""


def mlgate_passes(
    engine: EmbeddedEngine, cands: list[float], baseline: float, spec: dict[str, Any]
) -> list[bool]:
    """The promotion policy's own regression rules, one candidate per input document."""
    config = {
        "promotion": {"tiers": {"high": {"stages": {"production": {"regression": {"m": spec}}}}}}
    }
    docs = []
    for candidate in cands:
        doc = fixture_input("approved")
        doc["metrics"]["values"] = {"m": candidate}
        doc["baseline"]["metrics"]["values"] = {"m": baseline}
        docs.append(doc)
    rows = engine._opa.eval_query(QUERY, {"docs": docs, "config": config})
    return [codes == [] for codes in rows[0]["x"]]


def within_roundings(candidate: float, baseline: float, spec: dict[str, Any]) -> bool:
    """The documented difference: the candidate sits within a few float roundings of the
    boundary computed exactly (in decimal, as OPA does)."""
    b, c = Decimal(repr(baseline)), Decimal(repr(candidate))
    sign = 1 if spec["greater_is_better"] else -1
    if "min_absolute_change" in spec:
        edge = b + sign * Decimal(repr(spec["min_absolute_change"]))
    elif baseline == 0:
        edge = sign * Decimal("1e-10")
    else:
        edge = b + sign * Decimal(repr(spec["min_relative_change"])) * abs(b)
    ulp = Decimal(math.ulp(float(edge))) + Decimal(math.ulp(baseline))
    return abs(c - edge) <= ROUNDINGS * ulp


@pytest.fixture(scope="module")
def engine() -> Iterator[EmbeddedEngine]:
    from service.engine.policyset import load_policy_set

    engine = EmbeddedEngine(load_policy_set(POLICY_DIR))
    yield engine
    engine.close()


@pytest.mark.parametrize("spec", list(specs()), ids=lambda s: str(sorted(s.items())))
def test_mlgate_agrees_with_mlflow_on_every_case(
    engine: EmbeddedEngine, spec: dict[str, Any]
) -> None:
    compared = 0
    rounding = []
    undocumented = []
    for baseline in BASELINES:
        cands = candidates(baseline, spec)
        for candidate, ours in zip(
            cands, mlgate_passes(engine, cands, baseline, spec), strict=True
        ):
            theirs = mlflow_passes(candidate, baseline, spec)
            compared += 1
            if ours != theirs:
                where = rounding if within_roundings(candidate, baseline, spec) else undocumented
                where.append((baseline, candidate, f"mlgate {ours}, MLflow {theirs}"))

    assert compared >= 9 * 10
    assert undocumented == []
    assert len(rounding) <= compared // 10  # boundary cases only (33 of 2034 over all specs)


def test_a_negative_champion_is_judged_by_its_magnitude_like_mlflow(engine: EmbeddedEngine) -> None:
    """Finding 4: neg_log_loss -0.35, greater is better; -0.40 is worse, -0.30 better."""
    spec = {"greater_is_better": True, "min_relative_change": 0.0}
    cands = [-0.40, -0.30]

    ours = mlgate_passes(engine, cands, -0.35, spec)

    assert ours == [mlflow_passes(c, -0.35, spec) for c in cands] == [False, True]


def test_a_zero_champion_uses_mlflows_fallback(engine: EmbeddedEngine) -> None:
    spec = {"greater_is_better": True, "min_relative_change": 0.1}
    cands = [0.0, 1e-11, 1e-10, 0.5]

    ours = mlgate_passes(engine, cands, 0.0, spec)

    assert ours == [mlflow_passes(c, 0.0, spec) for c in cands] == [False, False, True, True]


def shipped_specs() -> Iterator[tuple[str, dict[str, Any]]]:
    config = yaml.safe_load((POLICY_DIR / "data" / "promotion.yaml").read_text())
    for tier, settings in config["tiers"].items():
        for stage, stage_settings in settings.get("stages", {}).items():
            for metric, spec in stage_settings.get("regression", {}).items():
                yield f"{tier}.{stage}.{metric}", spec


@pytest.mark.parametrize(("where", "spec"), list(shipped_specs()), ids=lambda v: str(v))
def test_shipped_specs_are_mlflows_or_the_documented_extension(
    where: str, spec: dict[str, Any]
) -> None:
    negative = any(spec.get(k, 0) < 0 for k in ("min_absolute_change", "min_relative_change"))
    try:
        MetricThreshold(**{k: float(v) if k.startswith("min_") else v for k, v in spec.items()})
    except mlflow_validation.MetricThresholdClassException:
        refused = True
    else:
        refused = False
    # MLflow refuses exactly the negative tolerances (and a 0 absolute change), which the data
    # file, the README and the reason text call mlgate's own.
    zero_absolute = spec.get("min_absolute_change") == 0
    assert refused == (negative or zero_absolute), where
