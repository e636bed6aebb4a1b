"""Reason rules no gate's decision reads: the rule is right, its name or package is not.

A reason reaches an answer only through a gate's entrypoint, `data.mlgate.<gate>.decision`
(service/engine/base.py decision_path), which reads some sets of its package (promotion:
deny, hold and warn; rollback: rollback and deny). A rule whose head says `denny contains`,
or `rollback contains` in the promotion package, or any reason rule in a package that is not a
gate's (`package mlgate.promotoin`), compiles and has its METADATA, yet adds to a set nothing
reads: it never fires, and the gate allows what it was written to deny.

So every rule that can give a reason (its METADATA has `custom.code`, or it adds to deny,
hold, warn or rollback) must be reachable from a decision: read by it, or by a rule it reads,
and so on. What a rule reads is taken from OPA's parse: the names of its package's rules it
uses, `data.<package>.<rule>` references and imports. A reference with a variable key
(`data.mlgate[x]`) reaches every rule below its constant part. Lines come from the source
text (OPA's parse has none), as service/engine/catalogue.py finds them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from service.engine.catalogue import PolicySources, rule_catalogue
from service.engine.problems import Problem
from service.engine.regoparse import constant_prefix, import_aliases, package_of, rule_name
from service.engine.rulecheck import REASON_SETS, reason_rule_heads

ENTRYPOINT = "decision"
ROOT_PACKAGE = "mlgate"

RuleKey = tuple[str, str]  # (package, rule name)


def unread_rule_problems(parsed: Mapping[str, Any], policy_set: PolicySources) -> list[Problem]:
    """A problem at the head line of each reason rule no decision reads.

    `parsed`: OPA's parse of the set's modules (path -> AST, service/engine/regoparse.py);
    test modules (`*_test.rego`) neither read nor are checked. `policy_set`: the modules'
    source text, for the lines and the METADATA codes."""
    modules = policy_set.modules
    policy = {rel: mod for rel, mod in parsed.items() if not rel.endswith("_test.rego")}
    rules = _rules(policy)
    gates = sorted(pkg for pkg, name in rules if name == ENTRYPOINT and _is_gate_package(pkg))
    read = _reachable([(pkg, ENTRYPOINT) for pkg in gates], policy, rules)
    codes = {(e.file, e.rule.rsplit(".", 1)[-1]): e for e in rule_catalogue(policy_set)}
    problems = []
    for rel, module in sorted(policy.items()):
        package = package_of(module)
        source = modules.get(rel, "")
        lines: dict[str, list[int]] = {}
        for line, name in reason_rule_heads(source):
            lines.setdefault(name, []).append(line)
        for (file, name), entry in codes.items():
            if file == rel:
                lines.setdefault(name, []).append(entry.line)
        defined = {rule_name(rule) for rule in module.get("rules", [])}
        for name in sorted(defined & set(lines)):
            if (package, name) in read:
                continue
            coded = codes.get((rel, name))
            what = f"the rule of {coded.code}" if coded else f"a `{name}` rule"
            message = _unread_message(what, package, name, gates, read, codes)
            problems += [Problem(rel, line, message) for line in sorted(set(lines[name]))]
    return problems


def _unread_message(
    what: str,
    package: str,
    name: str,
    gates: list[str],
    read: set[RuleKey],
    codes: Mapping[tuple[str, str], Any],
) -> str:
    never = "so it never fires and the gate allows what it was written to refuse"
    if package not in gates:
        expected = ", ".join(gates) or "none"
        return (
            f"{what} (`{name}`) is in package {package}, which no gate queries: the service asks "
            f"data.mlgate.<gate>.{ENTRYPOINT} of packages {expected}{_close(package, gates)}; "
            f"{never}"
        )
    named = {n for _, n in codes} | set(REASON_SETS)
    sets = sorted(n for pkg, n in read if pkg == package and n in named)
    return (
        f"{what} adds to `{name}`, which the {ENTRYPOINT} of {package} never reads: it reads "
        f"{', '.join(sets) or 'no reason set'}{_close(name, sets)}; {never}"
    )


def _close(found: str, expected: list[str]) -> str:
    match = difflib.get_close_matches(found, expected, n=1)
    return f" (did you mean {match[0]}?)" if match else ""


def _is_gate_package(package: str) -> bool:
    parts = package.split(".")
    return len(parts) == 2 and parts[0] == ROOT_PACKAGE


def _rules(policy: Mapping[str, Any]) -> dict[RuleKey, list[tuple[str, Any]]]:
    """(package, rule name) -> (module path, rule AST) of each definition."""
    rules: dict[RuleKey, list[tuple[str, Any]]] = {}
    for rel, module in policy.items():
        package = package_of(module)
        for rule in module.get("rules", []):
            rules.setdefault((package, rule_name(rule)), []).append((rel, rule))
    return rules


def _reachable(
    roots: Iterable[RuleKey], policy: Mapping[str, Any], rules: Mapping[RuleKey, Any]
) -> set[RuleKey]:
    seen = {root for root in roots if root in rules}
    pending = list(seen)
    while pending:
        key = pending.pop()
        for rel, rule in rules[key]:
            module = policy[rel]
            for target in _reads(rule, key[0], import_aliases(module), rules):
                if target not in seen:
                    seen.add(target)
                    pending.append(target)
    return seen


def _reads(
    rule: Any, package: str, aliases: Mapping[str, tuple[str, ...]], rules: Mapping[RuleKey, Any]
) -> Iterator[RuleKey]:
    """The rules a rule may read: its package's rules it names (a local variable of the same
    name counts too: more is read, never less), and what its data references reach."""
    if isinstance(rule, list):
        for item in rule:
            yield from _reads(item, package, aliases, rules)
        return
    if not isinstance(rule, dict):
        return
    kind, value = rule.get("type"), rule.get("value")
    if kind == "var" and isinstance(value, str):
        if (package, value) in rules:
            yield package, value
        if value in aliases:
            yield from _under(aliases[value], rules)
        return
    if kind == "ref" and isinstance(value, list) and value:
        head = value[0]
        name = head.get("value") if head.get("type") == "var" else None
        base = () if name == "data" else aliases.get(str(name)) if name else None
        if base is not None:
            keys, _ = constant_prefix(value[1:])
            yield from _named(base + keys, rules)
        else:
            yield from _reads(head, package, aliases, rules)
        yield from _reads(value[1:], package, aliases, rules)
        return
    for item in rule.values():
        yield from _reads(item, package, aliases, rules)


def _named(path: tuple[str, ...], rules: Mapping[RuleKey, Any]) -> list[RuleKey]:
    """The rule a data path names (data.<package>.<rule>...), else every rule under it."""
    for split in range(len(path) - 1, 0, -1):
        key = (".".join(path[:split]), path[split])
        if key in rules:
            return [key]
    return list(_under(path, rules))


def _under(path: tuple[str, ...], rules: Mapping[RuleKey, Any]) -> Iterator[RuleKey]:
    prefix = ".".join(path)
    for key in rules:
        if not prefix or key[0] == prefix or key[0].startswith(prefix + "."):
            yield key
