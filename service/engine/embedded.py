"""The embedded engine: OPA's own Go evaluator in-process, through opa-golib-python-bindings,
whose Go bridge `make install` builds against the OPA the project pins (scripts/opa_bindings.sh)."""

from __future__ import annotations

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


def _input_json(input_doc: Mapping[str, Any]) -> bytes | None:
    """The input's JSON by orjson, or None where orjson's JSON could differ from what the
    bindings' own encoding (`json.dumps`) gives OPA: a value orjson refuses (integers beyond 64
    bits, keys that are not strings, lone surrogates) or writes as null (NaN and Infinity,
    which `json.dumps` writes as tokens OPA refuses, so the gate fails closed). orjson writes
    "null" only for None, NaN and Infinity, so JSON without those letters holds neither of the
    last two; a document with a null, or the word in a string, takes the bindings' path."""
    try:
        encoded = orjson.dumps(input_doc)
    except TypeError:  # orjson.JSONEncodeError
        return None
    return None if b"null" in encoded else encoded
