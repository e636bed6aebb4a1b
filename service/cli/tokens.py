"""`mlgate tokens add|list|revoke|rotate`: HTTP bearer tokens; only their hashes are kept."""

from __future__ import annotations

import argparse
from typing import Any

from service.settings import get_settings

# service/api/auth.py's ROLES, written out: importing the web app would slow every command.
ROLE_CHOICES = ("gate", "approver", "reporter", "auditor", "admin")


def register(commands: Any) -> None:
    parser = commands.add_parser("tokens", help="issue and list HTTP bearer tokens")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add", help="create a token; it is printed once and only its SHA-256 is stored"
    )
    add.add_argument("id", help="who holds the token; recorded as the caller of its decisions")
    add.add_argument("role", choices=ROLE_CHOICES)
    add.add_argument(
        "--approves-as",
        action="append",
        default=[],
        metavar="ROLE",
        help="for approvers: a business role they may sign as (repeatable), "
        "e.g. model-risk-officer; one the policies never ask a sign-off of is refused",
    )
    add.set_defaults(func=run_add)
    listing = actions.add_parser("list", help="list token holders and roles (never the tokens)")
    listing.set_defaults(func=run_list)
    revoke = actions.add_parser(
        "revoke", help="remove a holder's tokens; a running service refuses them at once"
    )
    revoke.add_argument("id", help="the token holder")
    revoke.add_argument("--role", choices=ROLE_CHOICES, help="only this role's token")
    revoke.set_defaults(func=run_revoke)
    rotate = actions.add_parser(
        "rotate", help="replace a holder's token of one role; the old one stops working"
    )
    rotate.add_argument("id", help="the token holder")
    rotate.add_argument("role", choices=ROLE_CHOICES)
    rotate.set_defaults(func=run_rotate)


def run_add(args: argparse.Namespace) -> int:
    from service.api.auth import add_token
    from service.errors import UsageError

    if args.approves_as and args.role != "approver":
        raise UsageError("--approves-as is for approver tokens only")
    if args.approves_as:
        _check_roles_asked(args.approves_as)
    path = get_settings().resolved_tokens_file
    token = add_token(path, args.id, args.role, tuple(args.approves_as))
    print(token)
    print(f"added a {args.role} token for {args.id} to {path}; it is not shown again")
    return 0


def _check_roles_asked(roles: list[str]) -> None:
    """Refuse (exit 2) a role no sign-off could count as under the policy set in force (the
    settings' policy directory, or the OPA server's): the token's sign-offs would never count,
    and nobody would notice until a promotion is held."""
    from service.compose import local_engine
    from service.signoffs.rules import all_signoff_roles, check_roles_asked

    engine = local_engine(get_settings())
    try:
        asked = all_signoff_roles(engine)
    finally:
        engine.close()
    check_roles_asked(asked, roles, field="--approves-as")


def run_list(args: argparse.Namespace) -> int:
    from service.api.auth import read_tokens

    path = get_settings().resolved_tokens_file
    entries = read_tokens(path)
    if not entries:
        print(f"no tokens in {path}")
        return 0
    width = max(len(e.id) for e in entries)
    print(f"{'id':<{width}}  {'role':<8}  approves as")
    for e in entries:
        print(f"{e.id:<{width}}  {e.role:<8}  {', '.join(e.approves_as) or '-'}")
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    from service.api.auth import revoke_tokens

    path = get_settings().resolved_tokens_file
    for entry in revoke_tokens(path, args.id, args.role):
        print(f"revoked the {entry.role} token of {entry.id} in {path}")
    return 0


def run_rotate(args: argparse.Namespace) -> int:
    from service.api.auth import rotate_token

    path = get_settings().resolved_tokens_file
    token = rotate_token(path, args.id, args.role)
    print(token)
    print(f"replaced the {args.role} token of {args.id} in {path}; the old one no longer works")
    return 0
