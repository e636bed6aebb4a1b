"""`mlgate replay`: what a policy change would have decided on the recorded decisions' evidence."""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from service.cli.arguments import existing_directory, model_name
from service.settings import get_settings

# Below this many decisions a replay takes a few seconds: a progress bar would only flicker.
PROGRESS_MIN_DECISIONS = 500
EXIT_FLIPPED = 1


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "replay",
        help="judge recorded decisions again under other policies: what would flip?",
        description="Re-judges the stored input of every recorded decision that the filters "
        "match under another policy set (default: the policy directory in force, e.g. a "
        "pull request's working tree; --revision: a revision the ledger keeps), recording "
        "and enacting nothing, and prints what would change: outcome flips first, then "
        "decisions that keep their outcome with other reasons. The evidence is what was "
        "gathered when each decision was made. Uses every core. Exit 1 when an outcome "
        "would flip or a decision could not be replayed (a CI check on policy pull requests), "
        "0 when none would, 2 for a usage error or policies that do not load, 5 for a ledger "
        "record edited in the database.",
    )
    policies = parser.add_mutually_exclusive_group()
    policies.add_argument(
        "--policy-dir",
        type=existing_directory,
        metavar="DIR",
        help="the policies to replay under (default: MLGATE_POLICY_DIR)",
    )
    policies.add_argument(
        "--revision", metavar="REV", help="a policy revision the ledger keeps (sha256:...)"
    )
    parser.add_argument("--since", metavar="TIME", help="decisions recorded at or after TIME")
    parser.add_argument("--until", metavar="TIME", help="decisions recorded before TIME")
    parser.add_argument(
        "--model", type=model_name, metavar="NAME", help="decisions about this model only"
    )
    parser.add_argument("--gate", metavar="GATE", help="decisions of this gate only")
    parser.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="text for a terminal, markdown for a pull request comment, json for machines",
    )
    parser.add_argument(
        "--workers", type=int, metavar="N", help="judging processes (default: one per core)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="stop when a decision takes longer than this under the policies replayed, "
        "reporting it and those not judged yet as not replayed (judged in worker processes)",
    )
    parser.add_argument("--progress", action="store_true", help="show a progress bar on stderr")
    parser.set_defaults(func=replay_command)


def replay_command(args: argparse.Namespace) -> int:
    from service.audit.ledger import open_ledger, open_ledger_reader
    from service.cli.audit_commands import ProgressBar
    from service.compose import policy_judge
    from service.errors import UsageError
    from service.gates.registry import default_gates
    from service.review.replay import ReplayFilter, replay, selected
    from service.review.replay_text import markdown, text

    if args.timeout is not None and not args.timeout > 0:
        raise UsageError(f"--timeout: expected a number of seconds above 0; found {args.timeout}")
    if args.workers is not None and args.workers < 1:
        raise UsageError(
            f"--workers: expected a number of processes, 1 or more; found {args.workers}"
        )
    gates = list(default_gates())
    if args.gate is not None and args.gate not in gates:
        # A gate misspelt would match no decision and report that nothing flips.
        raise UsageError(f"--gate: expected one of {', '.join(gates)}; found {args.gate!r}")
    where = ReplayFilter(since=args.since, until=args.until, model=args.model, gate=args.gate)
    ledger = open_ledger(get_settings(), create=False)
    try:
        records = selected(ledger, where)
        with _policies(args, ledger) as (policy_dir, described):
            show = args.progress or (sys.stderr.isatty() and len(records) >= PROGRESS_MIN_DECISIONS)
            bar = ProgressBar(len(records), sys.stderr, "replaying") if show else None
            report = replay(
                ledger,
                records,
                functools.partial(policy_judge, policy_dir),
                reader=functools.partial(open_ledger_reader, get_settings()),
                workers=args.workers,
                progress=bar,
                timeout=args.timeout,
            )
            if bar is not None:
                bar.done()
    finally:
        ledger.close()
    if args.format == "json":
        print(json.dumps({**report.to_json(), "policies": described}, indent=2))
    elif args.format == "markdown":
        print(markdown(report, described), end="")
    else:
        print(text(report, described))
    return EXIT_FLIPPED if report.flips or report.unreplayable else 0


@contextmanager
def _policies(args: argparse.Namespace, ledger: Any) -> Iterator[tuple[Path, str]]:
    """The policy directory to replay under and how to name it; a revision's files are
    restored from the ledger into a temporary directory for as long as the replay runs."""
    from service.review.revisions import check_revision_id, kept_revision, restore_revision

    if args.revision is None:
        policy_dir: Path = args.policy_dir or get_settings().policy_dir
        yield policy_dir, str(policy_dir)
        return
    kept = kept_revision(ledger, check_revision_id(args.revision, "--revision"))
    with tempfile.TemporaryDirectory(prefix="mlgate-replay-") as directory:
        restored = restore_revision(kept, Path(directory) / "policies")
        yield restored, f"revision {kept.revision} as kept in the ledger"
