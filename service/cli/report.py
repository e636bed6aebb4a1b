"""`mlgate report FILE`: a decision kept by `mlgate decide --output FILE`, printed again in any
format, without asking for a new decision (asking again would record a second one)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from service.cli.decide import point_to_explain
from service.cli.render import FORMATS, REPORT_FORMATS, render
from service.decision.model import DecisionAnswer
from service.errors import UsageError
from service.review.catalogue import ReportCatalogue, local_catalogue
from service.settings import get_settings


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "report",
        help="print a kept decision (decide --output FILE) in another format",
        description="Print the decision that `mlgate decide --output FILE` (or `rollback "
        "--output`) kept, in any format, with the decision it triggered. It asks for no "
        "decision, records nothing and checks no signature: it renders the file. Exit code 0 "
        "whatever the outcome (the outcome's exit code is decide's); 2 when FILE is not such "
        "a decision.",
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="the JSON decision ('-': stdin)")
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument(
        "--url",
        help="junit and sarif describe the rules with a rule catalogue: the one this service "
        "serves (default MLGATE_URL; GET /v1/policies, any role's token); without either, the "
        "local policy directory's. A catalogue of another policy revision than the decision's "
        "is said so in the report.",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    decision = read_decision(args.file)
    reporting = args.format in REPORT_FORMATS
    print(render(decision, args.format, _catalogue(args.url) if reporting else None))
    final = decision
    while final.triggered is not None:  # JSON and the reports include it already
        final = final.triggered
        if args.format != "json" and not reporting:
            print(render(final, args.format))
    if args.format == "text":  # as decide printed it; the other formats keep stdout theirs
        point_to_explain(final, "text")
    return 0


def _catalogue(url: str | None) -> ReportCatalogue:
    settings = get_settings()
    url = url or settings.url
    if url:
        from service.cli.remote import request_catalogue

        return request_catalogue(url, settings.token)
    from service.engine.policyset import load_policy_set

    return local_catalogue(load_policy_set(settings.policy_dir))


def read_decision(path: Path) -> DecisionAnswer:
    """The decision in `path` (stdin for '-'), as `decide --output` wrote it. UsageError naming
    the file and what is wrong when it cannot be read, is not JSON or is not a decision."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot be read ({_why(exc)})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); expected "
            "the decision `mlgate decide --output FILE` writes"
        ) from None
    try:
        return DecisionAnswer.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "the document"
        raise UsageError(
            f"{path}: not a decision as `mlgate decide --output FILE` writes it: {where}: "
            f"{first['msg']} ({exc.error_count()} problem(s))"
        ) from None


def _why(exc: OSError | UnicodeDecodeError) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return f"not UTF-8 text: {exc.reason} at byte {exc.start}"
