"""`mlgate approve` and `mlgate waive`: sign-off in local mode, signed into the local ledger.

The same checks as POST /v1/approvals and /v1/waivers (service/signoffs/rules.py, the
policy's answer to who may sign off, service/gates/signoffs.py, and the sign-off book), except
that local mode trusts its operator with the role they name.
"""

from __future__ import annotations

import argparse
import getpass
import re
from datetime import UTC, datetime
from typing import Any

from service.cli.arguments import model_name
from service.cli.recorded import print_recorded
from service.errors import NotFound, UsageError
from service.settings import get_settings

DIGEST_HELP = "the artifact digest (sha256:<64 hex>) it is given for; it counts only for it"


def register(commands: Any) -> None:
    approve = commands.add_parser(
        "approve",
        help="approve (or reject) a model version, as a signed ledger record",
        description="Record an approval in the local ledger. Refused: a role whose approval "
        "could never count for the model (the policy's approver_roles of the tier it was last "
        "judged under; the message names the roles that could). Whoever asked for a decision "
        "on the version may not approve it, and an approval never counts on its approver's "
        "own request. The approver is MLGATE_CALLER_ID, or the user name. When the approver's "
        "latest word in the role is this one already (a retry), nothing is recorded: the "
        "approval kept is printed, a line on stderr says so, and the exit status is 0.",
    )
    _identify(approve)
    approve.add_argument("--as", dest="role", required=True, metavar="ROLE")
    approve.add_argument("--reject", action="store_true", help="record a rejection instead")
    approve.add_argument("--comment", required=True, metavar="TEXT")
    approve.set_defaults(func=run_approve)

    waive = commands.add_parser(
        "waive",
        help="waive one rule for a model version until a date, or withdraw a waiver",
        description="Record a time-boxed waiver in the local ledger, or withdraw one "
        "(--withdraw ID). Refused: an unknown code, one that is no promotion denial, or a "
        "non-waivable one, a role that could never "
        "waive it for the model (waivers.roles of the code, else the approver_roles of the "
        "tier it was last judged under; the message names the roles that could), an expiry "
        "in the past or beyond waivers.max_days (default 90). A repeat records nothing and "
        "exits 0, printing the record kept and saying so on stderr: the same waiver while it "
        "is in force, or a withdrawal of a waiver withdrawn already (who withdrew it, when, "
        "and the withdrawal's id and record).",
    )
    waive.add_argument("--withdraw", metavar="ID", help="withdraw the waiver with this id")
    waive.add_argument("--model", type=model_name, metavar="NAME")
    waive.add_argument("--version", metavar="V")
    waive.add_argument("--digest", metavar="DIGEST", help=DIGEST_HELP)
    waive.add_argument("--code", metavar="CODE", help="the rule code to waive")
    waive.add_argument("--as", dest="role", metavar="ROLE", help="the role you waive as")
    waive.add_argument("--reason", metavar="TEXT", required=True)
    waive.add_argument("--expires", metavar="DATE", help="RFC 3339, e.g. 2026-12-31T00:00:00Z")
    waive.set_defaults(func=run_waive)


def _identify(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=model_name, required=True, metavar="NAME")
    parser.add_argument("--version", required=True, metavar="V")
    parser.add_argument("--digest", required=True, metavar="DIGEST", help=DIGEST_HELP)


def _me() -> str:
    return get_settings().caller_id or getpass.getuser()


def _book() -> Any:
    from service.audit.ledger import open_ledger
    from service.signoffs.book import SignoffBook

    return SignoffBook(open_ledger(get_settings()))


def _check_recorded(missing: str) -> None:
    """NotFound, saying `missing`, when no ledger exists yet: nothing it could name is recorded,
    and opening it to record would create it and a signing key."""
    from service.audit.ledger import open_ledger

    try:
        open_ledger(get_settings(), create=False).close()
    except NotFound as exc:
        raise NotFound(f"{missing}: {exc.message}") from None


def _check_digest(digest: str) -> None:
    from service.signoffs.rules import ARTIFACT_DIGEST

    if not re.fullmatch(ARTIFACT_DIGEST, digest):
        raise UsageError(f"--digest must be sha256: and 64 lower-case hex digits; found {digest!r}")


def _roles_that_count(args: argparse.Namespace, rule_code: str | None = None) -> Any:
    """The policy's answer to who may sign off this version (service/gates/signoffs.py), read
    before anything is recorded: where no ledger exists yet no decision has judged the model,
    and none is created (nor a signing key) to learn that, so a refused sign-off leaves
    nothing behind."""
    from service.audit.ledger import open_ledger
    from service.compose import local_engine
    from service.gates.signoffs import roles_that_count
    from service.signoffs.rules import signoff_roles

    settings = get_settings()
    engine = local_engine(settings)
    try:
        try:
            ledger = open_ledger(settings, create=False)
        except NotFound:
            return signoff_roles(
                engine, model=args.model, version=args.version, tier=None, rule_code=rule_code
            )
        with ledger:
            return roles_that_count(
                engine,
                ledger,
                model=args.model,
                version=args.version,
                artifact_digest=args.digest,
                rule_code=rule_code,
            )
    finally:
        engine.close()


def run_approve(args: argparse.Namespace) -> int:
    from service.signoffs.rules import check_approval_role

    _check_digest(args.digest)
    check_approval_role(_roles_that_count(args), args.role)
    book = _book()
    try:
        approval = book.approve(
            model=args.model,
            version=args.version,
            artifact_digest=args.digest,
            approver=_me(),
            role=args.role,
            status="rejected" if args.reject else "approved",
            comment=args.comment,
        )
    finally:
        book.ledger.close()
    print_recorded(approval, approved_already)
    return 0


def approved_already(approval: dict[str, Any]) -> str:
    """What a repeated `mlgate approve` says of the approval it found."""
    return (
        f"{approval['approver']}'s latest word as {approval['role']} on {approval['model']} "
        f"v{approval['version']} is this one already: approval {approval['id']} "
        f"({approval['status']}), given at {approval['decided_at']} (record {approval['record']})"
    )


def withdrawn_already(withdrawal: dict[str, Any]) -> str:
    """What a repeated `mlgate waive --withdraw` says of the first withdrawal."""
    return (
        f"waiver {withdrawal['waiver_id']} was already withdrawn by {withdrawal['withdrawn_by']} "
        f"at {withdrawal['withdrawn_at']}: withdrawal {withdrawal['id']} "
        f"(record {withdrawal['record']})"
    )


def waived_already(waiver: dict[str, Any]) -> str:
    """What a repeated `mlgate waive` says of the waiver in force it found."""
    return (
        f"the same waiver is in force already: waiver {waiver['id']} of {waiver['rule_code']} "
        f"on {waiver['model']} v{waiver['version']}, given by {waiver['approved_by']} as "
        f"{waiver['role']} at {waiver['created_at']} (record {waiver['record']})"
    )


def run_waive(args: argparse.Namespace) -> int:
    if args.withdraw:
        _check_recorded(f"no waiver {args.withdraw!r}")
        book = _book()
        try:
            withdrawal = book.withdraw(args.withdraw, _me(), args.reason)
        finally:
            book.ledger.close()
        print_recorded(withdrawal, withdrawn_already)
        return 0
    missing = [
        f"--{name}"
        for name in ("model", "version", "digest", "code", "as", "expires")
        if getattr(args, "role" if name == "as" else name) is None
    ]
    if missing:
        raise UsageError(f"waive needs {', '.join(missing)} (or --withdraw ID)")
    _check_digest(args.digest)
    try:
        expires_at = datetime.fromisoformat(args.expires)
    except ValueError:
        raise UsageError(
            f"--expires must be an RFC 3339 time such as 2026-12-31T00:00:00Z; found "
            f"{args.expires!r}"
        ) from None
    if expires_at.tzinfo is None:
        raise UsageError(f"--expires needs a time zone (Z or +HH:MM); found {args.expires!r}")
    from service.engine.catalogue import rule_catalogue
    from service.engine.policyset import load_policy_set
    from service.signoffs.rules import check_waiver

    policy_set = load_policy_set(get_settings().policy_dir)
    check_waiver(
        policy_set.config,
        rules=rule_catalogue(policy_set),
        rule_code=args.code,
        role=args.role,
        held_roles={args.role},  # local mode trusts its operator with the role they name
        may_sign=_roles_that_count(args, args.code),
        expires_at=expires_at,
    )
    book = _book()
    try:
        waiver = book.waive(
            model=args.model,
            version=args.version,
            artifact_digest=args.digest,
            rule_code=args.code,
            approved_by=_me(),
            role=args.role,
            reason=args.reason,
            # In UTC: Python reads offsets RFC 3339 does not allow (+05:30:15), which the
            # policy could not parse, and every decision on the version would then deny.
            expires_at=expires_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        )
    finally:
        book.ledger.close()
    print_recorded(waiver, waived_already)
    return 0
