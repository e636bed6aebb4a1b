"""`mlgate decide GATE`: one decision from evidence files, with the gate's exit code."""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import sys
from pathlib import Path
from typing import Any

from service.cli.arguments import existing_directory, model_name
from service.cli.exitcodes import (
    ENGINE_DENIAL_CODE,
    EXIT_CODES,
    EXIT_ENGINE_UNAVAILABLE,
    EXIT_WARNED,
)
from service.cli.explain import explain_command
from service.cli.render import FORMATS, REPORT_FORMATS, render
from service.decision.model import STAGES, DecisionAnswer
from service.decision.request import GateRequest
from service.engine.policyset import PolicySet
from service.errors import UsageError
from service.evidence.base import EVIDENCE_FILE, RECORDED_ONLY
from service.evidence.files import read_evidence_dir
from service.gates.registry import default_gates
from service.gates.requirements import GATE as EXPLAINED_GATE
from service.gates.requirements import TIERS
from service.review.catalogue import ReportCatalogue, local_catalogue
from service.settings import get_settings


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "decide",
        help="ask a gate for a decision",
        description="Ask a gate for a decision. Exit codes: 0 allow, 1 deny, 2 usage or "
        "input error, 3 rollback, 4 hold, 5 the audit record could not be written or the "
        "ledger read, 6 the policy engine could not decide (the deny it recorded says why), "
        "7 --url: nothing answered, 8 --url: the token is missing, wrong or lacks the role.",
    )
    parser.add_argument("gate", choices=list(default_gates()))
    parser.add_argument(
        "--evidence",
        type=existing_directory,
        metavar="DIR",
        help="evidence files; with --model/--version they may add what the registry lacks",
    )
    parser.add_argument(
        "--model", type=model_name, metavar="NAME", help="gather evidence from the registry"
    )
    parser.add_argument("--version", metavar="N", help="the model version (with --model)")
    parser.add_argument(
        "--enact",
        action="store_true",
        help="on allow, move the stage's alias in the registry to the version",
    )
    parser.add_argument(
        "--to",
        "--stage",
        dest="stage",
        choices=STAGES,
        help="target stage (promotion: where the version would go; monitoring: where it serves)",
    )
    add_output_options(parser)
    parser.add_argument("--url", help="ask a remote mlgate service instead of the local engine")
    parser.set_defaults(func=run)


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """--format, --output and --fail-on-warn, shared by the commands that print a decision."""
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="junit and sarif: CI reports, each rule of the gate described from the rule "
        "catalogue (the service's GET /v1/policies with --url)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="also write the decision as JSON to FILE: one decision, printed and kept",
    )
    parser.add_argument(
        "--fail-on-warn",
        action="store_true",
        help=f"exit {EXIT_WARNED} on an allow that carries warnings",
    )


def run(args: argparse.Namespace) -> int:
    spec = default_gates().spec(args.gate)
    if spec.needs_target and args.stage is None:
        raise UsageError(f"decide {args.gate} needs --stage STAGE ({', '.join(STAGES)})")
    if not spec.reads_evidence and (args.model is None or args.version is None):
        raise UsageError(
            f"decide {args.gate} needs --model NAME --version N (the deployed version)"
        )
    if (args.model is None) != (args.version is None):
        raise UsageError("--model and --version go together: the registry's model version")
    if not spec.reads_evidence and args.evidence is not None:
        raise UsageError(
            f"the {args.gate} gate reads no evidence files: it judges mlgate's own records"
        )
    if args.evidence is None and args.model is None:
        raise UsageError("decide needs --evidence DIR, or --model NAME --version N")
    if args.enact and args.model is None:
        raise UsageError("--enact moves a registry alias: it needs --model and --version")
    evidence = read_evidence_dir(args.evidence) if args.evidence is not None else {}
    target = {"stage": args.stage} if args.stage else None
    model = {"name": args.model, "version": args.version} if args.model else None
    if args.url is not None and not args.url.strip():
        # `--url "$MLGATE_URL"` with the variable unset must not quietly become local mode,
        # which trusts the evidence directory's own approvals and history.
        raise UsageError(
            "--url is empty: give the service's URL, or leave --url out for local mode"
        )
    url = args.url or get_settings().url
    request = GateRequest(
        gate=args.gate,
        caller={},
        evidence=evidence,
        source=EVIDENCE_FILE,
        target=target,
        model=model,
        trusted=True,  # local mode: the operator holds the signing key
        registry=model is not None and spec.reads_evidence,
        enact=args.enact,
    )
    return answer(request, url, args)


def answer(request: GateRequest, url: str | None, args: argparse.Namespace) -> int:
    """Ask locally or of the service at `url`, print the decision (and the one it triggered)
    in `args.format`, and write it as JSON to `args.output` if given; the exit code of the
    outcome, the triggered decision's when there is one (a monitoring rollback enacted: the
    rollback's), EXIT_ENGINE_UNAVAILABLE for a deny recorded because the policy engine could
    not decide, or EXIT_WARNED for an allow with warnings under `args.fail_on_warn`."""
    # Before either mode: the name a service would refuse is not sent to it either.
    request.refuse_lookalike_name()
    reporting = args.format in REPORT_FORMATS
    catalogue: ReportCatalogue | None = None
    if url:
        # Read before asking: a catalogue the service will not give stops the command before
        # a decision is recorded, not after it.
        catalogue = _remote_catalogue(url) if reporting else None
        decision = _remote(url, request)
    else:
        decision, policy_set = _local(request)
        catalogue = local_catalogue(policy_set) if reporting else None
    print(render(decision, args.format, catalogue))
    final = decision
    while final.triggered is not None:  # JSON and the reports include it already
        final = final.triggered
        if args.format != "json" and not reporting:
            print(render(final, args.format))
    engine_failed = any(r.code == ENGINE_DENIAL_CODE for r in final.reasons)
    if not engine_failed:  # what the gate needs is no help while it cannot decide
        point_to_explain(final, args.format)
    if args.output is not None:
        _write(args.output, render(decision, "json"))
    if engine_failed:
        return EXIT_ENGINE_UNAVAILABLE
    if args.fail_on_warn and final.outcome == "allow" and final.warnings:
        return EXIT_WARNED
    return EXIT_CODES[final.outcome]


def point_to_explain(decision: DecisionAnswer, output_format: str) -> None:
    """After a promotion that did not allow, the command listing what the gate needs: on
    stdout under text, on stderr under the formats a machine reads."""
    stage = (decision.target or {}).get("stage")
    if decision.gate != EXPLAINED_GATE or decision.outcome == "allow" or stage not in STAGES:
        return
    tier = decision.model.risk_tier if decision.model.risk_tier in TIERS else "high"
    line = f"what the gate needs: {explain_command(tier, stage)}"
    print(line, file=sys.stdout if output_format == "text" else sys.stderr)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        # The decision is recorded already: say so, so nobody asks again to get the file.
        raise UsageError(
            f"--output {path}: cannot be written ({exc.strerror or exc}); the decision was "
            "made and recorded, and is printed above"
        ) from None


def _local(request: GateRequest) -> tuple[DecisionAnswer, PolicySet]:
    """The recorded decision, and the policy set that judged it."""
    from service.compose import local_path

    settings = get_settings()
    if request.registry:
        settings.asked_registry_uri()  # UsageError, before anything is created, when none
    caller = {"id": settings.caller_id or getpass.getuser(), "role": "cli"}
    path = local_path(settings)
    return path.decide(dataclasses.replace(request, caller=caller)), path.policy_set


def _remote_catalogue(url: str) -> ReportCatalogue:
    from service.cli.remote import request_catalogue

    return request_catalogue(url, get_settings().token)


def _remote(url: str, request: GateRequest) -> DecisionAnswer:
    from service.cli.remote import request_decision

    held_back = sorted(key for key in RECORDED_ONLY if key in request.evidence)
    if held_back:
        print(
            f"mlgate: not sent to {url}: {', '.join(held_back)} (the service takes sign-offs "
            "only from its sign-off records and history only from its ledger)",
            file=sys.stderr,
        )
    body: dict[str, Any] = {}
    sent = {k: v for k, v in request.evidence.items() if k not in RECORDED_ONLY}
    if sent or request.model is None:
        body["evidence"] = sent
    if request.model is not None:
        body["model"] = dict(request.model)
    if request.target is not None:
        body["target"] = dict(request.target)
    if request.enact:
        body["enact"] = True
    trigger = request.trigger or {}
    if trigger.get("reason"):
        body["reason"] = trigger["reason"]
    if trigger.get("requested_version"):
        body["to_version"] = trigger["requested_version"]
    return request_decision(url, get_settings().token, request.gate, body)
