"""`mlgate policies show REVISION`: the files of a policy revision as the ledger keeps them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from service.errors import UsageError
from service.settings import get_settings


def add_show(policy_commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    show = policy_commands.add_parser(
        "show",
        help="the files of a policy revision on record in the ledger",
        description="Every policy revision that decided is a signed record naming each file "
        "with its SHA-256 digest, its files kept in the ledger. Lists them (path, digest, "
        "size); --file prints one file's bytes; --output writes them all into a new or empty "
        "directory, a policy directory of that revision. Exit 2 for a revision not on record.",
    )
    show.add_argument("revision", help="sha256:<hex>, as decisions carry it")
    show.add_argument("--file", metavar="PATH", help="print this file of the revision")
    show.add_argument("--output", "-o", type=Path, metavar="DIR", help="write the files under DIR")
    show.set_defaults(func=show_revision)


def show_revision(args: argparse.Namespace) -> int:
    from service.audit.ledger import open_ledger
    from service.review.revisions import check_revision_id, kept_revision, restore_revision

    check_revision_id(args.revision)
    output: Path | None = args.output
    if output is not None and output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise UsageError(
            f"--output: expected a new or empty directory; {args.output} "
            f"{'holds files' if args.output.is_dir() else 'is a file'}"
        )
    ledger = open_ledger(get_settings(), create=False)
    try:
        kept = kept_revision(ledger, args.revision)
    finally:
        ledger.close()
    if args.file is not None:
        sys.stdout.buffer.write(kept.file(args.file).content)
        sys.stdout.buffer.flush()
        return 0
    if args.output is not None:
        restore_revision(kept, args.output)
        print(f"{args.output}  revision {kept.revision}  {len(kept.files)} files", file=sys.stderr)
        return 0
    print(f"revision  {kept.revision}")
    print(f"record    seq {kept.seq}, recorded {kept.recorded_at}")
    for entry in kept.files:
        print(f"  {entry.digest}  {len(entry.content):>7}  {entry.path}")
    return 0
