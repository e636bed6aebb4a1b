"""Rego modules as OPA parses them: `rego.parse_module` of OPA's Go library, in-process.

The result is OPA's JSON form of each module's AST (`package`, `imports`, `rules`, each rule
a `head` and a `body` of terms, and `else`), without locations (the builtin does not emit
them). https://www.openpolicyagent.org/docs/policy-reference/#rego (rego.parse_module).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from service.engine.bindings import OpaError, new_opa, opa_message
from service.errors import PolicyLoadError

_QUERY = "parsed := {f: rego.parse_module(f, src) | some f, src in input}"


def parse_modules(modules: Mapping[str, str]) -> dict[str, Any]:
    """Path -> OPA's AST of each module (path -> Rego source text).

    Raises PolicyLoadError with OPA's message when a module does not parse, and
    PolicyEngineUnavailable when OPA's Go library is not installed."""
    opa = new_opa()
    try:
        result = opa.eval_query(_QUERY, dict(modules))
    except OpaError as exc:
        raise PolicyLoadError(opa_message(exc)) from None
    finally:
        opa.close()
    parsed: dict[str, Any] = result[0]["parsed"]
    return parsed


def package_of(module: Mapping[str, Any]) -> str:
    """The dotted package of a parsed module, without `data.`."""
    return ".".join(str(part["value"]) for part in module["package"]["path"][1:])


def rule_name(rule: Mapping[str, Any]) -> str:
    """The first name of a rule's head (`deny` of `deny contains r`, `a` of `a.b := 1`)."""
    return str(rule["head"]["ref"][0]["value"])


def import_aliases(module: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Name -> the data path it stands for, of each `import data...` (its alias, else the
    path's last key); other imports (`input`, `rego.v1`, `future`) are left out."""
    aliases: dict[str, tuple[str, ...]] = {}
    for item in module.get("imports") or []:
        parts = item["path"]["value"]
        if not parts or parts[0] != {"type": "var", "value": "data"}:
            continue
        path = tuple(str(part["value"]) for part in parts[1:] if part.get("type") == "string")
        if len(path) == len(parts) - 1 and path:
            aliases[str(item.get("alias") or path[-1])] = path
    return aliases


def constant_prefix(parts: list[Any]) -> tuple[tuple[str, ...], bool]:
    """The string keys a reference starts with after its head, and whether that is all of it
    (False when a variable or other term follows: `data.a[x].b` is (("a",), False))."""
    keys: list[str] = []
    for part in parts:
        if not isinstance(part, dict) or part.get("type") != "string":
            return tuple(keys), False
        keys.append(str(part["value"]))
    return tuple(keys), True


def terms(node: Any) -> Iterator[dict[str, Any]]:
    """Every term ({"type", "value"}) in a parsed node, outermost first."""
    if isinstance(node, list):
        for item in node:
            yield from terms(item)
        return
    if not isinstance(node, dict):
        return
    if "type" in node and "value" in node:
        yield node
    for value in node.values():
        yield from terms(value)


def is_object_get(call: list[Any]) -> bool:
    """Whether a call term's value ([operator, arguments...]) calls `object.get`."""
    operator = call[0].get("value") if call and isinstance(call[0], dict) else None
    return isinstance(operator, list) and [t.get("value") for t in operator] == ["object", "get"]
