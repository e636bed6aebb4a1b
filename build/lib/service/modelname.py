"""The one form of a model name, checked everywhere a name enters mlgate (DESIGN.md, the trust
boundary: look-alikes refused).

A name is compared byte for byte wherever it is used: the ledger's model column (history,
sign-offs, the recorded risk tier, the audit listing) and `models.<name>` in the thresholds.
Two spellings of one model would be two models, so a trailing space, a U+2010 hyphen or an
upper-case letter would find none of the first's history and sign-offs and none of its
thresholds. A name therefore has one form:

    1 to 63 characters: lower-case ASCII letters, digits, '-', '_' and '.', starting and
    ending with a letter or digit (fraud-detector, churn_v2, ranker.eu)

This is a Kubernetes DNS-1123 label (what KServe and Seldon name a deployed model by) widened
by '_' and '.', which registered model names often hold; MLflow accepts every such name. Case
is not folded because one letter in two cases would be two names to a registry that compares
case-sensitively and one to a database collation that does not.

A name in another form is refused, never normalised: quietly mapping "Fraud-Detector " onto
"fraud-detector" would record a name the caller did not send and hide the mistake (or the
attempt). The refusal names the first character at fault and the form expected.
"""

from __future__ import annotations

import unicodedata

from service.errors import InvalidField

MAX_LENGTH = 63
EXAMPLE = "fraud-detector"
RULE = (
    f"a model name is 1 to {MAX_LENGTH} lower-case ASCII letters, digits, '-', '_' or '.', "
    f"starting and ending with a letter or digit (e.g. {EXAMPLE})"
)
# The same form for the OpenAPI document and JSON Schema (ECMA-262 syntax).
PATTERN = rf"^[a-z0-9]([a-z0-9._-]{{0,{MAX_LENGTH - 2}}}[a-z0-9])?$"

_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_SEPARATORS = frozenset("-_.")


def name_problem(name: object) -> str | None:
    """What keeps `name` from being a model name in the one form, or None when it is one. The
    first character at fault is named by code point, name and position (from 0)."""
    if not isinstance(name, str):
        return f"must be a string; found {type(name).__name__} {name!r}"
    if not name:
        return "the name is empty; it needs at least 1 character"
    for position, char in enumerate(name):
        if char in _ALNUM:
            continue
        if char in _SEPARATORS:
            if position == 0:
                return f"{name!a}: {_char(char)} at position 0 cannot start a name"
            if position == len(name) - 1:
                return f"{name!a}: {_char(char)} at position {position} cannot end a name"
            continue
        after = f" (after {name[:position]!r})" if position else ""
        return f"{name!a}: {_char(char)} at position {position}{after} is {_kind(char)}"
    if len(name) > MAX_LENGTH:
        return f"{name[:20]!a}… is {len(name)} characters long; at most {MAX_LENGTH}"
    return None


def check_model_name(field: str, name: object) -> str:
    """`name` when it is in the one form; InvalidField naming `field`, the character at fault
    and the form expected otherwise."""
    problem = name_problem(name)
    if problem is None and isinstance(name, str):
        return name
    raise InvalidField(field, f"{problem}; {RULE}")


def _char(char: str) -> str:
    """U+2010 HYPHEN, U+0041 LATIN CAPITAL LETTER A; U+000A (control characters have no name)."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}".rstrip()


def _kind(char: str) -> str:
    """Why the character is not allowed, in words a caller can act on."""
    if "A" <= char <= "Z":
        return "an upper-case letter (names are lower case)"
    if char.isspace():
        return "white space"
    category = unicodedata.category(char)
    if category == "Cf":
        return "an invisible format character"
    if category == "Cc":
        return "a control character"
    if category == "Cs":
        return "an unpaired UTF-16 surrogate"
    if not char.isascii():
        return "not ASCII (it may look like an allowed character)"
    return "not allowed"
