"""Inputs on which orjson's text differs from json.dumps's: the embedded engine (service/engine/
embedded.py) must give OPA what the bindings' `eval_document` gives it, down to a number's text,
which a policy can read (json.marshal, sprintf)."""

from __future__ import annotations

import copy
import datetime
from typing import Any

import pytest

from service.engine.bindings import OpaUndefinedError
from service.engine.embedded import EmbeddedEngine
from service.engine.policyset import load_policy_set
from tests.conftest import POLICY_DIR, fixture_input

# A policy may write a number's text: OPA keeps the JSON literal it was given, so json.marshal
# and sprintf of an array or object show it as written (0.00001 from orjson, 1e-05 from
# json.dumps), and a rule comparing that text decides differently.
_TEXT_POLICY = """package attack.text

import rego.v1

written := json.marshal(input.metrics.values.auc)

listed := sprintf("%v", [[input.metrics.values.auc]])

allow if json.marshal(input.metrics.values.auc) in {"1e-05", "1.5e-07", "9.9e-05"}
"""


@pytest.fixture(scope="module")
def text_engine() -> EmbeddedEngine:
    engine = EmbeddedEngine(load_policy_set(POLICY_DIR))
    engine.bindings.add_policy("attack/text.rego", _TEXT_POLICY)
    return engine


def _library(engine: EmbeddedEngine, path: str, doc: Any) -> Any:
    try:
        return engine.bindings.eval_document(path, doc)
    except OpaUndefinedError:
        return None
    except Exception as exc:
        return type(exc)


@pytest.mark.parametrize("value", [1e-05, 1.5e-07, 9.9e-05, 1e16, -2.5e22, 5e-324])
@pytest.mark.parametrize("path", ["attack.text.written", "attack.text.listed", "attack.text.allow"])
def test_a_small_float_reads_as_through_the_library(
    text_engine: EmbeddedEngine, value: float, path: str
) -> None:
    """orjson writes 1e-05 as 0.00001, 1.5e-07 as 1.5e-7 and 1e+16 as 1e16: a policy's text of
    the number, and a rule decided on it, must not differ from the library's."""
    doc = copy.deepcopy(fixture_input("approved"))
    doc["metrics"]["values"]["auc"] = value
    assert text_engine.query(path, doc) == _library(text_engine, path, doc)


@pytest.mark.parametrize(
    "value",
    [datetime.date(2026, 11, 1), datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)],
    ids=["date", "datetime"],
)
def test_a_value_json_has_not_fails_as_through_the_library(
    text_engine: EmbeddedEngine, value: Any
) -> None:
    """YAML reads `2026-11-01` as a date; json.dumps refuses it (TypeError), orjson writes it
    as a string, so the engine decides on an input the library would not evaluate at all."""
    doc = copy.deepcopy(fixture_input("approved"))
    doc["model_card"]["last_reviewed"] = value
    path = "mlgate.promotion.decision"
    assert _library(text_engine, path, doc) is TypeError
    with pytest.raises(TypeError):
        text_engine.query(path, doc)
