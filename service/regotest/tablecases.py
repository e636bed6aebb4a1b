"""The cases a table test reaches, found without a trace when its body starts by naming them.

A `test_x[case]` rule has a key only for the cases whose body held, so a failing case is absent
from its value; `opa test`, and run.py, find the cases the body reached in a trace of the
evaluation, which records every step with its variables (about a quarter of a second a test
on our policies, nine tenths of a run). When the body's first statement is
`some case in <collection>` or `some case, value in <collection>` (or names the case as the
value), the cases it reaches are the collection's, and a rule of that one statement gives
them in one short evaluation. The rules are compiled in a module of their own beside each test
file (its package and imports; named `*_test.rego`, so coverage leaves it out); any other body,
an incremental or v0 test, keeps the trace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.regotest.source import CONTINUES, comment_end, skip_string, statements

# The rule naming a table test's cases: its name is the test's after this prefix.
CASES_PREFIX = "mlgate_cases_"
_SOME_IN = re.compile(r"some\s+([A-Za-z_]\w*)(?:\s*,\s*([A-Za-z_]\w*))?\s+in\s")
_HEAD_CASE = re.compile(r"\s*(test_\w*)\s*\[\s*([A-Za-z_]\w*)\s*\]")
_PACKAGE = re.compile(r"^[ \t]*package[ \t]+\S.*$", re.MULTILINE)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+\S.*$", re.MULTILINE)


@dataclass(frozen=True)
class CaseRules:
    """Generated modules (file name -> source) and, per test file and rule, the rule that
    names the test's cases."""

    modules: dict[str, str]
    rules: dict[tuple[str, str], str]


NO_CASE_RULES = CaseRules({}, {})


def case_rules(modules: dict[str, str]) -> CaseRules:
    """A module of case rules for each test file with a table test whose body starts by
    naming its cases."""
    generated: dict[str, str] = {}
    rules: dict[tuple[str, str], str] = {}
    for file, source in modules.items():
        if not file.endswith("_test.rego"):
            continue
        found = _file_rules(source)
        package = _PACKAGE.search(source)
        if not found or package is None:
            continue
        imports = "\n".join(m.group(0).strip() for m in _IMPORT.finditer(source))
        bodies = "\n".join(text for _, text in found.values())
        generated[file.removesuffix(".rego") + ".cases_test.rego"] = (
            f"{package.group(0).strip()}\n\n{imports}\n\n{bodies}"
        )
        rules |= {(file, test): name for test, (name, _) in found.items()}
    return CaseRules(generated, rules)


def _file_rules(source: str) -> dict[str, tuple[str, str]]:
    """test name -> (its case rule's name, the rule's text), for the table tests of one module
    that are defined once and start by naming their cases."""
    found: dict[str, tuple[str, str]] = {}
    seen: set[str] = set()
    for statement in statements(source):
        head = _HEAD_CASE.match(source, statement.start)
        if head is None:
            continue
        test, variable = head.groups()
        if test in seen:  # defined more than once: its cases come from every definition
            found.pop(test, None)
            continue
        seen.add(test)
        if len(statement.bodies) != 1 or statement.bodies[0][1] is None:
            continue
        first = _first_statement(source, statement.bodies[0][1] + 1, statement.end)
        if first is None:
            continue
        match = _SOME_IN.match(first)
        if match is None or variable not in match.groups():
            continue
        name = CASES_PREFIX + test
        found[test] = (name, f"{name} contains {variable} if {{\n\t{first}\n}}\n")
    return found


def _first_statement(source: str, start: int, end: int) -> str | None:
    """The text of the body's first statement (the body's `{` is just before `start`), or None
    when it is not one this scan can delimit."""
    i = start
    while i < end:  # blanks and comments before it
        if source[i] == "#":
            i = min(comment_end(source, i), end)
        elif source[i].isspace():
            i += 1
        else:
            break
    begin, depth, last = i, 0, ""
    while i < end:
        c = source[i]
        if c == "#":
            i = min(comment_end(source, i), end)
            continue
        if c in '"`':
            i = skip_string(source, i, 0)[0]
            last = c
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth < 0:  # the body's own `}`: the statement was its only one
                return source[begin:i].strip() or None
        elif depth == 0 and (c == ";" or (c == "\n" and last not in CONTINUES)):
            return source[begin:i].strip() or None
        if not c.isspace():
            last = c
        i += 1
    return None
