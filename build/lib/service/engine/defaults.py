"""No `default` may answer allow: not on a gate's entrypoint, and nowhere with "allow" in it.

An undefined decision already denies (the service answers it with a deny naming the cause).
A default on `decision`, or any default whose value is or holds "allow", would turn a later
slip (a misspelt rule or input path, a helper that stops being defined) into a silent answer
instead. Read from the source text, so every load runs it without an engine; `mlgate check`
counts the defaults OPA parses against the ones found here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from service.engine.problems import Problem
from service.engine.regotext import code_only, line_of, term_at

# The rule the service queries in each gate's package, data.mlgate.<gate>.decision.
ENTRYPOINT = "decision"
ALLOW = "allow"
_GATE_PACKAGE = re.compile(r"^package\s+mlgate\.(\w+)\s*$", re.MULTILINE)
_DEFAULT = re.compile(
    r"^[ \t]*default\s+(?P<ref>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[[^\]\n]*\])*)"
    r"\s*(?:\([^)\n]*\))?\s*:?=",
    re.MULTILINE,
)
_DEFAULT_WORD = re.compile(r"^[ \t]*default\b", re.MULTILINE)
_WHY = (
    "an undefined decision already denies, and a default would turn a later slip "
    "(a misspelt rule or input path) into a silent allow"
)


def default_rule_lines(source: str) -> list[int]:
    """1-based line of every `default` rule head in `source`."""
    code = code_only(source, blank_strings=True)
    return [line_of(code, match.start("ref")) for match in _DEFAULT.finditer(code)]


def default_rule_problems(modules: Mapping[str, str]) -> list[Problem]:
    """Every default that could answer allow, at its head line. Test modules are checked
    too: the embedded engine loads them beside the policies."""
    problems = []
    for rel, source in sorted(modules.items()):
        if not _DEFAULT_WORD.search(source):
            continue
        code = code_only(source)
        gate = _GATE_PACKAGE.search(code)
        for match in _DEFAULT.finditer(code_only(source, blank_strings=True)):
            value, _ = term_at(code, match.end())
            problem = _problem(match["ref"], value.text, value.strings, value.comprehension, gate)
            if problem:
                problems.append(Problem(rel, line_of(code, match.start("ref")), problem))
    return problems


def _problem(
    ref: str, value: str, strings: tuple[str, ...], comprehension: bool, gate: re.Match[str] | None
) -> str | None:
    name = re.split(r"[.\[]", ref, maxsplit=1)[0]
    if gate and name == ENTRYPOINT:
        return (
            f"`default {ref}` gives package mlgate.{gate[1]}'s entrypoint a value its rules did "
            f"not decide; remove it: {_WHY}"
        )
    if ALLOW in strings:
        return f'`default {ref}` holds "{ALLOW}" in its value; remove it: {_WHY}'
    if comprehension:
        return (
            f"`default {ref}` computes its value with a comprehension, which could yield "
            f'"{ALLOW}"; write a default as a literal value'
        )
    if re.split(r"[.\[]", ref)[-1] == ALLOW and value == "true":
        return f"`default {ref} := true` allows whatever its rules leave undefined; {_WHY}"
    return None
