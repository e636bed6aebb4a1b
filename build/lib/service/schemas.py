"""JSON Schema validation of evidence and decisions, compiled once (jsonschema-rs, 2020-12)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from service.errors import PolicyLoadError
from service.settings import get_settings

SCHEMA_BASE = "https://mlgate.dev/schemas/"


@dataclass(frozen=True)
class Violation:
    """One way a document breaks its schema: a dotted `field` path and what is wrong there."""

    field: str
    problem: str

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}"


class SchemaSet:
    """Every schema under a directory, registered by $id so they can $ref one another."""

    def __init__(self, schema_dir: Path) -> None:
        self._schemas: dict[str, dict[str, Any]] = {}
        for path in sorted(schema_dir.glob("*.schema.json")):
            try:
                self._schemas[path.name] = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                raise PolicyLoadError(f"schema {path.name} cannot be read: {exc}") from None
        self._registry = jsonschema_rs.Registry(
            [(SCHEMA_BASE + name, schema) for name, schema in self._schemas.items()]
        )
        self._validators: dict[str, Any] = {}

    def schema(self, name: str) -> dict[str, Any]:
        return self._schemas[f"{name}.schema.json"]

    def validator(self, name: str) -> Any:
        if name not in self._validators:
            self._validators[name] = jsonschema_rs.validator_for(
                self.schema(name), registry=self._registry, validate_formats=True
            )
        return self._validators[name]

    def violations(self, name: str, document: Any, prefix: str = "") -> list[Violation]:
        """Every violation of schema `name`, sorted by field; empty when the document is valid."""
        validator = self.validator(name)
        if validator.is_valid(document):
            return []
        found = {_violation(error, prefix) for error in validator.iter_errors(document)}
        return sorted(found, key=lambda v: (v.field, v.problem))


def _violation(error: Any, prefix: str) -> Violation:
    path = list(error.instance_path)
    kind = type(error.kind).__name__
    if kind == "Required":
        return Violation(_dotted(prefix, [*path, error.kind.property]), "required property missing")
    if kind == "Format":
        problem = f"expected a {error.kind.format} string, found {json.dumps(error.instance)}"
        return Violation(_dotted(prefix, path), problem)
    return Violation(_dotted(prefix, path), error.message)


def dotted_path(path: Sequence[int | str], prefix: str = "") -> str:
    """A location in a document as people write it: `model_card.owner`, `datasets[0].digest`."""
    text = prefix
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text = f"{text}.{part}" if text else str(part)
    return text


def _dotted(prefix: str, path: list[Any]) -> str:
    return dotted_path(path, prefix) or "(document)"


@cache
def default_schemas() -> SchemaSet:
    return SchemaSet(get_settings().schema_dir)
