"""`mlgate decide GATE`: one decision from evidence files, with the gate's exit code."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from service.cli.render import FORMATS, render
from service.decision import Decision
from service.errors import UsageError
from service.evidence.base import EVIDENCE_FILE, RECORDED_ONLY
from service.evidence.files import read_evidence_dir
from service.gates import EXIT_CODES, GATES
from service.pipeline import GateRequest
from service.settings import get_settings

STAGES = ("staging", "canary", "production")


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "decide",
        help="ask a gate for a decision",
        description="Ask a gate for a decision. Exit codes: 0 allow, 1 deny, 2 usage or "
        "input error, 3 rollback, 4 hold.",
    )
    parser.add_argument("gate", choices=GATES)
    parser.add_argument("--evidence", type=Path, required=True, metavar="DIR")
    parser.add_argument("--to", dest="stage", choices=STAGES, help="target stage (promotion)")
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument("--url", help="ask a remote mlgate service instead of the local engine")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.gate == "promotion" and args.stage is None:
        raise UsageError("decide promotion needs --to STAGE (staging, canary or production)")
    evidence = read_evidence_dir(args.evidence)
    target = {"stage": args.stage} if args.stage else None
    if args.url is not None and not args.url.strip():
        # `--url "$MLGATE_URL"` with the variable unset must not quietly become local mode,
        # which trusts the evidence directory's own approvals and history.
        raise UsageError(
            "--url is empty: give the service's URL, or leave --url out for local mode"
        )
    url = args.url or get_settings().url
    decision = (
        _remote(url, args.gate, evidence, target) if url else _local(args.gate, evidence, target)
    )
    print(render(decision, args.format))
    return EXIT_CODES[decision.outcome]


def _local(gate: str, evidence: dict[str, Any], target: dict[str, Any] | None) -> Decision:
    from service.wiring import local_pipeline

    settings = get_settings()
    caller = {"id": settings.caller_id or getpass.getuser(), "role": "cli"}
    request = GateRequest(
        gate=gate,
        caller=caller,
        evidence=evidence,
        source=EVIDENCE_FILE,
        target=target,
        trusted=True,  # local mode: the operator holds the signing key
    )
    return local_pipeline(settings).decide(request)


def _remote(
    url: str, gate: str, evidence: dict[str, Any], target: dict[str, Any] | None
) -> Decision:
    from service.client import request_decision

    held_back = sorted(key for key in RECORDED_ONLY if key in evidence)
    if held_back:
        print(
            f"mlgate: not sent to {url}: {', '.join(held_back)} (the service takes sign-offs "
            "only from its sign-off records and history only from its ledger)",
            file=sys.stderr,
        )
    sent = {key: value for key, value in evidence.items() if key not in RECORDED_ONLY}
    return request_decision(url, get_settings().token, gate, sent, target)
