"""OPA's Go library in-process, through opa-golib-python-bindings: one place loads it.

The embedded engine (service/engine/embedded.py) evaluates with it, and the policy checks
parse Rego with it (`rego.parse_module`), so the checks need no engine of their own. The Go
bridge is built against the OPA the project pins (scripts/opa_bindings.sh).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from service.errors import PolicyEngineUnavailable

__all__ = [
    "INSTALL_HINT",
    "OpaError",
    "OpaUndefinedError",
    "bridge_library",
    "evaluate_json",
    "new_opa",
    "opa_message",
]

# Go reads GOGC once, when the bindings' library loads. OPA's live heap is small, so Go's
# default (collect when the heap has doubled) collects every few evaluations and costs about a
# third of each one; at 800 an engine holds some 35 MB more and evaluates about 1.5x faster
# (bench/engine.py prints both). An operator's own GOGC is left as it is.
os.environ.setdefault("GOGC", "800")

try:
    from opa_bindings import OpaEngine, OpaError, OpaUndefinedError, _native
except ImportError:  # pragma: no cover - exercised only on a broken install
    OpaEngine = None

    class OpaError(Exception):  # type: ignore[no-redef]
        """Stands in for the bindings' error when they are missing: never raised."""

    class OpaUndefinedError(OpaError):  # type: ignore[no-redef,misc]
        """Stands in for the bindings' undefined result when they are missing."""


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


def evaluate_json(opa: Any, path: str, document: bytes) -> Any:
    """The value of `data.<path>` (dotted) for the input whose JSON is `document` (UTF-8, no
    NUL byte): the bindings' `eval_document`, less its encoding of the input.

    `eval_document(path, input)` encodes the input with `json.dumps`: on the promotion
    decision's 4 KB input, `bench/engine.py` times it 33-62 µs slower per evaluation than this
    call with orjson's encoding (both on one OPA instance, in one run). This is the same call
    with the caller's encoding, taking the same lock and keeping the same per-evaluation state
    (prints). Raises OpaUndefinedError when the document is undefined, OpaError when OPA fails,
    as `eval_document` does. It reads the bindings' private members, which
    `opa-golib-python-bindings==0.4.4` (pinned) has; tests/engine/test_evaluate_json.py holds
    it to `eval_document`'s results.
    """
    with opa._eval_lock:
        opa._eval_reset()
        envelope = opa._call(opa._lib.OpaEvalDocument, path.encode(), document, 0, 0)
        results = opa._eval_result(envelope)
    if not results or not results[0].get("expressions"):
        raise OpaUndefinedError(f"data.{path}")
    return results[0]["expressions"][0]["value"]


def opa_message(exc: Exception) -> str:
    """OPA's error text without its wrapping, one problem per line."""
    message = getattr(exc, "message", str(exc))
    return _NOISE.sub("", message).strip()
