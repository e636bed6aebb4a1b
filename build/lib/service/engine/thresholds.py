"""Thresholds files (policies/data/<gate>.yaml) checked against schemas/<gate>_config.schema.json.

A misspelt key or a number YAML reads as text would otherwise make a rule stop firing, so
any such problem refuses the whole policy set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from service.engine.problems import Problem
from service.schemas import dotted_path

CONFIG_DIR = "data"
SCHEMA_SUFFIX = "_config.schema.json"
# YAML 1.2's float (and JSON's number), which YAML 1.1 (PyYAML) reads as a string when the
# mantissa has no dot or the exponent no sign: 5e1, 1e-2, 1E3.
_NUMBER_TEXT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def config_problems(root: Path, data_files: Sequence[str], schema_dir: Path) -> list[Problem]:
    """Problems of every data/<name>.yaml|json under `root` for which a <name> schema exists.

    `data_files` are paths relative to `root`. Each problem names the file, the line of the
    offending key (YAML files), the key path, what was found and, for a number YAML read as
    text, the spellings that fix it. Raises nothing: an unreadable file is a problem too.
    """
    problems: list[Problem] = []
    for rel in data_files:
        parts = rel.split("/")
        if len(parts) != 2 or parts[0] != CONFIG_DIR:
            continue
        name = parts[1].rsplit(".", 1)[0]
        schema_path = schema_dir / f"{name}{SCHEMA_SUFFIX}"
        if schema_path.is_file():
            problems += _file_problems(root / rel, rel, schema_path)
    return problems


def _file_problems(path: Path, rel: str, schema_path: Path) -> list[Problem]:
    text = path.read_text(encoding="utf-8")
    try:
        document = json.loads(text) if rel.endswith(".json") else yaml.safe_load(text)
        lines = {} if rel.endswith(".json") else _key_lines(yaml.compose(text, yaml.SafeLoader))
    except (ValueError, yaml.YAMLError) as exc:
        return [Problem(rel, 0, f"cannot be read: {exc}")]
    bad_keys = list(_non_string_keys(document, []))
    if bad_keys:
        return [Problem(rel, lines.get(tuple(p[:-1]), 0), _key_not_text(p)) for p in bad_keys]
    validator = jsonschema_rs.validator_for(json.loads(schema_path.read_text()))
    found = []
    for error in validator.iter_errors(document):
        at = [*error.instance_path]
        unknown = _unknown_keys(error)
        line = _line(lines, [*at, unknown[0]] if unknown else at)
        found.append(Problem(rel, line, _explain(error, at, unknown, schema_path.name)))
    return sorted(set(found))


def _unknown_keys(error: jsonschema_rs.ValidationError) -> list[str]:
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        return sorted(kind.unexpected)
    return []


def _explain(error: Any, at: list[Any], unknown: list[str], schema: str) -> str:
    where = dotted_path(at) or "(file)"
    value = error.instance
    if unknown:
        return f"{where}: unknown key {', '.join(unknown)} (not in {schema}; misspelt?)"
    if isinstance(value, str) and _NUMBER_TEXT.match(value):
        return f"{where}: found the text {value!r} where a number belongs: {_number_fix(value)}"
    return f"{where}: {error.message}"


def _number_fix(text: str) -> str:
    """How to write `text` so YAML 1.1 reads a number: 5e1 -> 50 or 5.0e+1."""
    number = float(text)
    plain = str(int(number)) if number.is_integer() and abs(number) < 1e16 else repr(number)
    mantissa, _, exponent = text.lower().partition("e")
    if not exponent:
        return f"YAML reads it as text; write {plain} (no quotes)"
    if "." not in mantissa:
        mantissa += ".0"
    if exponent[0] not in "+-":
        exponent = "+" + exponent
    return f"YAML 1.1 reads {text} as text; write {plain} or {mantissa}e{exponent}"


def _key_not_text(path: list[Any]) -> str:
    key = path[-1]
    return (
        f"{dotted_path(path)}: the key {key} is not text (YAML 1.1 reads yes/no/on/off as booleans)"
    )


def _non_string_keys(node: Any, path: list[Any]) -> Any:
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str):
                yield [*path, str(key)]
            else:
                yield from _non_string_keys(value, [*path, key])
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _non_string_keys(value, [*path, i])


def _key_lines(node: Any, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Key path -> 1-based line where that key (or list item) is written."""
    lines: dict[tuple[Any, ...], int] = {path: node.start_mark.line + 1} if node else {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, key_node.value)
            lines.update(_key_lines(value_node, child))
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.update(_key_lines(item, (*path, i)))
    return lines


def _line(lines: dict[tuple[Any, ...], int], at: list[Any]) -> int:
    for end in range(len(at), -1, -1):
        if tuple(at[:end]) in lines:
            return lines[tuple(at[:end])]
    return 0
