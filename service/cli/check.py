"""`mlgate check [DIR]`: the static checks of a policy set, run before committing it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from service.cli.arguments import executable, existing_directory
from service.engine.policycheck import CheckReport, check_policy_dir
from service.engine.problems import Problem
from service.engine.typecheck import default_opa_binary
from service.errors import UsageError
from service.gates.registry import default_gates
from service.settings import get_settings

NO_OPA_TOOL = (
    "no opa tool: input paths against the gate schemas, opa check --strict and opa fmt "
    "not checked (--opa PATH)"
)


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "check",
        help="static checks of a policy set (compile, input paths, thresholds, METADATA, codes)",
        description="Load and compile DIR with the real OPA engine; check each thresholds file "
        "against its schema, that every rule adding to deny/hold/warn/rollback has METADATA "
        "custom.code and severity, that codes are unique, that each gate has its "
        "entrypoint and no default could answer allow, and the keys object.get reads from "
        "input. With OPA's command-line tool (--opa, or `opa` on PATH) also "
        "`opa check --strict` with each gate's input schema (a reference to an input path the "
        "schema does not define is an error) and `opa fmt --fail`. Exit 1 on any problem; "
        "warnings do not change it. Exit 2 when DIR or the --opa tool is not there.",
    )
    parser.add_argument(
        "dir", nargs="?", type=existing_directory, help="policy directory (default: policies/)"
    )
    parser.add_argument(
        "--opa", type=executable, metavar="PATH", help="OPA's command-line tool (default: on PATH)"
    )
    parser.add_argument("--no-opa", action="store_true", help="skip the OPA tool even if found")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    root: Path = args.dir or settings.policy_dir
    if not root.is_dir():
        # A folder that is not there is a mistake in the command, not a problem of a policy set.
        raise UsageError(
            f"MLGATE_POLICY_DIR: expected the policy directory; {root} is not a directory"
        )
    opa = None if args.no_opa else (args.opa or default_opa_binary())
    report = check_policy_dir(root, settings.schema_dir, default_gates(), opa)
    if args.format == "json":
        print(json.dumps(_as_json(root, report), indent=2))
    else:
        print(_as_text(root, report))
    return 1 if report.problems else 0


def _located(root: Path, file: str, line: int) -> str:
    if not file:
        return str(root)
    return f"{root / file}:{line}" if line else str(root / file)


def _as_text(root: Path, report: CheckReport) -> str:
    lines = [f"{_located(root, p.file, p.line)}: {p.message}" for p in report.problems]
    lines += [f"{_located(root, w.file, w.line)}: warning: {w.message}" for w in report.warnings]
    tool = f"opa tool {report.opa_binary}" if report.opa_binary else NO_OPA_TOOL
    warned = f", {len(report.warnings)} warning(s)" if report.warnings else ""
    summary = (f"{len(report.problems)} problem(s)" if report.problems else "ok") + (
        f"{warned}: {report.modules} modules, {report.data_files} data files, "
        f"{report.reason_rules} reason rules checked; {tool}"
    )
    return "\n".join([*lines, summary])


def _as_json(root: Path, report: CheckReport) -> dict[str, Any]:
    return {
        "ok": not report.problems,
        "problems": [_found(root, p) for p in report.problems],
        "warnings": [_found(root, w) for w in report.warnings],
        "modules": report.modules,
        "data_files": report.data_files,
        "reason_rules": report.reason_rules,
        "opa_binary": report.opa_binary,
    }


def _found(root: Path, problem: Problem) -> dict[str, Any]:
    return {
        "file": str(root / problem.file) if problem.file else None,
        "line": problem.line or None,
        "message": problem.message,
    }
