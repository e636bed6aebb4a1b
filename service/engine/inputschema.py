"""The gate input schemas as OPA's type checker takes them, and the input paths they define.

Package mlgate.<gate> (and its subpackages) reads its input as schemas/<gate>_input.schema.json
when that file exists; every other package under mlgate (policies/lib, the tests) as
gate_input.schema.json.

OPA resolves a `$ref` to another file by fetching its URL, even one of these schemas' own
https://mlgate.dev/schemas/ ids. So each schema is handed to OPA self-contained: the files it
refers to are copied under its `$defs` and the `$ref`s rewritten to point there. A `$ref`
that names no file of the schema directory is refused, never fetched.

How OPA 1.x types an input from a schema (ast/compile.go, schemaParser), which `lookup`
follows: an object whose schema lists `properties` is closed, whatever `additionalProperties`
says, so any other key is a type error; an object that lists none takes any key, and so does a
schema without a type (`const`, `enum`, `oneOf`, `if`); `allOf` merges its branches'
properties; `anyOf` is a union. `required` plays no part in it: OPA never knows a field may be
absent, which is why `lookup` reports it separately.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

from service.errors import PolicyLoadError

SUFFIX = ".schema.json"
COMMON = "gate_input"
_INPUT = "_input"
ROOT_PACKAGE = "mlgate"
# Where a schema without an $id is taken to live, so relative $refs between files resolve.
BASE = "https://mlgate.dev/schemas/"
_DEFS = "$defs"
_EXTRA = "additionalProperties"
# Keywords that shape a value's type: beside a $ref (2020-12 applies both), they are kept.
_SHAPING = ("type", "properties", "items", "allOf", "anyOf", "oneOf", _EXTRA)


@dataclass(frozen=True)
class PathInfo:
    """What a schema says of one input path: whether it is defined (OPA's type checker accepts
    a reference to it), whether every step of it is required, and, when it is not defined,
    where it leaves the schema and which keys the schema has there."""

    defined: bool
    required: bool
    parent: tuple[str, ...] = ()
    known: tuple[str, ...] = ()


class InputSchemas:
    """Every schema under a directory, read once; the input schema of each gate package."""

    def __init__(self, schema_dir: Path) -> None:
        self._files: dict[str, dict[str, Any]] = {}
        for path in sorted(schema_dir.glob(f"*{SUFFIX}")):
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise PolicyLoadError(f"schema {path.name} cannot be read: {exc}") from None
            if isinstance(document, dict):
                self._files[path.name] = document
        if COMMON + SUFFIX not in self._files:
            raise PolicyLoadError(f"{schema_dir} has no {COMMON}{SUFFIX}, the gates' input schema")
        self._ids = {str(doc.get("$id") or BASE + name): name for name, doc in self._files.items()}
        self._bundled: dict[str, dict[str, Any]] = {}

    @property
    def names(self) -> tuple[str, ...]:
        """Every schema of the directory by name (its file name without .schema.json)."""
        return tuple(name.removesuffix(SUFFIX) for name in self._files)

    @property
    def gates(self) -> tuple[str, ...]:
        """Gates with an input schema of their own (<gate>_input.schema.json)."""
        names = (name.removesuffix(SUFFIX) for name in self._files)
        return tuple(n.removesuffix(_INPUT) for n in names if n.endswith(_INPUT) and n != COMMON)

    def name_for(self, package: str) -> str:
        """The input schema of a package: its gate's own, else the common gate input."""
        parts = package.split(".")
        if len(parts) >= 2 and parts[0] == ROOT_PACKAGE and parts[1] in self.gates:
            return parts[1] + _INPUT
        return COMMON

    def bundled(self, name: str) -> dict[str, Any]:
        """Schema `name` with everything it refers to inside it: all `$ref`s local."""
        if name not in self._bundled:
            self._bundled[name] = self._bundle(name + SUFFIX)
        return self._bundled[name]

    def lookup(
        self, name: str, path: Sequence[str | int | None], property_names: bool = False
    ) -> PathInfo:
        """What schema `name` says of input path `path` (keys, or indexes into arrays; None
        for a key computed, which is any key the schema allows there: defined, and not
        required).

        `property_names`: also take an object's `propertyNames` enum as the keys it may have,
        as JSON Schema does and OPA's type checker does not (for data read as data, not as
        OPA types it)."""
        root = self.bundled(name)
        node: Any = root
        required = True
        for depth, key in enumerate(path):
            if key is None:
                node, required = _any_step(root, node, property_names), False
                continue
            step = _step(root, node, key, as_data=property_names)
            names = _property_names(root, node) if property_names else None
            if step is not None and names is not None and key not in names:
                step = None
            if step is None:
                known = _keys(root, node) or tuple(sorted(names or ()))
                return PathInfo(False, False, tuple(map(str, path[:depth])), known)
            node, is_required = step
            required = required and is_required
        return PathInfo(True, required)

    def _bundle(self, entry: str) -> dict[str, Any]:
        included: dict[str, Any] = {}
        pending = [entry]
        while pending:
            file = pending.pop()
            if file not in included:
                included[file] = None  # claimed before rewriting, so a cycle ends
                included[file] = self._rewrite(self._files[file], file, pending)
        return {"$ref": _pointer(entry), _DEFS: included}

    def _rewrite(self, node: Any, file: str, pending: list[str]) -> Any:
        if isinstance(node, list):
            return [self._rewrite(item, file, pending) for item in node]
        if not isinstance(node, dict):
            return node
        if "$id" in node and node is not self._files[file]:
            raise PolicyLoadError(f"schema {file}: an $id inside a schema is not supported")
        out = {
            key: self._rewrite(value, file, pending)
            for key, value in node.items()
            if key not in ("$id", "$schema", "$ref")
        }
        if "$ref" not in node:
            return out
        ref = self._local_ref(str(node["$ref"]), file, pending)
        shaping = {key: out.pop(key) for key in _SHAPING if key in out}
        # OPA reads a $ref as draft-07 does, ignoring what stands beside it; 2020-12 applies
        # both, so what shapes the type goes into an allOf with it.
        return {**out, "allOf": [{"$ref": ref}, shaping]} if shaping else {**out, "$ref": ref}

    def _local_ref(self, ref: str, file: str, pending: list[str]) -> str:
        base = str(self._files[file].get("$id") or BASE + file)
        document, fragment = urldefrag(urljoin(base, ref))
        target = self._ids.get(document)
        if target is None:
            raise PolicyLoadError(
                f"schema {file}: $ref {ref} names {document}, which is no file of the schema "
                "directory; a $ref must name a file beside it (nothing is fetched)"
            )
        if fragment and not fragment.startswith("/"):
            raise PolicyLoadError(f"schema {file}: $ref {ref}: only JSON pointers are supported")
        pending.append(target)
        return _pointer(target) + fragment


def _pointer(file: str) -> str:
    return f"#/{_DEFS}/" + file.replace("~", "~0").replace("/", "~1")


def _resolve(root: Mapping[str, Any], node: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 64:
        target: Any = root
        for token in str(node["$ref"]).removeprefix("#/").split("/"):
            key = token.replace("~1", "/").replace("~0", "~")
            target = target[int(key)] if isinstance(target, list) else target[key]
        node, seen = target, seen + 1
    return node


def _branches(root: Mapping[str, Any], node: Any) -> list[dict[str, Any]]:
    """The node and its allOf branches, flattened, every $ref followed."""
    node = _resolve(root, node)
    if not isinstance(node, dict):
        return []
    found = [node]
    for branch in node.get("allOf", []):
        found += _branches(root, branch)
    return found


def _keys(root: Mapping[str, Any], node: Any) -> tuple[str, ...]:
    return tuple(sorted({k for b in _branches(root, node) for k in b.get("properties", {})}))


def _property_names(root: Mapping[str, Any], node: Any) -> set[str] | None:
    """The keys an object's `propertyNames` enum (or const) allows; None when it sets none."""
    allowed: set[str] | None = None
    for branch in _branches(root, node):
        names = _resolve(root, branch.get("propertyNames"))
        if not isinstance(names, dict):
            continue
        listed = names.get("enum", [names["const"]] if "const" in names else None)
        if isinstance(listed, list):
            here = {str(name) for name in listed}
            allowed = here if allowed is None else allowed & here
    return allowed


def _step(
    root: Mapping[str, Any], node: Any, key: str | int, as_data: bool = False
) -> tuple[Any, bool] | None:
    """The schema below `key` of `node` and whether `key` is required; None when OPA's type
    checker would call the key undefined. `as_data`: as JSON Schema reads it instead, where an
    anyOf or oneOf whose branches only require keys (`anyOf: [{required: [a]}, {required:
    [b]}]`) shapes nothing: the node's own properties still say which keys there are."""
    branches = _branches(root, node)
    if any(_is_union(b, as_data) for b in branches):
        return {}, False  # a union: OPA accepts a key any branch has; not followed further
    types = {t for b in branches for t in _types(b)}
    properties = [b["properties"][key] for b in branches if key in b.get("properties", {})]
    if isinstance(key, int) or "array" in types:
        items = [b["items"] for b in branches if isinstance(b.get("items"), dict)]
        ok = isinstance(key, int) and ("array" in types or not types)
        return (({"allOf": items} if items else {}), False) if ok else None
    required = any(key in b.get("required", []) for b in branches)
    if properties:
        return ({"allOf": properties} if len(properties) > 1 else properties[0]), required
    if _keys(root, node):
        return None  # a closed object: OPA knows only the listed properties
    if types and not types & {"object"}:
        return None  # a string, number or boolean has no keys
    extra = [b[_EXTRA] for b in branches if isinstance(b.get(_EXTRA), dict)]
    return (extra[0] if extra else {}), required


def _is_union(branch: Mapping[str, Any], as_data: bool) -> bool:
    """Whether `branch` is an anyOf or oneOf that may shape a value (see _step)."""
    alternatives = [*branch.get("anyOf", []), *branch.get("oneOf", [])]
    if not alternatives:
        return False
    return not as_data or any(
        not isinstance(a, dict) or set(a) - {"required", "description"} for a in alternatives
    )


def _any_step(root: Mapping[str, Any], node: Any, as_data: bool) -> Any:
    """The schema below a key computed at `node`: its items, or its additionalProperties when
    it lists no properties; otherwise (properties listed, a union, no object) nothing is known
    of it, and the keys after it are not checked ({})."""
    branches = _branches(root, node)
    if any(_is_union(b, as_data) for b in branches) or _keys(root, node):
        return {}
    types = {t for b in branches for t in _types(b)}
    if "array" in types:
        items = [b["items"] for b in branches if isinstance(b.get("items"), dict)]
        return {"allOf": items} if items else {}
    extra = [b[_EXTRA] for b in branches if isinstance(b.get(_EXTRA), dict)]
    return extra[0] if extra and types <= {"object"} else {}


def _types(branch: Mapping[str, Any]) -> list[str]:
    declared = branch.get("type", [])
    found = [declared] if isinstance(declared, str) else list(declared)
    if not found and "properties" in branch:
        found = ["object"]
    elif not found and "items" in branch:
        found = ["array"]
    return found
