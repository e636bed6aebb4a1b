"""OPA's own type checker over a policy set, with each package's input typed by its schema.

`opa check --strict --schema`: a reference to an input path the gate's input schema does not
define (`input.metrics.value.auc` for `values`) is a type error at its file and line, where it
would otherwise be a rule that never fires. The embedded engine cannot type-check against a
schema, so this needs OPA's command-line tool. It checks the modules as they were read (a copy
in a temporary directory, not the files on disk, which may have changed since) with the
schemas of service/engine/inputschema.py and, for their scoping, one METADATA module per
schema: `scope: subpackages` on package mlgate (gate_input) and on each mlgate.<gate> that has
an input schema of its own.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import yaml

from service.engine.inputschema import COMMON, ROOT_PACKAGE, InputSchemas
from service.engine.problems import Problem
from service.errors import PolicyLoadError
from service.settings import PROJECT_ROOT
from service.statefiles import private_directory

log = logging.getLogger("mlgate.engine")
TIMEOUT_SECONDS = 120
_NAME = "opa check --strict"
_SCHEMA, _OTHER = "schema", "other"
_SCHEMAS_KEY = re.compile(r"^\s*#\s*schemas\s*:", re.MULTILINE)
_POLICIES = "policies"
_SCOPES = "scopes"
_SCHEMAS = "schemas"
# A set checked once per process: (revision, schemas, tool) -> its problems.
_checked: dict[tuple[str, str, str], tuple[Problem, ...]] = {}
_said_missing: list[bool] = []


class TypedPolicies(Protocol):
    """What the type check reads of a policy set (service/engine/policyset.PolicySet)."""

    @property
    def modules(self) -> Mapping[str, str]: ...

    @property
    def revision(self) -> str: ...


def default_opa_binary() -> str | None:
    """OPA's command-line tool: the one `make opa` built into the project's tools folder, else
    one on PATH; None when neither is there."""
    built = PROJECT_ROOT / ".tools" / "bin" / "opa"
    return str(built) if built.is_file() else shutil.which("opa")


def type_problems(
    policy_set: TypedPolicies, schema_dir: Path, opa_binary: str, only_schema: bool = False
) -> list[Problem]:
    """Every error of `opa check --strict --schema` over the set's modules, at file:line
    relative to the policy root (a problem of its own when the schemas cannot be bundled).

    `only_schema`: only what the schemas find (a reference to an input path the schema does
    not define, a scope annotation of the policy's own, output that is not OPA's JSON); the
    rest, a set that does not parse or compile, is the engine's to refuse in its own words
    when it compiles the set."""
    try:
        schemas = InputSchemas(schema_dir)
        bundled = {n: schemas.bundled(n) for n in [COMMON, *(g + "_input" for g in schemas.gates)]}
    except PolicyLoadError as exc:
        return [Problem("", 0, exc.message)]
    with tempfile.TemporaryDirectory(prefix="mlgate-typecheck-") as tmp:
        root = Path(tmp).resolve()
        for rel, source in policy_set.modules.items():
            _write(root / _POLICIES / rel, source)
        for schema, document in bundled.items():
            _write(root / _SCHEMAS / f"{schema}.json", json.dumps(document))
        _write(root / _SCOPES / "mlgate.rego", _scope_module(ROOT_PACKAGE, COMMON))
        for gate in schemas.gates:
            _write(
                root / _SCOPES / f"{gate}.rego", _scope_module(f"mlgate.{gate}", gate + "_input")
            )
        argv = [opa_binary, "check", "--strict", "--format", "json", "--max-errors", "0"]
        argv += ["--schema", str(root / _SCHEMAS), str(root / _POLICIES), str(root / _SCOPES)]
        try:
            run = subprocess.run(
                argv, capture_output=True, text=True, check=False, timeout=TIMEOUT_SECONDS
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return [Problem("", 0, f"{_NAME}: {exc}")]
        if run.returncode == 0:
            return []
        found = _problems(run.stdout + run.stderr, root, policy_set.modules, schemas)
        return [problem for kind, problem in found if not only_schema or kind != _OTHER]


def load_problems(policy_set: TypedPolicies, schema_dir: Path) -> list[Problem]:
    """The type check at load, when OPA's command-line tool is here; once per process for a
    given revision and schemas. Without the tool it says so once and finds nothing."""
    opa_binary = default_opa_binary()
    if opa_binary is None:
        if not _said_missing:
            _said_missing.append(True)
            log.warning(
                "OPA's command-line tool is not here (make opa builds it): input paths in the "
                "policies are not checked against the gate schemas at load"
            )
        return []
    digest = hashlib.sha256()
    for path in sorted(schema_dir.glob("*.json")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    key = (policy_set.revision, digest.hexdigest(), opa_binary)
    if key not in _checked:
        _checked[key] = tuple(type_problems(policy_set, schema_dir, opa_binary, only_schema=True))
    return list(_checked[key])


def input_annotation_problems(modules: Mapping[str, str]) -> list[Problem]:
    """METADATA `schemas` entries that type input: each would replace the gate's input schema
    for its rules (`- input: {}` switches the check off), so a policy may not have one."""
    problems = []
    for rel, source in sorted(modules.items()):
        if rel.endswith("_test.rego"):
            continue
        if not _SCHEMAS_KEY.search(source):
            continue
        lines = source.splitlines()
        for number, line in enumerate(lines, start=1):
            if line.strip() != "# METADATA":
                continue
            block = []
            for text in lines[number:]:
                if not text.lstrip().startswith("#"):
                    break
                body = text.lstrip()[1:]
                block.append(body[1:] if body.startswith(" ") else body)
            try:
                meta = yaml.safe_load("\n".join(block))
            except yaml.YAMLError:
                continue  # the METADATA check reports it
            entries = meta.get("schemas") if isinstance(meta, dict) else None
            if isinstance(entries, list) and any(
                isinstance(e, dict) and any(str(k).split(".")[0] == "input" for k in e)
                for e in entries
            ):
                problems.append(
                    Problem(
                        rel,
                        number,
                        "METADATA `schemas` types input here, in place of the gate's input "
                        "schema that mlgate check and the load check it against; remove it",
                    )
                )
    return problems


def _write(path: Path, text: str) -> None:
    private_directory(path.parent)
    path.write_text(text, encoding="utf-8")


def _scope_module(package: str, schema: str) -> str:
    return (
        f"# METADATA\n# scope: subpackages\n# schemas:\n#   - input: schema.{schema}\n"
        f"package {package}\n"
    )


def _problems(
    output: str, root: Path, modules: Mapping[str, str], schemas: InputSchemas
) -> list[tuple[str, Problem]]:
    """(what found it, the problem) of each error in `opa check --format json` output: the
    schema (_SCHEMA), or the parser and compiler that need none (_OTHER)."""
    try:
        errors = json.loads(output)["errors"]
    except (ValueError, KeyError, TypeError):
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        return [(_SCHEMA, Problem("", 0, f"{_NAME}: {line}")) for line in lines or ["failed"]]
    found = []
    for error in errors:
        location = error.get("location") or {}
        file = Path(str(location.get("file", "")))
        message = f"{error.get('code', '')}: {error.get('message', '')}"
        if file.is_relative_to(root / _POLICIES):
            rel = file.relative_to(root / _POLICIES).as_posix()
            explained = _explain(error, schemas.name_for(_package(modules.get(rel, ""))))
            line = int(location.get("row", 0))
            kind = _OTHER if explained is None else _SCHEMA
            found.append((kind, Problem(rel, line, explained or message)))
        elif file.is_relative_to(root / _SCOPES):
            scope = (
                f"{message}: mlgate check types input with its own `scope: subpackages` "
                f"schema annotation on {file.stem}; a policy may not declare another"
            )
            found.append((_SCHEMA, Problem("", 0, scope)))
        else:
            found.append((_OTHER, Problem("", 0, f"{_NAME}: {message}")))
    return found


def _explain(error: Mapping[str, Any], schema: str) -> str | None:
    """For a reference to input the schema does not define, where it leaves the schema."""
    message = str(error.get("message", ""))
    details = error.get("details") or {}
    ref = details.get("ref") if isinstance(details, dict) else None
    if not message.startswith("undefined ref: input") or not isinstance(ref, list):
        return None
    pos = int(details.get("pos", len(ref)))
    parent = ".".join(["input", *(str(term.get("value")) for term in ref[1:pos])])
    key = ref[pos].get("value") if pos < len(ref) else "?"
    known = details.get("oneOf") or []
    has = f" ({parent} has {', '.join(map(str, known))})" if known else ""
    return (
        f"{message[len('undefined ref: ') :]}: {schema}.schema.json defines no {key!s} in "
        f"{parent}{has}; a rule reading a path the input never has would never fire"
    )


def _package(source: str) -> str:
    for line in source.splitlines():
        if line.startswith("package "):
            return line.removeprefix("package ").strip()
    return ""
