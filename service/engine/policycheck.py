"""The static checks of a policy set that `mlgate check` runs before a commit.

Load and compile with the real OPA engine, thresholds files against their schemas, METADATA
and unique codes on every rule that can give a reason, one entrypoint per gate and no default
that could answer allow; from OPA's parse, reason rules no gate's decision reads and references
into data.mlgate.config that the thresholds schemas do not define (parsedchecks.py). With
OPA's command-line tool at hand, `opa check --strict` with each package's input typed by its
gate's schema (a reference to an input path the schema does not define is an error) and
`opa fmt --fail` join in; without it, the summary says what was not checked. Warnings (rules
that fire only when an optional field is given) do not fail it.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.engine.bindings import new_opa
from service.engine.defaults import ENTRYPOINT, default_rule_lines, default_rule_problems
from service.engine.embedded import load_into
from service.engine.inputpaths import object_get_problems, optional_only_warnings
from service.engine.inputschema import InputSchemas
from service.engine.parsedchecks import parsed_problems
from service.engine.policyset import PolicySet, read_policy_set
from service.engine.problems import Problem
from service.engine.regoparse import package_of, parse_modules, rule_name
from service.engine.rulecheck import REASON_SETS, reason_rule_heads, rule_problems
from service.engine.thresholds import config_problems
from service.engine.typecheck import TIMEOUT_SECONDS, input_annotation_problems, type_problems
from service.errors import MlgateError, PolicyLoadError

_ENTRYPOINT_MARK = re.compile(r"^#\s*entrypoint:\s*true\s*$")
# OPA reports compile errors as "<root>/<file>:<line>: <message>".
_ERRORS_OCCURRED = re.compile(r"^\d+ errors? occurred:?$")
_OPA_LOCATION = re.compile(r"^(?P<file>[^\s:]+\.rego):(?P<line>\d+): (?P<message>.*)$")
# `opa fmt --fail --list` (as OPA 1.22.3 writes it): "unexpected diff" after listing the files it
# would change, and a file it cannot parse as "failed to format Rego source file: <errors>".
_FMT_DIFF = "unexpected diff"
_FMT_FAILED = re.compile(r"^failed to format Rego source file: (\d+ errors? occurred: )?")


@dataclass(frozen=True)
class CheckReport:
    """What `mlgate check` found: `problems` (empty when the set is safe to commit),
    `warnings` (worth a look, not failing it) and what was looked at (counts of modules, data
    files and reason rules; the opa tool's path, None when it did not run)."""

    problems: list[Problem]
    modules: int
    data_files: int
    reason_rules: int
    opa_binary: str | None
    warnings: list[Problem] = field(default_factory=list)


def check_policy_dir(
    root: Path, schema_dir: Path, gates: Iterable[str], opa_binary: str | None = None
) -> CheckReport:
    """Every problem of the policy set under `root`, with file (relative to `root`) and line.

    `gates`: the names of the gates the service answers; each one's package (mlgate.<gate>),
    when the set has it, needs its entrypoint, and a data file named for a gate needs its
    package.

    `opa_binary`: path of OPA's command-line tool; when given, `opa check --strict` with the
    gate input schemas of `schema_dir` and `opa fmt --fail` run too (the embedded engine has
    neither). Raises nothing for a broken policy set: each failure is a Problem.
    """
    try:
        policy_set = read_policy_set(root)
    except PolicyLoadError as exc:
        return CheckReport([Problem("", 0, exc.message)], 0, 0, 0, opa_binary)
    problems = [
        *config_problems(root, policy_set.files, schema_dir),
        *rule_problems(policy_set),
        *default_rule_problems(policy_set.modules),
        *input_annotation_problems(policy_set.modules),
    ]
    compiled, parsed = _compile_problems(policy_set, tuple(gates))
    problems += compiled
    warnings: list[Problem] = []
    try:
        schemas = InputSchemas(schema_dir)
    except PolicyLoadError as exc:
        problems.append(Problem("", 0, exc.message))
    else:
        problems += parsed_problems(parsed, policy_set, schemas)
        for rel, module in sorted(parsed.items()):
            source = policy_set.modules[rel]
            problems += object_get_problems(rel, source, module, schemas)
            if not rel.endswith("_test.rego"):
                warnings += optional_only_warnings(rel, source, module, schemas)
    if opa_binary:
        problems += opa_tool_problems(opa_binary, policy_set, schema_dir)
    modules = [rel for rel in policy_set.modules if not rel.endswith("_test.rego")]
    return CheckReport(
        problems=_each_once(problems),
        modules=len(policy_set.modules),
        data_files=len(policy_set.files) - len(policy_set.modules),
        reason_rules=sum(len(reason_rule_heads(policy_set.modules[rel])) for rel in modules),
        opa_binary=opa_binary,
        warnings=sorted(set(warnings)),
    )


def _compile_problems(
    policy_set: PolicySet, gates: tuple[str, ...]
) -> tuple[list[Problem], dict[str, Any]]:
    """Compile errors, rule heads and defaults the text scans missed, and missing
    entrypoints; and the modules as OPA parsed them (none when the set does not compile)."""
    try:
        opa = new_opa()
    except MlgateError as exc:
        return [Problem("", 0, exc.message)], {}
    try:
        load_into(opa, policy_set)
    except PolicyLoadError as exc:
        return _opa_problems(exc.message, policy_set.root.name), {}
    finally:
        opa.close()
    parsed = parse_modules(policy_set.modules)
    problems = []
    for rel, module in sorted(parsed.items()):
        source = policy_set.modules[rel]
        defaults = sum(bool(rule.get("default")) for rule in module.get("rules", []))
        if defaults != len(default_rule_lines(source)):
            problems.append(
                Problem(
                    rel,
                    0,
                    f"OPA parses {defaults} default rules but {len(default_rule_lines(source))} "
                    "`default` heads start a line; write each at the start of its line "
                    "(`opa fmt` does) so its value can be checked",
                )
            )
        if rel.endswith("_test.rego"):
            continue
        parsed_heads = sum(rule_name(rule) in REASON_SETS for rule in module.get("rules", []))
        scanned = len(reason_rule_heads(source))
        if parsed_heads != scanned:
            problems.append(
                Problem(
                    rel,
                    0,
                    f"OPA parses {parsed_heads} rules adding to {'/'.join(REASON_SETS)} but "
                    f"{scanned} heads start a line; write each head at the start of its line "
                    "(`opa fmt` does) so its METADATA can be checked",
                )
            )
    return problems + _entrypoint_problems(policy_set, parsed, gates), parsed


def _entrypoint_problems(
    policy_set: PolicySet, parsed: dict[str, Any], gates: tuple[str, ...]
) -> list[Problem]:
    problems = []
    for gate in gates:
        package = f"mlgate.{gate}"
        files = [rel for rel, mod in parsed.items() if package_of(mod) == package]
        configured = f"data/{gate}.yaml" in policy_set.files
        if not files:
            if configured:
                problems.append(
                    Problem(
                        f"data/{gate}.yaml", 0, f"thresholds for {gate}, but no package {package}"
                    )
                )
            continue
        marked = [
            (rel, line) for rel in files for line in _entrypoint_lines(policy_set.modules[rel])
        ]
        if not marked:
            problems.append(
                Problem(
                    sorted(files)[0],
                    0,
                    f"package {package} has no `{ENTRYPOINT}` rule with METADATA "
                    "`entrypoint: true`; the service queries exactly that rule",
                )
            )
    return problems


def _entrypoint_lines(source: str) -> list[int]:
    """Lines of `decision` rule heads whose METADATA block says `entrypoint: true`."""
    lines = source.splitlines()
    found = []
    for i, line in enumerate(lines):
        if not re.match(rf"^{ENTRYPOINT}\s*(:=|=|if|\{{)", line):
            continue
        j = i
        while j > 0 and lines[j - 1].lstrip().startswith("#"):
            j -= 1
            if _ENTRYPOINT_MARK.match(lines[j].strip()):
                found.append(i + 1)
                break
    return found


def _opa_problems(message: str, prefix: str) -> list[Problem]:
    """One Problem per error in OPA's compile message: the lines after an error's own (a type
    error's `have:` and `want:`) belong to it, and OPA's "N errors occurred:" is no error."""
    problems: list[Problem] = []
    for line in message.splitlines():
        if not line.strip() or _ERRORS_OCCURRED.match(line.strip()):
            continue
        problem = _opa_problem(line, prefix)
        if problem.file or not problems or not line[:1].isspace():
            problems.append(problem)
        else:
            last = problems[-1]
            problems[-1] = Problem(last.file, last.line, f"{last.message}; {line.strip()}")
    return problems


def _each_once(problems: list[Problem]) -> list[Problem]:
    """The problems sorted, each once: the same error found by the engine and by `opa check`
    (whose message is the first line of the engine's) is kept in the engine's fuller words."""
    unique = sorted(set(problems))
    return [
        p
        for p in unique
        if not any(
            (o.file, o.line) == (p.file, p.line)
            and o.message != p.message
            and o.message.startswith(p.message)
            for o in unique
        )
    ]


def _opa_problem(line: str, prefix: str) -> Problem:
    match = _OPA_LOCATION.match(line.strip())
    if not match:
        return Problem("", 0, line.strip())
    file = match["file"].removeprefix(prefix + "/")
    return Problem(file, int(match["line"]), match["message"])


def opa_tool_problems(opa_binary: str, policy_set: PolicySet, schema_dir: Path) -> list[Problem]:
    """`opa check --strict` with the gate input schemas (at file:line) and `opa fmt --fail
    --list` on the set's root, each failure a Problem."""
    problems = type_problems(policy_set, schema_dir, opa_binary)
    argv = [opa_binary, "fmt", "--fail", "--list", str(policy_set.root)]
    run = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=TIMEOUT_SECONDS)
    if run.returncode != 0:
        problems += _fmt_problems(run.stdout, run.stderr, str(policy_set.root))
    return problems


def _fmt_problems(stdout: str, stderr: str, prefix: str) -> list[Problem]:
    """`opa fmt --fail --list`'s failure as Problems: each file it lists (stdout) is one, at
    that file; its "unexpected diff" says only that it listed some; a file it cannot parse is
    OPA's located error (the same as the engine's, so printed once); anything else, one
    Problem of the lines joined, so no line of it is sorted away from the rest."""
    listed = [line.strip() for line in stdout.splitlines() if line.strip()]
    problems = [
        Problem(
            path.removeprefix(prefix + "/"),
            0,
            "opa fmt --fail: not formatted as `opa fmt` writes it (`opa fmt -w` rewrites it)",
        )
        for path in listed
    ]
    rest = [line for line in stderr.splitlines() if line.strip() != _FMT_DIFF and line.strip()]
    located = [_FMT_FAILED.sub("", line) for line in rest]
    if any(_OPA_LOCATION.match(line.strip()) for line in located):
        return problems + _opa_problems("\n".join(located), prefix)
    if rest or not problems:
        told = "; ".join(line.strip() for line in rest) or "failed without saying why"
        problems.append(Problem("", 0, f"opa fmt --fail: {told}"))
    return problems
