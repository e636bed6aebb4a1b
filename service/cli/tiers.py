"""`mlgate tier set` and `mlgate tier show`: a model's risk tier, changed by a person's signed
judgement in local mode (signed into the local ledger like `mlgate approve`), and shown with
what it rests on.

The same checks as POST /v1/tiers (service/signoffs/tiers.py), except that local mode trusts
its operator with the role they name.
"""

from __future__ import annotations

import argparse
import getpass
import json
from typing import Any

from service.cli.arguments import model_name
from service.cli.recorded import print_recorded
from service.errors import UsageError
from service.settings import get_settings

# What a refusal's field is called on the command line.
_OPTION = {"tier": "--tier", "role": "--as", "reason": "--reason", "model": "--model"}


def register(commands: Any) -> None:
    tier = commands.add_parser(
        "tier",
        help="a model's risk tier: change it (a signed ledger record) or show it",
        description="The risk tier picks the promotion thresholds. A decision on a valid model "
        "card records the tier it was judged under, and no later card may lower it "
        "(RISK_TIER_LOWERED); a person changes it, in either direction, with `tier set`.",
    )
    actions = tier.add_subparsers(dest="action", required=True, metavar="ACTION")
    change = actions.add_parser(
        "set",
        help="change a model's risk tier, up or down, as a signed ledger record",
        description="Record a tier change in the local ledger: later decisions on the model are "
        "judged under TIER, and a card may raise it but not lower it. Given in a role "
        "tier_changes.allowed_roles of the promotion data lists (--as; default: the one role "
        "it lists). Whoever asked for a decision on the model may not change its tier. The "
        "person is MLGATE_CALLER_ID, or the user name. When the tier of record rests on this "
        "very change already (a retry), nothing is recorded: the change kept is printed, a "
        "line on stderr says so, and the exit status is 0.",
    )
    change.add_argument("--model", type=model_name, required=True, metavar="NAME")
    change.add_argument("--tier", required=True, metavar="TIER", help="low, medium or high")
    change.add_argument("--reason", required=True, metavar="TEXT", help="why, in words")
    change.add_argument("--as", dest="role", metavar="ROLE", help="the role you change it as")
    change.set_defaults(func=run_set)

    show = actions.add_parser(
        "show",
        help="a model's tier of record and what it rests on",
        description="The tier later decisions on the model are judged under at least: the "
        "newest decision on a valid card, or the newest tier change after it.",
    )
    show.add_argument("--model", type=model_name, required=True, metavar="NAME")
    show.add_argument("--format", choices=["text", "json"], default="text")
    show.set_defaults(func=run_show)


def run_set(args: argparse.Namespace) -> int:
    from service.audit.ledger import open_ledger
    from service.engine.policyset import load_policy_set
    from service.evidence.risk_tier import recorded_risk_tier
    from service.signoffs.tiers import (
        TierBook,
        TierChangeRefused,
        check_tier_change,
        tier_change_roles,
    )

    settings = get_settings()
    config = load_policy_set(settings.policy_dir).config
    role = args.role or _only_role(tier_change_roles(config))
    try:
        # Local mode trusts its operator with the role they name.
        check_tier_change(config, tier=args.tier, role=role, held_roles={role})
        with open_ledger(settings) as ledger:
            change = TierBook(ledger).change(
                model=args.model,
                tier=args.tier,
                role=role,
                changed_by=settings.caller_id or getpass.getuser(),
                reason=args.reason,
                previous=lambda: recorded_risk_tier(ledger, args.model),
            )
    except TierChangeRefused as exc:
        raise UsageError(f"{_OPTION[exc.field]}: {exc.message.partition(': ')[2]}") from None
    print_recorded(change, changed_already)
    return 0


def changed_already(change: dict[str, Any]) -> str:
    """What a repeated `mlgate tier set` says of the tier change in force it found."""
    return (
        f"{change['model']}'s tier of record is {change['tier']} by this very change already: "
        f"tier change {change['id']}, by {change['changed_by']} as {change['role']} at "
        f"{change['changed_at']} (record {change['record']})"
    )


def _only_role(allowed: set[str]) -> str:
    """The role a tier change is given in when --as is left out: the only one allowed."""
    if len(allowed) == 1:
        return next(iter(allowed))
    raise UsageError(
        f"--as: give the role you change the tier as: one of {', '.join(sorted(allowed))} "
        "(tier_changes.allowed_roles in the promotion data)"
        if allowed
        else "--as: no role may change a risk tier: tier_changes.allowed_roles in the "
        "promotion data names none"
    )


def run_show(args: argparse.Namespace) -> int:
    from service.audit.ledger import open_ledger
    from service.evidence.risk_tier import recorded_risk_tier

    with open_ledger(get_settings(), create=False) as ledger:
        found = recorded_risk_tier(ledger, args.model)
    if args.format == "json":
        print(json.dumps({"model": args.model, "recorded_risk_tier": found}, indent=2))
    elif found is None:
        print(f"{args.model}: no tier of record; the next decision on a valid model card sets it")
    else:
        print(f"{args.model}: {found['tier']} ({tier_basis(found)})")
    return 0


def tier_basis(found: dict[str, Any]) -> str:
    """What a tier of record rests on, in words."""
    if "tier_change_id" in found:
        return (
            f"set by tier change {found['tier_change_id']}, {found['changed_by']} as "
            f"{found['role']} at {found['changed_at']}"
        )
    return f"judged on a valid model card by decision {found['decision_id']} on v{found['version']}"
