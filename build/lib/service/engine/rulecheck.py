"""Rules that cannot go silent: every rule that can add to deny, hold, warn or rollback carries
METADATA with `custom.code` and `custom.severity`, and no two rules share a code.

Without them the reason helper has nothing to build a reason from, and such a rule could stop
firing without any test noticing. Read from the source text, so it needs no engine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

import yaml

from service.engine.catalogue import PolicySources, rule_catalogue
from service.engine.problems import Problem
from service.errors import PolicyLoadError

# The sets a gate's decision is made of; a rule adding to one of them gives a reason.
REASON_SETS = ("deny", "hold", "warn", "rollback")
SEVERITIES = ("info", "low", "medium", "high", "critical")
# Codes policies/lib gives without a rule of their own: the reason helper's fail-closed fallback.
LIBRARY_CODES = ("RULE_METADATA_MISSING",)
_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_HEAD = re.compile(
    rf"^\s*(?:default\s+)?({'|'.join(REASON_SETS)})\b(?=\s*(contains|if|\[|:=|=|\{{|$))"
)


class CheckedPolicies(PolicySources, Protocol):
    """What the checks read of a policy set (service/engine/policyset.PolicySet, which runs
    them as it loads): its modules' source text and its thresholds data."""

    @property
    def config(self) -> Mapping[str, Any]: ...


def reason_rule_heads(source: str) -> list[tuple[int, str]]:
    """(1-based line, set name) of every rule head that adds to a reason set."""
    return [
        (number, match.group(1))
        for number, line in enumerate(source.splitlines(), start=1)
        if (match := _HEAD.match(line))
    ]


def rule_problems(policy_set: CheckedPolicies) -> list[Problem]:
    """Reason rules without usable METADATA, and codes used by more than one rule.

    Test modules (`*_test.rego`) are not checked. Each problem is at the rule's head line.
    """
    problems: list[Problem] = []
    for rel, source in sorted(policy_set.modules.items()):
        if rel.endswith("_test.rego"):
            continue
        lines = source.splitlines()
        for number, name in reason_rule_heads(source):
            problem = _metadata_problem(metadata_above(lines, number - 1), name)
            if problem:
                problems.append(Problem(rel, number, problem))
    try:
        catalogue = rule_catalogue(policy_set)
    except PolicyLoadError as exc:  # a METADATA block that is not YAML, reason rule or not
        return problems or [Problem("", 0, exc.message)]
    known = {entry.code for entry in catalogue} | set(LIBRARY_CODES)
    problems += _config_code_problems(policy_set, known)
    first: dict[str, tuple[str, int]] = {}
    for entry in catalogue:
        if entry.code in first:
            file, line = first[entry.code]
            message = f"code {entry.code} is already used by the rule at {file}:{line}"
            problems.append(Problem(entry.file, entry.line, message + "; codes must be unique"))
        else:
            first[entry.code] = (entry.file, entry.line)
    return problems


def _config_code_problems(policy_set: CheckedPolicies, codes: set[str]) -> list[Problem]:
    """Codes the thresholds data names (non_waivable, waivers.roles) that no rule has: a
    misspelt one would quietly let that rule be waived."""
    problems: list[Problem] = []
    for gate, config in sorted(policy_set.config.items()):
        if not isinstance(config, dict):
            continue
        named = [("non_waivable", code) for code in config.get("non_waivable") or []]
        roles = (config.get("waivers") or {}).get("roles") or {}
        named += [("waivers.roles", code) for code in roles]
        for key, code in named:
            if code not in codes:
                problems.append(
                    Problem(
                        f"data/{gate}.yaml",
                        0,
                        f"{key} names {code}, which no rule has: a misspelt code leaves the "
                        "rule it meant waivable (GET /v1/policies lists the codes)",
                    )
                )
    return problems


def metadata_above(lines: list[str], head: int) -> str | None:
    """The METADATA block directly above line index `head`, as YAML text; None when absent."""
    start = head
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    # Comments above the block are not part of it: it starts at its last "# METADATA" line.
    marks = [i for i in range(start, head) if lines[i].strip() == "# METADATA"]
    if not marks:
        return None
    body = [line.lstrip()[1:] for line in lines[marks[-1] + 1 : head]]
    return "\n".join(text[1:] if text.startswith(" ") else text for text in body)


def _metadata_problem(block: str | None, name: str) -> str | None:
    missing = f"a rule adding to `{name}` needs METADATA with title and custom: {{code, severity}}"
    if block is None:
        return f"{missing}; it has none"
    try:
        meta: Any = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        return f"METADATA is not valid YAML: {exc}"
    custom = meta.get("custom") if isinstance(meta, dict) else None
    if not isinstance(custom, dict):
        keys = ", ".join(sorted(str(k) for k in meta)) if isinstance(meta, dict) else "nothing"
        return f"{missing}; custom is missing (found {keys})"
    code, severity = custom.get("code"), custom.get("severity")
    if not isinstance(code, str) or not _CODE.match(code):
        keys = ", ".join(sorted(str(k) for k in custom))
        return f"{missing}; custom.code is missing or not UPPER_SNAKE_CASE (custom has {keys})"
    if severity not in SEVERITIES:
        return f"custom.severity of {code} is {severity!r}; expected one of {', '.join(SEVERITIES)}"
    if not isinstance(meta.get("title"), str) or not meta["title"].strip():
        return f"{code} has no METADATA title"
    return None
