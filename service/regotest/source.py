"""The top-level statements of a Rego module, found without OPA: where each rule's head and
bodies are, by offset and line.

Enough to name test rules and to add v1 keywords to v0 rules (service/regotest/v0.py); OPA still
parses and compiles every module, so a statement this scanner gets wrong fails loudly there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# After one of these, a `{` at the top level starts a term (`p := {...}`), not a rule body.
_TERM_BEFORE = set("=:,|+-*/&([{<>!")
# A newline after one of these does not end the statement.
CONTINUES = _TERM_BEFORE
_ELSE = re.compile(r"\s*else\b")
_TEST_NAME = re.compile(r"\s*(test_\w*)\s*([\[(])?")


@dataclass
class Statement:
    """One top-level statement: `package`, `import` or a rule with its `else` branches.

    `bodies` holds, per head, the offset where that head starts and the offset of the `{`
    opening its body (None when the head has no braced body). Offsets index the source text;
    rows count from 1.
    """

    start: int
    first_row: int
    end: int = 0
    last_row: int = 0
    bodies: list[tuple[int, int | None]] = field(default_factory=list)


@dataclass(frozen=True)
class TestRule:
    """A `test_*` rule with no arguments; `is_table` for `test_x[case]` rules."""

    name: str
    is_table: bool
    first_row: int
    last_row: int


def statements(source: str) -> list[Statement]:
    """Split `source` into its top-level statements (comments and strings skipped)."""
    found: list[Statement] = []
    current: Statement | None = None
    head_start = 0
    depth = 0
    in_body = False
    last = ""  # the last significant character seen
    row = 1
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c == "#":
            i = comment_end(source, i)
            continue
        if c == "\n":
            ends = current is not None and depth == 0 and last not in CONTINUES
            if ends and current is not None and not _ELSE.match(source, i):
                _close(current, head_start, i, row, in_body)
                found.append(current)
                current, in_body = None, False
            row += 1
            i += 1
            continue
        if c.isspace():
            i += 1
            continue
        if current is None:
            current = Statement(start=i, first_row=row)
            head_start = i
        elif depth == 0 and in_body:  # after a body: the next head (`else`) starts here
            in_body = False
            head_start = i
        if c in '"`':
            i, row = skip_string(source, i, row)
            last = c
            continue
        if c in "([{":
            if c == "{" and depth == 0 and last not in _TERM_BEFORE:
                current.bodies.append((head_start, i))
                in_body = True
            depth += 1
        elif c in ")]}":
            depth = max(depth - 1, 0)
        last = c
        i += 1
    if current is not None:
        _close(current, head_start, n, row, in_body)
        found.append(current)
    return found


def _close(statement: Statement, head_start: int, end: int, row: int, in_body: bool) -> None:
    if not in_body:
        statement.bodies.append((head_start, None))
    statement.end = end
    statement.last_row = row


def comment_end(source: str, i: int) -> int:
    """The offset of the newline ending the comment that starts at `i` (the source's length
    when it is the last line)."""
    end = source.find("\n", i)
    return len(source) if end < 0 else end


def skip_string(source: str, i: int, row: int) -> tuple[int, int]:
    """The offset after the string starting at `i`, and the row there."""
    quote = source[i]
    i += 1
    while i < len(source):
        c = source[i]
        if c == "\\" and quote == '"':
            i += 2
            continue
        if c == "\n":
            row += 1
        i += 1
        if c == quote:
            break
    return i, row


def test_rules(source: str) -> list[TestRule]:
    """Rules named `test_*` without arguments, in source order; incremental definitions of
    one test are one test (at the rows of the first)."""
    tests: dict[str, TestRule] = {}
    for statement in statements(source):
        match = _TEST_NAME.match(source, statement.start)
        if match is None or match.group(2) == "(":  # no test, or a function
            continue
        name = match.group(1)
        is_table = match.group(2) == "["
        tests.setdefault(name, TestRule(name, is_table, statement.first_row, statement.last_row))
    return list(tests.values())


def package_of(source: str) -> tuple[str, ...]:
    """The path of the module's `package` declaration, without `data`."""
    match = re.search(r"^\s*package\s+([\w.\[\]\"-]+)", source, re.MULTILINE)
    if match is None:
        return ()
    return tuple(part for part in re.split(r"\.|\[\"|\"\]", match.group(1)) if part)
