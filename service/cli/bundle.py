"""`mlgate bundle build` and `mlgate policies push`: the policies onto an OPA server (and
`mlgate policies show`, service/cli/revisions.py: a kept revision's files)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from service.cli.arguments import existing_directory
from service.cli.revisions import add_show
from service.errors import UsageError
from service.settings import get_settings

DEFAULT_BUNDLE = Path("bundle.tar.gz")


def register(commands: Any) -> None:
    bundle = commands.add_parser("bundle", help="OPA bundles of the policies")
    bundle_commands = bundle.add_subparsers(dest="bundle_command", required=True)
    build = bundle_commands.add_parser(
        "build",
        help="write an OPA bundle (.tar.gz) of the policy directory",
        description="Write a bundle `opa run --server --bundle FILE` loads: .manifest (policy "
        "revision, roots), the Rego without tests, the data files at their data paths.",
    )
    build.add_argument(
        "dir", nargs="?", type=existing_directory, help="policy directory (default: policies/)"
    )
    build.add_argument("--output", "-o", type=Path, default=DEFAULT_BUNDLE, metavar="FILE")
    build.set_defaults(func=build_bundle)

    policies = commands.add_parser(
        "policies", help="the policies on an OPA server, and the revisions the ledger keeps"
    )
    policy_commands = policies.add_subparsers(dest="policies_command", required=True)
    push_parser = policy_commands.add_parser(
        "push",
        help="upload policies and data to the OPA server MLGATE_OPA_URL names",
        description="Through OPA's Policy and Data APIs, for servers that load no bundle. The "
        "revision document (data.mlgate_policy.revision) is written last.",
    )
    push_parser.add_argument(
        "dir", nargs="?", type=existing_directory, help="policy directory (default: policies/)"
    )
    push_parser.set_defaults(func=push)
    add_show(policy_commands)


def build_bundle(args: argparse.Namespace) -> int:
    from service.engine.bundle import bundle_roots, write_bundle
    from service.engine.policyset import load_policy_set

    policy_set = load_policy_set(args.dir or get_settings().policy_dir)
    output = write_bundle(policy_set, args.output)
    roots = ", ".join(bundle_roots(policy_set))
    print(f"{output}  revision {policy_set.revision}  roots {roots}")
    return 0


def push(args: argparse.Namespace) -> int:
    from service.engine.factory import server_options
    from service.engine.policyset import load_policy_set
    from service.engine.push import push_policies
    from service.engine.server import ServerEngine, new_client

    settings = get_settings()
    options = server_options(settings)
    if options is None:
        raise UsageError("MLGATE_OPA_URL names no OPA server to push to")
    policy_set = load_policy_set(args.dir or settings.policy_dir)
    client = new_client(options)
    try:
        report = push_policies(client, policy_set)
    finally:
        client.close_connection()
    for policy_id in report.removed:
        print(f"removed  {policy_id}")
    for policy_id in report.policies:
        print(f"policy   {policy_id}")
    for path in report.data_paths:
        print(f"data     {path}")
    engine = ServerEngine(policy_set, options)
    try:
        engine.check()
    finally:
        engine.close()
    print(f"{options.url} serves revision {report.revision}", file=sys.stderr)
    return 0
