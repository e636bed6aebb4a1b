"""The rule catalogue: every policy rule that can give a reason, read from its METADATA block."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml

from service.errors import PolicyLoadError

_PACKAGE = re.compile(r"^package\s+([\w.]+)")
_RULE_NAME = re.compile(r"^([A-Za-z_][\w]*)")


@dataclass(frozen=True)
class RuleEntry:
    code: str
    title: str
    description: str
    severity: str
    controls: tuple[str, ...]
    package: str
    rule: str
    file: str
    line: int
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


class PolicySources(Protocol):
    """What the catalogue reads of a policy set (service/engine/policyset.PolicySet): the
    source text of its Rego modules, by path. The set's loader checks it with the catalogue,
    so the catalogue knows no loader."""

    @property
    def modules(self) -> Mapping[str, str]: ...


def rule_catalogue(policy_set: PolicySources) -> list[RuleEntry]:
    """Rules with a `custom.code`, in file and line order; tests are not part of the catalogue."""
    entries: list[RuleEntry] = []
    for rel, source in sorted(policy_set.modules.items()):
        if not rel.endswith("_test.rego"):
            entries += _module_rules(rel, source)
    return entries


def _module_rules(rel: str, source: str) -> list[RuleEntry]:
    lines = source.splitlines()
    package = next((m.group(1) for m in map(_PACKAGE.match, lines) if m), "")
    entries = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != "# METADATA":
            i += 1
            continue
        block: list[str] = []
        i += 1
        while i < len(lines) and lines[i].lstrip().startswith("#"):
            text = lines[i].lstrip()[1:]
            block.append(text[1:] if text.startswith(" ") else text)
            i += 1
        head = lines[i].strip() if i < len(lines) else ""
        entry = _entry(rel, i + 1, package, head, "\n".join(block))
        if entry is not None:
            entries.append(entry)
    return entries


def _entry(rel: str, line: int, package: str, head: str, block: str) -> RuleEntry | None:
    try:
        meta = yaml.safe_load(block) or {}
    except yaml.YAMLError as exc:
        raise PolicyLoadError(f"{rel}:{line}: METADATA is not valid YAML: {exc}") from None
    custom = meta.get("custom") if isinstance(meta, dict) else None
    if not isinstance(custom, dict) or "code" not in custom or head.startswith("package"):
        return None
    name = _RULE_NAME.match(head)
    controls = custom.get("controls") or []
    return RuleEntry(
        code=str(custom["code"]),
        title=str(meta.get("title", "")),
        description=str(meta.get("description", "")).strip(),
        severity=str(custom.get("severity", "")),
        controls=tuple(str(c) for c in controls) if isinstance(controls, list) else (),
        package=package,
        rule=f"data.{package}.{name.group(1)}" if name else f"data.{package}",
        file=rel,
        line=line,
    )
