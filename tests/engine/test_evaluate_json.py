"""The embedded engine's own encoding of the input (orjson, service/engine/embedded.py) gives
OPA what the bindings' `eval_document` gives it, and fails closed where they would."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from service.engine.base import decision_path
from service.engine.bindings import OpaError, OpaUndefinedError, evaluate_json
from service.engine.embedded import EmbeddedEngine
from service.errors import PolicyEngineUnavailable
from service.gates.registry import default_gates
from tests.conftest import EVIDENCE_DIR, fixture_input

FIXTURES = sorted(path.name for path in EVIDENCE_DIR.iterdir() if path.is_dir())


def library_value(engine: EmbeddedEngine, path: str, input_doc: Any) -> Any:
    """The bindings' own call, as the engine made it before it encoded inputs itself."""
    try:
        return engine.bindings.eval_document(path, input_doc)
    except OpaUndefinedError:
        return None


@pytest.mark.parametrize("stage", ["staging", "production"])
@pytest.mark.parametrize("fixture", FIXTURES)
def test_every_fixture_and_gate_decides_as_through_the_library(
    engine: EmbeddedEngine, fixture: str, stage: str
) -> None:
    input_doc = fixture_input(fixture, stage)
    for gate in default_gates():
        path = decision_path(gate)
        assert engine.query(path, {**input_doc, "gate": gate}) == library_value(
            engine, path, {**input_doc, "gate": gate}
        ), gate


def test_an_undefined_rule_is_none_as_through_the_library(engine: EmbeddedEngine) -> None:
    input_doc = fixture_input("approved")
    assert library_value(engine, "mlgate.promotion.no_such_rule", input_doc) is None
    assert engine.query("mlgate.promotion.no_such_rule", input_doc) is None
    with pytest.raises(OpaUndefinedError):
        evaluate_json(engine.bindings, "mlgate.promotion.no_such_rule", b"{}")


def test_a_bridge_error_is_an_engine_error(engine: EmbeddedEngine) -> None:
    with pytest.raises(OpaError, match=r"^invalid_json: "):
        evaluate_json(engine.bindings, "mlgate.promotion.decision", b"{not json")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_number_fails_closed_as_through_the_library(
    engine: EmbeddedEngine, value: float
) -> None:
    """orjson would write NaN as null, which a policy could read as "no value"; the bindings'
    json.dumps writes a token OPA refuses, so the gate fails closed. The engine keeps that."""
    input_doc = copy.deepcopy(fixture_input("approved"))
    input_doc["metrics"]["values"]["auc"] = value
    with pytest.raises(OpaError):
        engine.bindings.eval_document("mlgate.promotion.decision", input_doc)
    with pytest.raises(PolicyEngineUnavailable):
        engine.evaluate("promotion", input_doc)


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda doc: doc["metrics"].update(big=2**70), id="integer beyond 64 bits"),
        pytest.param(lambda doc: doc["metrics"].update({7: "seven"}), id="key not a string"),
        pytest.param(lambda doc: doc.update(note=None), id="null"),
        pytest.param(lambda doc: doc.update(note="null but a string"), id="the word null"),
        pytest.param(lambda doc: doc.update(note="é ∑ \u2028 \x00"), id="non-ASCII and NUL"),
    ],
)
def test_values_orjson_writes_otherwise_decide_as_through_the_library(
    engine: EmbeddedEngine, edit: Any
) -> None:
    input_doc = copy.deepcopy(fixture_input("approved"))
    edit(input_doc)
    path = decision_path("promotion")
    assert engine.query(path, input_doc) == library_value(engine, path, input_doc)
