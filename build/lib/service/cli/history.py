"""`mlgate history --model NAME [--alias A]`: every alias move the gate made, newest first."""

from __future__ import annotations

import argparse
import json
from typing import Any

from service.cli.arguments import model_name
from service.settings import get_settings


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "history",
        help="the alias moves the gate made for a model (MLflow keeps no alias history)",
        description="Every alias move recorded in the ledger for the model, newest first: "
        "which alias, from which version to which, the decision it rests on, who asked.",
    )
    parser.add_argument("--model", type=model_name, required=True, metavar="NAME")
    parser.add_argument("--alias", metavar="A", help="only this alias")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from service.audit.kinds import MOVE_BACK
    from service.audit.ledger import open_ledger
    from service.enact.history import alias_history

    with open_ledger(get_settings(), create=False) as ledger:
        moves = alias_history(ledger, args.model, args.alias)
    if args.format == "json":
        print(json.dumps(moves, indent=2))
        return 0
    if not moves:
        print(f"no alias moves recorded for {args.model}")
        return 0
    for move in moves:
        state = "moved" if move["moved"] else f"NOT MOVED ({move.get('error')})"
        if move.get("move") == MOVE_BACK:
            state = f"rollback of v{move.get('rolled_back_version')}, {state}"
        print(
            f"{move['moved_at']}  {move['alias']:<10} {_from(move)} -> "
            f"v{move['to_version']}  {state}  decision {move['decision_id']}  "
            f"by {move['requested_by']}  seq {move['record']}"
        )
    return 0


def _from(move: dict[str, Any]) -> str:
    return f"v{move['from_version']}" if move.get("from_version") else "(unset)"
