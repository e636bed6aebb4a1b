"""Entry point of `mlgate`: parse, dispatch, and map errors to exit codes in one place."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from service.cli.exitcodes import ERROR_EXIT_CODES, EXIT_USAGE
from service.errors import MlgateError


def build_parser() -> argparse.ArgumentParser:
    from service.cli import (
        audit_commands,
        bundle,
        check,
        decide,
        demo,
        explain,
        history,
        regotest,
        replay,
        report,
        rollback,
        serve,
        signoffs,
        snapshots,
        tiers,
        tokens,
    )

    parser = argparse.ArgumentParser(
        prog="mlgate", description="Policy-as-code gates for ML model deployments."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (
        decide,
        report,
        explain,
        rollback,
        history,
        signoffs,
        tiers,
        snapshots,
        check,
        regotest,
        replay,
        audit_commands,
        demo,
        serve,
        tokens,
        bundle,
    ):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except MlgateError as exc:
        print(f"mlgate: error: {exc.message}", file=sys.stderr)
        return ERROR_EXIT_CODES.get(exc.code, EXIT_USAGE)
    except ModuleNotFoundError as exc:
        # The client install (`pip install .`, no extras) lacks the server's dependencies; the
        # commands that need them say so instead of printing a traceback.
        print(
            f"mlgate: error: `mlgate {args.command}` needs a module this install lacks "
            f"({exc.name}): the service, the local decision path and the policy tools are "
            "`pip install 'mlgate[server]'`; the client asks a service with --url",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
