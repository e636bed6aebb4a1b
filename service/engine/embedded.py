"""The embedded engine: OPA's own Go evaluator in-process, through opa-golib-python-bindings,
whose Go bridge `make install` builds against the OPA the project pins (scripts/opa_bindings.sh)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from service.engine.base import decision_path
from service.engine.policyset import PolicySet
from service.errors import PolicyEngineUnavailable, PolicyLoadError

# Go reads GOGC once, when the bindings' library loads. OPA's live heap is small, so Go's
# default (collect when the heap has doubled) collects every few evaluations and costs about a
# third of each one; at 800 an engine holds some 35 MB more and evaluates about 1.5x faster
# (bench/engine.py prints both). An operator's own GOGC is left as it is.
os.environ.setdefault("GOGC", "800")

try:
    from opa_bindings import OpaEngine, OpaError, OpaUndefinedError, _native
except ImportError:  # pragma: no cover - exercised only on a broken install
    OpaEngine = None

INSTALL_HINT = (
    "the embedded OPA engine is not installed: run `make install`, or "
    "`pip install --ignore-requires-python opa-golib-python-bindings==0.4.4`"
)
# OPA wraps compile errors in these prefixes; the file:line message after them is what people need.
_NOISE = re.compile(r"^(bundle activation failed: )?(\d+ errors? occurred:\s*)?")


def bridge_library() -> Path:
    """The Go c-shared library the bindings load (its build information names the OPA version
    it was built with: `go version -m PATH`)."""
    if OpaEngine is None:
        raise PolicyEngineUnavailable(INSTALL_HINT)
    return Path(_native._LIB_PATH)


def new_opa() -> Any:
    if OpaEngine is None:
        raise PolicyEngineUnavailable(INSTALL_HINT)
    return OpaEngine()


def opa_message(exc: Exception) -> str:
    """OPA's error text without its wrapping, one problem per line."""
    message = getattr(exc, "message", str(exc))
    return _NOISE.sub("", message).strip()


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

    def evaluate(self, gate: str, input_doc: Mapping[str, Any]) -> Any:
        return self.query(decision_path(gate), input_doc)

    def query(self, path: str, input_doc: Mapping[str, Any]) -> Any:
        """The value of the rule at `path` (dotted, under data: "mlgate.promotion.decision")
        for `input_doc`, or None when the policy leaves it undefined. Raises
        PolicyEngineUnavailable when OPA fails to evaluate."""
        try:
            return self._opa.eval_document(path, input_doc)
        except OpaUndefinedError:
            return None
        except OpaError as exc:
            raise PolicyEngineUnavailable(f"OPA failed to evaluate: {opa_message(exc)}") from None

    def close(self) -> None:
        self._opa.close()
