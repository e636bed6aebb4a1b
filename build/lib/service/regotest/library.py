"""A Rego library as `mlgate test` loads it: its modules under the names OPA reports (the
library folder's name, then the path inside it), the data document, and extra data paths.

Extra paths follow `opa test`: a JSON or YAML file is merged at the root of `data`; in a
directory, every .rego file is a module and every JSON or YAML file is merged at the path of
its folder (dir/a/b/x.json is data.a.b). Conflicting values are an error naming both files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.engine.policyset import DATA_SUFFIXES, decode_text, parse_data_text, read_policy_set
from service.errors import PolicyLoadError
from service.regotest.v0 import to_v1


@dataclass(frozen=True)
class RegoLibrary:
    root: Path
    modules: dict[str, str]  # "<library folder>/<path>" -> Rego source (v1 syntax)
    data: dict[str, Any]


def load_library(
    root: Path, data_paths: tuple[Path, ...] = (), *, v0_compatible: bool = False
) -> RegoLibrary:
    """Read the library under `root` and the extra `data_paths`; with `v0_compatible`, modules
    in Rego v0 syntax are translated to v1 (service/regotest/v0.py)."""
    policy_set = read_policy_set(root)  # any library: none of the gates' own checks
    modules = {f"{root.name}/{rel}": src for rel, src in policy_set.modules.items()}
    data = dict(policy_set.data)
    owners: dict[tuple[str, ...], str] = {}
    for extra in data_paths:
        if extra.is_file():
            _merge(data, (), _read(extra, extra.name), extra.as_posix(), owners)
        elif extra.is_dir():
            for path in sorted(p for p in extra.rglob("*") if p.is_file()):
                rel = path.relative_to(extra).as_posix()
                if path.suffix == ".rego":
                    modules[f"{extra.name}/{rel}"] = decode_text(rel, path.read_bytes())
                elif path.suffix in DATA_SUFFIXES:
                    at = tuple(path.relative_to(extra).parent.parts)
                    _merge(data, at, _read(path, rel), path.as_posix(), owners)
        else:
            raise PolicyLoadError(f"data path {extra} does not exist")
    if v0_compatible:
        modules = {name: to_v1(source) for name, source in modules.items()}
    return RegoLibrary(root, modules, data)


def _read(path: Path, rel: str) -> Any:
    if path.suffix not in DATA_SUFFIXES:
        raise PolicyLoadError(f"{path}: a data file must be .json, .yaml or .yml")
    return parse_data_text(rel, decode_text(rel, path.read_bytes()))


def _merge(
    data: dict[str, Any],
    at: tuple[str, ...],
    value: Any,
    source: str,
    owners: dict[tuple[str, ...], str],
) -> None:
    """Deep-merge `value` at path `at`; two files giving one leaf different values conflict."""
    if not at and not isinstance(value, dict):
        raise PolicyLoadError(f"{source}: a data file loaded at the root must hold an object")
    node: Any = data
    for depth, key in enumerate(at[:-1]):
        if not isinstance(node.get(key, {}), dict):
            raise PolicyLoadError(f"{source}: data.{'.'.join(at[: depth + 1])} is not an object")
        node = node.setdefault(key, {})
    if at:
        value = {at[-1]: value}
    _merge_objects(node, value, at[:-1], source, owners)


def _merge_objects(
    into: dict[str, Any],
    value: dict[str, Any],
    at: tuple[str, ...],
    source: str,
    owners: dict[tuple[str, ...], str],
) -> None:
    for key, item in value.items():
        path = (*at, key)
        if isinstance(into.get(key), dict) and isinstance(item, dict):
            _merge_objects(into[key], item, path, source, owners)
        elif key in into and into[key] != item:
            other = owners.get(path, "the library")
            raise PolicyLoadError(
                f"{source}: data.{'.'.join(path)} conflicts with the value from {other}"
            )
        else:
            into[key] = item
            owners[path] = source
