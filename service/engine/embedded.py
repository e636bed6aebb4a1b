"""The embedded engine: OPA's own Go evaluator in-process, through opa-golib-python-bindings,
whose Go bridge `make install` builds against the OPA the project pins (scripts/opa_bindings.sh)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from service.engine.base import decision_path
from service.engine.bindings import (
    OpaError,
    OpaUndefinedError,
    evaluate_json,
    new_opa,
    opa_message,
)
from service.engine.policyset import PolicySet
from service.errors import PolicyEngineUnavailable, PolicyLoadError


def load_into(opa: Any, policy_set: PolicySet) -> None:
    """Add every module and the data document, then compile once so errors surface now."""
    prefix = policy_set.root.name
    try:
        for rel, source in policy_set.modules.items():
            opa.add_policy(f"{prefix}/{rel}", source)
        opa.add_data(policy_set.data)
        opa.eval_query("x := true")  # forces compilation: type errors are reported here
    except OpaError as exc:
        raise PolicyLoadError(opa_message(exc)) from None


class EmbeddedEngine:
    """One OPA instance per engine; evaluations on it are serialised by the bindings."""

    def __init__(self, policy_set: PolicySet) -> None:
        self._policy_set = policy_set
        self._opa = new_opa()
        load_into(self._opa, policy_set)

    @property
    def policy_set(self) -> PolicySet:
        return self._policy_set

    @property
    def bindings(self) -> Any:
        """The bindings' engine (`opa_bindings.OpaEngine`) this engine evaluates with."""
        return self._opa

    def evaluate(self, gate: str, input_doc: Mapping[str, Any]) -> Any:
        return self.query(decision_path(gate), input_doc)

    def query(self, path: str, input_doc: Mapping[str, Any]) -> Any:
        """The value of the rule at `path` (dotted, under data: "mlgate.promotion.decision")
        for `input_doc`, or None when the policy leaves it undefined. Raises
        PolicyEngineUnavailable when OPA fails to evaluate."""
        try:
            encoded = _input_json(input_doc)
            if encoded is None:
                return self._opa.eval_document(path, input_doc)
            return evaluate_json(self._opa, path, encoded)
        except OpaUndefinedError:
            return None
        except OpaError as exc:
            raise PolicyEngineUnavailable(f"OPA failed to evaluate: {opa_message(exc)}") from None

    def close(self) -> None:
        self._opa.close()


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")


# orjson writes these as json.dumps would not, and the bindings' own call then refuses the
# input: datetimes and dataclasses (passed to _refuse, which raises).
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
# Where orjson's text could differ from json.dumps's in what OPA is given (OPA keeps a number's
# text: json.marshal and sprintf show it). "null": None, NaN and Infinity. An exponent: orjson
# writes 1e+16 as 1e16 and 1.5e-07 as 1.5e-7; in compact JSON a number's exponent ends at ",",
# "}" or "]", where an exponent-like run in a string (a hex digest) goes on or ends at '"'.
# "0.0000": orjson writes 1e-05 as 0.00001. A string that looks the same only costs the
# bindings' path. The three scans take 10 µs on the promotion input (a regular expression
# anchored on the ":" or "," before a number took 45 µs).
_EXPONENT = re.compile(rb"e-?\d+[,}\]]")  # orjson writes "e", never "E"


def _input_json(input_doc: Mapping[str, Any]) -> bytes | None:
    """The input's JSON by orjson, or None where it could give OPA other than what the bindings'
    own encoding (`json.dumps`) gives: a value orjson refuses (integers beyond 64 bits, keys that
    are not strings, lone surrogates) or that json.dumps refuses (dates), NaN and Infinity
    (orjson writes null; json.dumps writes tokens OPA refuses, so the gate fails closed), and
    numbers whose text differs (see _EXPONENT). Every float's text was compared with json.dumps's
    on 200,000 random doubles and every power of ten: each that differs is caught here."""
    try:
        encoded = orjson.dumps(input_doc, default=_refuse, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError
        return None
    if b"null" in encoded or b"0.0000" in encoded or _EXPONENT.search(encoded):
        return None
    return encoded
