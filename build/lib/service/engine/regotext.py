"""Rego source text as the engine-free checks read it: comments blanked out, one term's extent,
the string literals in it.

Only what those checks need of Rego's lexer: `#` starts a comment outside a string; a "..."
string takes JSON's escapes; a `...` raw string takes none and may span lines. `mlgate check`
counts what OPA's parser finds against what these scans find, so a construct they miss is a
problem rather than a rule left unchecked.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_OPEN = "([{"
_CLOSE = ")]}"
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`]*`')
# A string (closed or not) or a comment, whichever starts first.
_LEXEME = re.compile(r'"(?:[^"\\\n]|\\.)*"?|`[^`]*`?|#[^\n]*')
_NOT_NEWLINE = re.compile(r"[^\n]")


def code_only(source: str, blank_strings: bool = False) -> str:
    """`source` with every comment replaced by spaces, and with `blank_strings` what is inside
    each string literal too (its quotes kept): lines and columns stay where they were."""

    def blanked(match: re.Match[str]) -> str:
        text = match.group()
        if text.startswith("#"):
            return " " * len(text)
        if blank_strings and len(text) >= 2:
            return text[0] + _NOT_NEWLINE.sub(" ", text[1:-1]) + text[-1]
        return text

    return _LEXEME.sub(blanked, source)


@dataclass(frozen=True)
class Term:
    """One term of comment-free code: its text, the string literals in it (decoded), and
    whether it holds a comprehension (a `|` inside brackets)."""

    text: str
    strings: tuple[str, ...]
    comprehension: bool


def term_at(code: str, start: int, stops: str = "\n") -> tuple[Term, int]:
    """The term of `code` that starts at `start` (after blanks), and the index it ends at: the
    first of `stops` outside brackets and strings, or an unmatched closing bracket."""
    i = start
    while i < len(code) and code[i] in " \t":
        i += 1
    begin = i
    depth = 0
    comprehension = False
    while i < len(code):
        char = code[i]
        if char in '"`':
            i = _string_end(code, i)
            continue
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and char in stops:
            break
        elif depth > 0 and char == "|":
            comprehension = True
        i += 1
    text = code[begin:i].strip()
    return Term(text, tuple(_decoded(m.group()) for m in _STRING.finditer(text)), comprehension), i


def string_literal(text: str) -> str | None:
    """The value of `text` when it is exactly one string literal, else None."""
    match = _STRING.fullmatch(text.strip())
    return _decoded(match.group()) if match else None


def line_of(code: str, index: int) -> int:
    """1-based line of a character index."""
    return code.count("\n", 0, index) + 1


def _string_end(text: str, start: int) -> int:
    """Index just past the string literal opening at `start` (the end of text if unclosed)."""
    if text[start] == "`":
        end = text.find("`", start + 1)
        return len(text) if end < 0 else end + 1
    i = start + 1
    while i < len(text) and text[i] not in '"\n':
        i += 2 if text[i] == "\\" else 1
    return min(i + 1, len(text))


def _decoded(literal: str) -> str:
    if literal.startswith("`"):
        return literal[1:-1]
    try:
        value = json.loads(literal)
    except ValueError:
        return literal[1:-1]
    return value if isinstance(value, str) else literal[1:-1]
