"""Rego v0 modules (OPA before 1.0) rewritten in v1 syntax, for `mlgate test --v0-compatible`.

The embedded engine (opa-golib-python-bindings 0.4.4) parses every module as Rego v1 and does
not expose OPA's `rego.SetRegoVersion`, so v0 is translated here, as `opa fmt --v0-v1` would:
`if` before every rule body and `contains` in partial set rules (`deny[msg] { ... }` becomes
`deny contains msg if { ... }`). Edits stay on their lines, so OPA's rows (errors, coverage)
are the rows of the file on disk. A v0 construct this does not cover (a keyword used as a
name, a deprecated built-in) still fails, with OPA's message naming file and line.
"""

from __future__ import annotations

import re

from service.regotest.source import statements

_HAS_IF = re.compile(r"\bif\s*$")
_PARTIAL_SET = re.compile(r"([A-Za-z_][\w.]*)\s*\[(.*)\]\s*", re.DOTALL)
_V1_IMPORT = re.compile(r"^\s*import\s+rego\.v1\s*$", re.MULTILINE)
# OPA's messages when a v0 module meets the v1 parser.
_V0_SYMPTOM = re.compile(r"keyword is required|`if` keyword|`contains` keyword")


def to_v1(source: str) -> str:
    """`source` in v1 syntax; a module importing `rego.v1` is v1 already and returned as is."""
    if _V1_IMPORT.search(source):
        return source
    edits: list[tuple[int, int, str]] = []
    for statement in statements(source):
        for head_start, brace in statement.bodies:
            if brace is None:
                continue
            head = source[head_start:brace]
            if _HAS_IF.search(head) or head.lstrip().startswith(("package", "import")):
                continue
            partial = _PARTIAL_SET.fullmatch(head)
            if partial and partial.group(1) not in ("else", "default"):
                edits.append(
                    (head_start, brace, f"{partial.group(1)} contains {partial.group(2)} if ")
                )
            else:
                edits.append((brace, brace, "if "))
    for start, end, text in reversed(edits):
        source = source[:start] + text + source[end:]
    return source


def looks_like_v0(opa_message: str) -> bool:
    """OPA's load error is the one a v0 module gives under the v1 parser."""
    return bool(_V0_SYMPTOM.search(opa_message))
