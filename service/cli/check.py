"""`mlgate check [DIR]`: the static checks of a policy set, run before committing it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from service.engine.policycheck import CheckReport, check_policy_dir, default_opa_binary
from service.gates.registry import default_gates
from service.settings import get_settings


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "check",
        help="static checks of a policy set (compile, thresholds schemas, METADATA, codes)",
        description="Load and compile DIR with the real OPA engine; check each thresholds file "
        "against its schema, that every rule adding to deny/hold/warn/rollback has METADATA "
        "custom.code and severity, that codes are unique, and that each gate has its "
        "entrypoint. With OPA's command-line tool (--opa, or `opa` on PATH) also "
        "`opa check --strict` and `opa fmt --fail`. Exit 1 on any problem.",
    )
    parser.add_argument("dir", nargs="?", type=Path, help="policy directory (default: policies/)")
    parser.add_argument("--opa", metavar="PATH", help="OPA's command-line tool (default: on PATH)")
    parser.add_argument("--no-opa", action="store_true", help="skip the OPA tool even if found")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    root: Path = args.dir or settings.policy_dir
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
    tool = f"opa tool {report.opa_binary}" if report.opa_binary else "no opa tool (skipped)"
    summary = (f"{len(report.problems)} problem(s)" if report.problems else "ok") + (
        f": {report.modules} modules, {report.data_files} data files, "
        f"{report.reason_rules} reason rules checked; {tool}"
    )
    return "\n".join([*lines, summary])


def _as_json(root: Path, report: CheckReport) -> dict[str, Any]:
    return {
        "ok": not report.problems,
        "problems": [
            {
                "file": str(root / p.file) if p.file else None,
                "line": p.line or None,
                "message": p.message,
            }
            for p in report.problems
        ],
        "modules": report.modules,
        "data_files": report.data_files,
        "reason_rules": report.reason_rules,
        "opa_binary": report.opa_binary,
    }
