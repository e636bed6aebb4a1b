"""`mlgate rollback`: a person asks the rollback gate to roll a stage back, with a reason."""

from __future__ import annotations

import argparse
from typing import Any

from service.cli.arguments import model_name
from service.decision.model import STAGES
from service.decision.request import GateRequest
from service.errors import UsageError
from service.evidence.base import EVIDENCE_FILE
from service.settings import get_settings


def register(commands: Any) -> None:
    from service.cli.decide import add_output_options

    parser = commands.add_parser(
        "rollback",
        help="roll a stage back to the last version known to be good",
        description="Ask the rollback gate to roll the stage's alias back: to the newest "
        "version the gate itself installed behind it that was not rolled back since, whose "
        "artifacts still hash to what was allowed and that is still in the registry; or to "
        "--to VERSION if that one qualifies (a deny says why otherwise). Never waits for an "
        "approval. With --enact the alias moves back (compare-and-set, a ledger record of "
        "kind alias_move with move roll-back). Exit codes: 3 rollback, 1 deny, 2 usage error.",
    )
    parser.add_argument("--model", type=model_name, required=True, metavar="NAME")
    parser.add_argument(
        "--version",
        metavar="V",
        help="the version being rolled back (default: the one the gate last installed)",
    )
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument("--to", dest="to_version", metavar="VERSION", help="the target asked")
    parser.add_argument("--reason", required=True, metavar="TEXT", help="why, in words")
    parser.add_argument("--enact", action="store_true", help="move the alias back")
    add_output_options(parser)
    parser.add_argument("--url", help="ask a remote mlgate service instead of the local engine")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from service.cli.decide import answer

    if args.url is not None and not args.url.strip():
        raise UsageError("--url is empty: give the service's URL, or leave --url out")
    url = args.url or get_settings().url
    if url and args.version is None:
        raise UsageError("with --url, name the version being rolled back (--version)")
    model = {"name": args.model}
    if args.version is not None:
        model["version"] = args.version
    request = GateRequest(
        gate="rollback",
        caller={},
        evidence={},
        source=EVIDENCE_FILE,
        target={"stage": args.stage},
        model=model,
        trusted=True,
        enact=args.enact,
        trigger={
            "kind": "manual",
            "reason": args.reason,
            "decision_id": None,
            "requested_version": args.to_version,
        },
    )
    return answer(request, url, args)
