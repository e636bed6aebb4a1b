"""Input paths OPA's type checker does not see, read from the parsed policy set.

- `object.get(input, ["model_card", "risk_tier"], "high")`: the keys are a value, not a
  reference, so a misspelt one type-checks and quietly yields the default. Every literal key
  path read from input this way must be one the package's input schema defines.
- A rule adding to deny, hold or rollback whose every reference to input is to a field the
  schema does not require can fire only when that field is given. That is right for a
  conflict check (RISK_TIER_CONFLICT needs a tier named in the request) and wrong for a rule
  meant to apply always, so it is a warning unless the rule's METADATA lists those fields
  under `custom.when_present`. Only the rule's own body is read, and helpers it calls are not
  followed; a rule with a reference in a negation (which fires on absence) or to input itself
  (`object.get(input, ...)`, which has a default) is not named.

`mlgate check` runs these with the modules OPA parsed (service/engine/policycheck.py); the
lines come from the source text, and a count of OPA's parse against the text scan makes sure
the scan missed nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from service.engine.inputschema import InputSchemas
from service.engine.problems import Problem
from service.engine.regoparse import is_object_get, package_of, rule_name, terms
from service.engine.regotext import code_only, line_of, string_literal, term_at
from service.engine.rulecheck import metadata_above, reason_rule_heads

# Sets a rule can add to that change the outcome (warn only adds a warning).
BLOCKING_SETS = ("deny", "hold", "rollback")
ACKNOWLEDGED = "when_present"
_GET = re.compile(r"\bobject\.get\s*\(")
_INPUT_REF = re.compile(r'^input((?:\.[A-Za-z_]\w*|\[\s*"(?:[^"\\]|\\.)*"\s*\])*)$')
_SEGMENT = re.compile(r'\.([A-Za-z_]\w*)|\[\s*("(?:[^"\\]|\\.)*")\s*\]')

KeyPath = tuple[str | int, ...]


def object_get_problems(
    rel: str, source: str, parsed: Mapping[str, Any], schemas: InputSchemas
) -> list[Problem]:
    """Literal key paths `object.get` reads from input that the module's schema does not
    define; a problem too when OPA parses more such calls than the text scan finds."""
    schema = schemas.name_for(package_of(parsed))
    found = list(_object_gets(source))
    problems = []
    for line, path in found:
        info = schemas.lookup(schema, path)
        if not info.defined:
            key = path[len(info.parent)]
            parent = ".".join(["input", *info.parent])
            has = f" ({parent} has {', '.join(info.known)})" if info.known else ""
            message = (
                f"object.get reads {_dotted(path)}: {schema}.schema.json defines no {key} in "
                f"{parent}{has}; a misspelt key quietly yields the default"
            )
            problems.append(Problem(rel, line, message))
    calls = _gets_on_input(parsed)
    if calls != len(found):
        problems.append(
            Problem(
                rel,
                0,
                f"OPA parses {calls} object.get calls on input but {len(found)} are written "
                "`object.get(input..., <key or [keys]>, ...)`; write them so (opa fmt does), so "
                "their keys can be checked against the input schema",
            )
        )
    return problems


def optional_only_warnings(
    rel: str, source: str, parsed: Mapping[str, Any], schemas: InputSchemas
) -> list[Problem]:
    """Rules adding to deny, hold or rollback that can fire only when an optional field is
    given, at their head lines; none when OPA's parse and the text scan disagree (a problem
    the reason-rule check reports)."""
    schema = schemas.name_for(package_of(parsed))
    heads = reason_rule_heads(source)
    rules = [r for r in parsed.get("rules", []) if rule_name(r) in {name for _, name in heads}]
    if [rule_name(r) for r in rules] != [name for _, name in heads]:
        return []
    lines = source.splitlines()
    warnings = []
    for (line, name), rule in zip(heads, rules, strict=True):
        if name not in BLOCKING_SETS:
            continue
        optional = _optional_only(list(_input_refs(rule, False)), schema, schemas)
        meta = _metadata(metadata_above(lines, line - 1))
        custom: dict[str, Any] = meta.get("custom") or {}
        custom = custom if isinstance(custom, dict) else {}
        listed = custom.get(ACKNOWLEDGED) or []
        unlisted = [p for p in optional if p not in listed]
        if unlisted:
            code = custom.get("code") or f"this `{name}` rule"
            one = len(unlisted) == 1
            fields = " and ".join(unlisted)
            it = "it" if one else "them"
            warnings.append(
                Problem(
                    rel,
                    line,
                    f"{code} fires only when {fields} {'is' if one else 'are'} given, which "
                    f"{schema}.schema.json does not require: without {it} the rule is silent. "
                    f"If that is meant, list {it} in its METADATA under custom.{ACKNOWLEDGED}",
                )
            )
    return warnings


def _object_gets(source: str) -> Iterator[tuple[int, KeyPath]]:
    """(line, literal key path) of each `object.get(input..., keys, ...)` in the text; the
    path stops at the first key that is not a literal."""
    code = code_only(source)
    for match in _GET.finditer(code_only(source, blank_strings=True)):
        target, end = term_at(code, match.end(), stops=",")
        ref = _INPUT_REF.match(target.text)
        if not ref or end >= len(code) or code[end] != ",":
            continue
        keys, _ = term_at(code, end + 1, stops=",")
        path = [_segment(m) for m in _SEGMENT.finditer(ref.group(1))]
        yield line_of(code, match.start()), (*path, *_literal_keys(keys.text))


def _segment(match: re.Match[str]) -> str:
    return match.group(1) or string_literal(match.group(2)) or ""


def _literal_keys(text: str) -> KeyPath:
    single = string_literal(text)
    if single is not None:
        return (single,)
    if not (text.startswith("[") and text.endswith("]")):
        return ()
    keys: list[str | int] = []
    inner, i = text[1:-1], 0
    while i < len(inner):
        item, i = term_at(inner, i, stops=",")
        i += 1
        key = string_literal(item.text)
        if key is not None:
            keys.append(key)
        elif item.text.isdigit():
            keys.append(int(item.text))
        else:
            break
    return tuple(keys)


def _gets_on_input(node: Any) -> int:
    """How many `object.get` calls in the parse take a reference into input first."""
    return sum(
        1
        for term in terms(node)
        if term["type"] == "call"
        and is_object_get(term["value"])
        and _input_path(term["value"][1]) is not None
    )


def _input_path(term: Any) -> KeyPath | None:
    """The constant prefix of a reference into input, None for any other term."""
    if not isinstance(term, dict) or term.get("type") != "ref":
        return None
    parts = term["value"]
    if not parts or parts[0] != {"type": "var", "value": "input"}:
        return None
    path: list[str | int] = []
    for part in parts[1:]:
        if part.get("type") != "string":
            break
        path.append(part["value"])
    return tuple(path)


def _input_refs(node: Any, negated: bool) -> Iterator[tuple[KeyPath, bool]]:
    """(path, under a negation) of every reference into input. `object.get(input, ...)` is a
    reference to input itself, which is always there: the default covers what is missing."""
    if isinstance(node, list):
        for item in node:
            yield from _input_refs(item, negated)
        return
    if not isinstance(node, dict):
        return
    if "terms" in node and "index" in node:  # an expression
        negated = negated or bool(node.get("negated"))
    path = _input_path(node)
    if path is not None:
        yield path, negated
    for value in node.values():
        yield from _input_refs(value, negated)


def _optional_only(
    refs: list[tuple[KeyPath, bool]], schema: str, schemas: InputSchemas
) -> list[str]:
    """The optional fields a rule needs, when every input reference in it is to one; else []."""
    if not refs or any(negated for _, negated in refs):
        return []
    fields = []
    for path, _ in refs:
        info = schemas.lookup(schema, path)
        if not info.defined or info.required:
            return []
        depth = next(
            d for d in range(1, len(path) + 1) if not schemas.lookup(schema, path[:d]).required
        )
        fields.append(_dotted(path[:depth], prefix=""))
    return sorted(set(fields))


def _dotted(path: KeyPath, prefix: str = "input") -> str:
    text = prefix
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


def _metadata(block: str | None) -> dict[str, Any]:
    try:
        meta = yaml.safe_load(block) if block else None
    except yaml.YAMLError:
        return {}  # the reason-rule check reports it
    return meta if isinstance(meta, dict) else {}
