"""References into the thresholds, data.mlgate.config, checked against their schemas.

policies/data/<name>.yaml is data.mlgate.config.<name>, and schemas/<name>_config.schema.json
says which keys it may have (service/engine/thresholds.py checks the files against it). A
rule reading `data.mlgate.config.promotoin...` (a file that is not there) or
`...staging.flors` (a key the schema does not define) reads nothing: the rule never fires, or
`object.get` quietly yields its default. As for input paths (service/engine/typecheck.py,
service/engine/inputpaths.py), such a reference is a problem.

Read from OPA's parse (service/engine/regoparse.py), the references checked are:
- `data.mlgate.config.<keys>`, also through an import of it;
- `object.get(<config>, <key or [keys]>, default)`, its literal keys;
- through a package's alias rules: a rule with no arguments and no body whose value is one
  of these (`_promotion := object.get(data.mlgate.config, "promotion", {})`), then
  `_promotion.tiers` or `object.get(_promotion, ["tiers", "high"], {})` anywhere in the
  package, aliases of aliases too;
- through a package's alias functions, the same with arguments (`_settings_of(t) :=
  object.get(_promotion, ["tiers", t], {})`), at each call `_settings_of(tier)`;
- through `object.union(a, b)` of two such values (settings merged over others of the same
  schema: a tier's and a model's own), read as `a` (else `b`);
- through a rule's own variables bound to one of these: `x := <config>`, and `some k, x in
  <config>` (x: any value of it);
- a key asked with `"key" in object.keys(<config>)`;
- inside a function, an argument its calls pass one of these (`metrics.meets_absolute_change(c,
  b, spec)` with `spec` a regression spec): a read is a problem when no path any call passes
  defines it.
A key that is not a literal (`tiers[t]`, `["stages", stage]`) stands for any key the schema
allows there (its additionalProperties), so the keys after it are checked; a key argument of
object.get that is a variable (one key or a whole path) ends the path. A value computed
otherwise from the config (a comprehension, another function's result) is not followed. The
schemas are read as OPA's type checker reads an input schema (service/engine/inputschema.py
lookup): an object that lists `properties` has no other keys. Lines come from the source
text: the first line where the undefined key is written (OPA's parse has no locations).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from itertools import product
from typing import Any, Protocol

from service.engine.inputschema import InputSchemas
from service.engine.problems import Problem
from service.engine.regoparse import (
    import_aliases,
    is_object_get,
    package_of,
    rule_name,
    terms,
)
from service.engine.regotext import code_only, line_of

CONFIG = ("mlgate", "config")
CONFIG_SCHEMA = "_config"
_MAX_ALIAS_DEPTH = 8

ConfigPath = tuple[str | int | None, ...]  # None: a key computed, any the schema allows
# A config path and whether it is all of the term (False: a variable key follows).
Found = tuple[ConfigPath, bool]


class ConfiguredPolicies(Protocol):
    """What the check reads of a policy set (service/engine/policyset.PolicySet): its
    modules' source text and its thresholds data (data.mlgate.config)."""

    @property
    def modules(self) -> Mapping[str, str]: ...

    @property
    def config(self) -> Mapping[str, Any]: ...


def config_path_problems(
    parsed: Mapping[str, Any], policy_set: ConfiguredPolicies, schemas: InputSchemas
) -> list[Problem]:
    """A problem for each reference into data.mlgate.config that names a data file the set
    does not have and no config schema describes, or a key its schema does not define; at the
    line the key is written. Test modules (`*_test.rego`) are not checked: they set the
    thresholds they need (`with data.mlgate.config as ...`)."""
    policy = {rel: mod for rel, mod in parsed.items() if not rel.endswith("_test.rego")}
    described = {n.removesuffix(CONFIG_SCHEMA) for n in schemas.names if n.endswith(CONFIG_SCHEMA)}
    names = sorted(set(policy_set.config) | described)
    aliases = _aliases(policy)
    walks = _Walks()
    arguments = _config_arguments(policy, aliases, walks)
    problems: dict[tuple[str, ConfigPath], Problem] = {}
    for rel, module in sorted(policy.items()):
        in_package = {**aliases.get(package_of(module), {}), **_config_imports(module)}
        source = policy_set.modules.get(rel, "")
        for rule in module.get("rules", []):
            scopes = _rule_scopes(in_package, rule, arguments, package_of(module), walks)
            # Each scope reads the same terms, in the same order: one per path its arguments
            # may be given. A read is wrong only when it is under every one of them.
            for reads in zip(*(_rule_reads(rule, known) for known in scopes), strict=True):
                found = [_undefined(path, names, described, schemas) for path in reads]
                first = found[0]
                if first is None or None in found or (rel, first[0]) in problems:
                    continue
                bad, message = first
                problems[(rel, bad)] = Problem(rel, _line(source, bad[-1]), message)
    return list(problems.values())


def _undefined(
    path: ConfigPath, names: list[str], described: set[str], schemas: InputSchemas
) -> tuple[ConfigPath, str] | None:
    """(the path up to its first undefined key, what is wrong), None when all is defined."""
    if not path or path[0] is None:
        return None
    name = str(path[0])
    if name not in names:
        return path[:1], (
            f"reads {_dotted(path[:1])}: data.mlgate.config has no {name}{_close(name, names)}; "
            f"it has {', '.join(names) or 'nothing'} (policies/data/<name>.yaml, "
            f"schemas/<name>{CONFIG_SCHEMA}.schema.json); {_NEVER}"
        )
    if name not in described:
        return None
    schema = name + CONFIG_SCHEMA
    info = schemas.lookup(schema, path[1:], property_names=True)
    if info.defined:
        return None
    bad = path[: 2 + len(info.parent)]  # its last key is a literal: a computed one is defined
    key = str(bad[-1])
    parent = _dotted(bad[:-1])
    has = f", which has {', '.join(info.known)}" if info.known else ""
    return bad, (
        f"reads {_dotted(bad)}: {schema}.schema.json defines no {key}"
        f"{_close(key, list(info.known))} in {parent}{has}; {_NEVER}"
    )


_NEVER = "a rule reading a path the thresholds never have would never fire"


def _aliases(policy: Mapping[str, Any]) -> dict[str, dict[str, ConfigPath]]:
    """Package -> alias rule or function name -> the config path its value is."""
    aliases: dict[str, dict[str, ConfigPath]] = {}
    for _ in range(_MAX_ALIAS_DEPTH):
        changed = False
        for module in policy.values():
            package = package_of(module)
            defined = Counter(rule_name(rule) for rule in module.get("rules", []))
            in_package = {**aliases.get(package, {}), **_config_imports(module)}
            for rule in module.get("rules", []):
                name = rule_name(rule)
                if name in in_package or defined[name] > 1 or not _is_alias_rule(rule):
                    continue
                known = _without_arguments(in_package, rule)
                found = _config_term(rule["head"]["value"], known)
                if found is not None and found[1]:
                    aliases.setdefault(package, {})[name] = found[0]
                    changed = True
        if not changed:
            break
    return aliases


def _is_alias_rule(rule: Mapping[str, Any]) -> bool:
    """A rule (or function) whose value is all it is: one definition, no body, no else."""
    head = rule["head"]
    body = rule.get("body") or []
    return (
        "value" in head
        and len(head.get("ref", [])) == 1
        and not rule.get("default")
        and "else" not in rule
        and len(body) == 1
        and bool(body[0].get("generated"))
    )


def _without_arguments(
    known: Mapping[str, ConfigPath], rule: Mapping[str, Any]
) -> dict[str, ConfigPath]:
    """`known` less the names a function's arguments shadow in its own rule."""
    shadowed = {
        str(term["value"])
        for argument in rule["head"].get("args") or []
        for term in terms(argument)
        if term["type"] == "var"
    }
    return {name: path for name, path in known.items() if name not in shadowed}


def _config_imports(module: Mapping[str, Any]) -> dict[str, ConfigPath]:
    return {
        alias: path[len(CONFIG) :]
        for alias, path in import_aliases(module).items()
        if path[: len(CONFIG)] == CONFIG
    }


# (package, function name, argument index) -> the config paths the calls pass there.
Arguments = Mapping[tuple[str, str, int], tuple[ConfigPath, ...]]


def _rule_reads(rule: Mapping[str, Any], known: Mapping[str, ConfigPath]) -> list[ConfigPath]:
    """The config path of every term of `rule` that reads the thresholds, in `known`."""
    return [*_config_reads(rule, known), *_member_key_reads(rule, known)]


class _Walks:
    """Each rule's expressions and calls, walked once for one check (the argument rounds read
    every rule several times)."""

    def __init__(self) -> None:
        self._walked: dict[int, tuple[list[dict[str, Any]], list[list[Any]]]] = {}

    def of(self, rule: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[list[Any]]]:
        """(the rule's expressions that may bind a variable, its calls)."""
        walked = self._walked.get(id(rule))
        if walked is None:
            expressions = [e for e in _expressions(rule) if _may_bind(e.get("terms"))]
            walked = self._walked[id(rule)] = (expressions, list(_calls(rule)))
        return walked


def _may_bind(expression: Any) -> bool:
    if isinstance(expression, dict):
        return isinstance(expression.get("symbols"), list)
    return (
        isinstance(expression, list)
        and len(expression) == 3
        and _operator(expression[0]) in (("assign",), ("eq",))
    )


def _rule_scopes(
    aliases: Mapping[str, ConfigPath],
    rule: Mapping[str, Any],
    arguments: Arguments,
    package: str,
    walks: _Walks,
) -> list[dict[str, ConfigPath]]:
    """What each name in `rule` stands for of the config, once per way its function may be
    called: the package's aliases, less those its arguments shadow, plus each argument that
    every call gives a config value (one of `arguments`' paths), plus the body's bindings."""
    known = _without_arguments(aliases, rule)
    bound: list[tuple[str, tuple[ConfigPath, ...]]] = []
    for index, argument in enumerate(rule["head"].get("args") or []):
        paths = arguments.get((package, rule_name(rule), index))
        if paths and argument.get("type") == "var":
            bound.append((str(argument["value"]), paths))
    return [
        _with_local_bindings(
            {**known, **dict(zip([n for n, _ in bound], chosen, strict=True))},
            walks.of(rule)[0],
        )
        for chosen in product(*(paths for _, paths in bound))
    ]


def _config_arguments(
    policy: Mapping[str, Any], aliases: Mapping[str, Mapping[str, ConfigPath]], walks: _Walks
) -> dict[tuple[str, str, int], tuple[ConfigPath, ...]]:
    """(package, function, argument index) -> the config paths its calls pass there
    (`metrics.meets_absolute_change(c, b, spec)` with `spec` a value of the promotion gate's
    regression map, or of the monitoring gate's versus_baseline map): inside, the argument
    reads one of them. A call passing a value computed otherwise (`broken.spec`) is taken to
    pass one of the same: a key the function reads that none of them defines is a typo."""
    found: dict[tuple[str, str, int], tuple[ConfigPath, ...]] = {}
    for _ in range(_MAX_ALIAS_DEPTH):
        passed: dict[tuple[str, str, int], set[ConfigPath | None]] = {}
        for module in policy.values():
            package = package_of(module)
            imports = import_aliases(module)
            in_package = {**aliases.get(package, {}), **_config_imports(module)}
            for rule in module.get("rules", []):
                for known in _rule_scopes(in_package, rule, found, package, walks):
                    for call in walks.of(rule)[1]:
                        callee = _callee(_operator(call[0]), package, imports)
                        for index, argument in enumerate(call[1:]):
                            config = _config_term(argument, known)
                            path = config[0] if config is not None and config[1] else None
                            passed.setdefault((*callee, index), set()).add(path)
        now = {
            key: tuple(sorted((p for p in paths if p is not None), key=repr))
            for key, paths in passed.items()
            if key[0] and paths - {None}
        }
        if now == found:
            break
        found = now
    return found


def _calls(node: Any) -> Iterator[list[Any]]:
    """Every call in `node` as [operator, arguments...]: call terms, and expressions that are
    a call (`not metrics.meets_floor(v, n, f)`, whose terms are that list)."""
    for term in terms(node):
        if term["type"] == "call" and isinstance(term["value"], list) and term["value"]:
            yield term["value"]
    for expression in _expressions(node):
        listed = expression.get("terms")
        if isinstance(listed, list) and listed and listed[0].get("type") == "ref":
            yield listed


def _expressions(node: Any) -> Iterator[dict[str, Any]]:
    """Every expression (a dict with `terms`) in `node`, comprehension bodies included."""
    if isinstance(node, list):
        for item in node:
            yield from _expressions(item)
    elif isinstance(node, dict):
        if "terms" in node:
            yield node
        for value in node.values():
            yield from _expressions(value)


def _callee(
    operator: tuple[str, ...], package: str, imports: Mapping[str, tuple[str, ...]]
) -> tuple[str, str]:
    """(package, name) of the function a call's operator names; ("", "") for a built-in."""
    if len(operator) == 1:
        return package, operator[0]
    if operator and operator[0] in imports:
        path = (*imports[operator[0]], *operator[1:])
        return ".".join(path[:-1]), path[-1]
    if operator[:1] == ("data",) and len(operator) > 2:
        return ".".join(operator[1:-1]), operator[-1]
    return "", ""


def _with_local_bindings(
    known: Mapping[str, ConfigPath], expressions: list[dict[str, Any]]
) -> dict[str, ConfigPath]:
    """`known` and the variables `expressions` (a rule's, in its body and comprehensions)
    bind to the config: `x := <config>` and `some k, x in <config>` (x: any of its values)."""
    bound = dict(known)
    for _ in range(2):  # a binding may read one made after it in the text
        for expression in expressions:
            found = _binding(expression.get("terms"), bound)
            if found is not None:
                bound[found[0]] = found[1]
    return bound


def _binding(expression: Any, known: Mapping[str, ConfigPath]) -> tuple[str, ConfigPath] | None:
    """(variable, config path) when `expression` binds a variable to the config."""
    if isinstance(expression, dict) and isinstance(expression.get("symbols"), list):
        symbols = expression["symbols"]
        call = symbols[0].get("value") if len(symbols) == 1 else None
        if not isinstance(call, list) or not call:
            return None
        operator, arguments = _operator(call[0]), call[1:]
        if operator not in (("internal", "member_2"), ("internal", "member_3")):
            return None
        value, collection = arguments[-2], arguments[-1]
        found = _config_term(collection, known)
        if value.get("type") == "var" and found is not None and found[1]:
            return str(value["value"]), (*found[0], None)
        return None
    if not isinstance(expression, list) or len(expression) != 3:
        return None
    if _operator(expression[0]) not in (("assign",), ("eq",)):
        return None
    target, source = expression[1], expression[2]
    found = _config_term(source, known)
    if target.get("type") == "var" and found is not None and found[1]:
        return str(target["value"]), found[0]
    return None


def _member_key_reads(node: Any, known: Mapping[str, ConfigPath]) -> Iterator[ConfigPath]:
    """The config path of each `"key" in object.keys(<config>)` in `node`: the key it asks."""
    if isinstance(node, dict):
        for value in node.values():
            yield from _member_key_reads(value, known)
        return
    if not isinstance(node, list):
        return
    if len(node) == 3 and _operator(node[0]) == ("internal", "member_2"):
        key, keys_of = node[1], node[2]
        call = keys_of.get("value") if isinstance(keys_of, dict) else None
        if (
            isinstance(key, dict)
            and key.get("type") == "string"
            and keys_of.get("type") == "call"
            and isinstance(call, list)
            and len(call) == 2
            and _operator(call[0]) == ("object", "keys")
        ):
            found = _config_term(call[1], known)
            if found is not None and found[1]:
                yield (*found[0], str(key["value"]))
    for item in node:
        yield from _member_key_reads(item, known)


def _config_reads(node: Any, aliases: Mapping[str, ConfigPath]) -> Iterator[ConfigPath]:
    """The config path of every term in `node` that reads the thresholds."""
    for term in terms(node):
        if term["type"] in ("ref", "call"):
            found = _config_term(term, aliases)
            if found is not None:
                yield found[0]


def _config_term(term: Any, aliases: Mapping[str, ConfigPath]) -> Found | None:
    """The config path a term reads, when it reads one."""
    if not isinstance(term, dict):
        return None
    kind, value = term.get("type"), term.get("value")
    if kind == "var" and value in aliases:
        return aliases[str(value)], True
    if kind == "ref" and isinstance(value, list) and value and value[0].get("type") == "var":
        keys = tuple(_key(part) for part in value[1:])
        head = value[0]["value"]
        if head == "data" and keys[: len(CONFIG)] == CONFIG:
            return keys[len(CONFIG) :], True
        if head in aliases:
            return (*aliases[str(head)], *keys), True
        return None
    if kind != "call" or not isinstance(value, list) or not value:
        return None
    if len(value) == 4 and is_object_get(value):
        target = _config_term(value[1], aliases)
        if target is None or not target[1]:
            return None
        literal, complete = _literal_keys(value[2])
        return (*target[0], *literal), complete
    operator = _operator(value[0])
    if operator == ("object", "union") and len(value) == 3:
        merged = [_config_term(argument, aliases) for argument in value[1:]]
        return next((found for found in merged if found is not None and found[1]), None)
    if len(operator) == 1 and operator[0] in aliases:
        return aliases[operator[0]], True  # an alias function: its value, whatever its arguments
    return None


def _operator(term: Any) -> tuple[str, ...]:
    """A call's operator as names (`("object", "union")`), () when it is not all names."""
    parts = term.get("value") if isinstance(term, dict) else None
    if not isinstance(parts, list):
        return ()
    names = tuple(str(part.get("value")) for part in parts)
    return names if all(part.get("type") in ("var", "string") for part in parts) else ()


def _key(term: Any) -> str | int | None:
    """A reference's key: its literal, None when it is computed (a variable, a call)."""
    if isinstance(term, dict) and term.get("type") == "string":
        return str(term["value"])
    return None


def _literal_keys(term: Any) -> Found:
    """The keys of object.get's key argument: one key, or an array of them (None for a key
    computed); ((), False) when the argument is not written out (a variable: one key or a
    whole path)."""
    if term.get("type") == "string":
        return (str(term["value"]),), True
    if term.get("type") != "array":
        return (), False
    keys: list[str | int | None] = []
    for item in term["value"]:
        if item.get("type") == "string":
            keys.append(str(item["value"]))
        elif item.get("type") == "number" and isinstance(item["value"], int):
            keys.append(item["value"])
        else:
            keys.append(None)
    return tuple(keys), True


def _line(source: str, key: str | int | None) -> int:
    """The first line where `key` is written as a reference key or a string; 0 if none (or
    the key is computed)."""
    if key is None:
        return 0
    text = re.escape(str(key))
    code = code_only(source)
    match = re.search(rf'\.{text}\b|"{text}"|\[\s*{text}\s*\]', code)
    return line_of(code, match.start()) if match else 0


def _dotted(path: ConfigPath) -> str:
    text = "data." + ".".join(CONFIG)
    for key in path:
        text += "[_]" if key is None else f"[{key}]" if isinstance(key, int) else f".{key}"
    return text


def _close(found: str, expected: list[str]) -> str:
    match = difflib.get_close_matches(found, expected, n=1)
    return f" (did you mean {match[0]}?)" if match else ""
