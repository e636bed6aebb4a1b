"""`mlgate history --model NAME [--alias A]`: every alias move the gate made and every change of
the model's risk tier, newest first."""

from __future__ import annotations

import argparse
import json
from typing import Any

from service.cli.arguments import model_name
from service.settings import get_settings


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "history",
        help="the alias moves the gate made for a model (MLflow keeps no alias history) and "
        "its risk tier changes",
        description="Every alias move recorded in the ledger for the model, newest first: "
        "which alias, from which version to which, the decision it rests on, who asked; and "
        "every change of its risk tier (mlgate tier set): who, as what, from which tier, why. "
        "--alias filters only the moves. --format json prints what GET "
        "/v1/models/{name}/history answers: {model, moves, tier_changes}.",
    )
    parser.add_argument("--model", type=model_name, required=True, metavar="NAME")
    parser.add_argument("--alias", metavar="A", help="only this alias")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from service.audit.ledger import open_ledger
    from service.enact.history import alias_history
    from service.signoffs.tiers import TierBook

    with open_ledger(get_settings(), create=False) as ledger:
        moves = alias_history(ledger, args.model, args.alias)
        changes = TierBook(ledger).changes(args.model)
    if args.format == "json":
        print(json.dumps({"model": args.model, "moves": moves, "tier_changes": changes}, indent=2))
        return 0
    if not moves and not changes:
        print(f"no alias moves or tier changes recorded for {args.model}")
        return 0
    lines = [(move["record"], _move_line(move)) for move in moves]
    lines += [(change["record"], _change_line(change)) for change in changes]
    for _, line in sorted(lines, reverse=True):
        print(line)
    return 0


def _move_line(move: dict[str, Any]) -> str:
    from service.audit.kinds import MOVE_BACK

    state = "moved" if move["moved"] else f"NOT MOVED ({move.get('error')})"
    if move.get("move") == MOVE_BACK:
        state = f"rollback of v{move.get('rolled_back_version')}, {state}"
    return (
        f"{move['moved_at']}  {move['alias']:<10} {_from(move)} -> "
        f"v{move['to_version']}  {state}  decision {move['decision_id']}  "
        f"by {move['requested_by']}  seq {move['record']}"
    )


def _change_line(change: dict[str, Any]) -> str:
    return (
        f"{change['changed_at']}  {'risk tier':<10} {change.get('from_tier') or '(none)'} -> "
        f"{change['tier']}  by {change['changed_by']} as {change['role']}  "
        f"tier change {change['id']}  seq {change['record']}  reason: {change['reason']}"
    )


def _from(move: dict[str, Any]) -> str:
    return f"v{move['from_version']}" if move.get("from_version") else "(unset)"
