"""What the decision path needs from a policy engine, whichever OPA answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from service.engine.policyset import PolicySet


class PolicyEngine(Protocol):
    """Evaluates data.mlgate.<gate>.decision, or another rule of the policy set, on an input
    document."""

    @property
    def policy_set(self) -> PolicySet: ...

    def evaluate(self, gate: str, input_doc: Mapping[str, Any]) -> Any:
        """The decision document, or None when the policy leaves it undefined.

        Raises PolicyEngineUnavailable when the engine fails to evaluate.
        """
        ...

    def query(self, path: str, input_doc: Mapping[str, Any]) -> Any:
        """The value of any rule at `path` (dotted, under data) for `input_doc`, or None when
        the policy leaves it undefined; evaluate(gate, ...) is query("mlgate.<gate>.decision",
        ...). Raises PolicyEngineUnavailable when the engine fails to evaluate."""
        ...


def decision_path(gate: str) -> str:
    return f"mlgate.{gate}.decision"
