"""Entry point of `mlgate`: parse, dispatch, and map errors to exit codes in one place."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from service.cli.exitcodes import ERROR_EXIT_CODES, EXIT_BROKEN_PIPE, EXIT_USAGE
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
    """Run one command; its exit code. A reader that closes the pipe early (`| head -1`) ends
    the command quietly with EXIT_BROKEN_PIPE, as
    https://docs.python.org/3/library/signal.html#note-on-sigpipe recommends."""
    try:
        code = _run(argv)
        # Flushed here, so that a pipe closed after the command's last write is met inside
        # the try and not at interpreter exit.
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit: point it at devnull so that flush cannot fail.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return code


def _run(argv: Sequence[str] | None) -> int:
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
