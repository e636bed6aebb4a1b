"""`mlgate snapshot add FILE...`: report metric snapshots, to the local ledger or a service."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from service.audit.recorded import Recorded
from service.errors import InvalidField, UsageError
from service.settings import get_settings

T = TypeVar("T")


def register(commands: Any) -> None:
    parser = commands.add_parser("snapshot", help="report metric snapshots of a deployment")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        help="record snapshot files, in the order given",
        description="Record metric snapshots (schemas/metric_snapshot.schema.json; an "
        "Evidently report or a Great Expectations result may come under `reports`), each a "
        "signed ledger record. Every file is read and checked against the schema first: one "
        "that is refused, naming the file and the field, records nothing (and creates no "
        "signing key or ledger). Files are then recorded in the order given and stop at the "
        "first the ledger refuses; the ones before it stay recorded. A file "
        "recorded already (the same deployment, interval, figures and reporter: a retry) "
        "records nothing and is said to be kept already, with exit status 0; one whose "
        "interval is recorded with other content is refused, naming what differs. With --url "
        "(or MLGATE_URL), they are posted to that service with MLGATE_TOKEN, a reporter "
        "token; locally, the reporter is MLGATE_CALLER_ID or the user name.",
    )
    add.add_argument("files", nargs="+", type=Path, metavar="FILE")
    add.add_argument("--url", help="post to a remote mlgate service instead")
    add.add_argument("--format", choices=("text", "json"), default="text")
    add.set_defaults(func=run_add)


def run_add(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.url is not None and not args.url.strip():
        raise UsageError("--url is empty: give the service's URL, or leave --url out")
    url = args.url or settings.url
    documents = [(path, _read(path)) for path in args.files]
    if url:
        from service.cli.remote import post_snapshot

        for path, document in documents:
            _print(path, _named(path, partial(post_snapshot, url, settings.token, document)), args)
        return 0
    from service.audit.ledger import open_ledger
    from service.monitoring.book import SnapshotBook
    from service.monitoring.snapshot import parse_snapshot
    from service.schemas import default_schemas

    reporter = settings.caller_id or getpass.getuser()
    # Every file is checked before the ledger opens: opening it creates the signing key and
    # the ledger on first use, which a command refusing its input must not leave behind.
    snapshots = [
        (path, _named(path, partial(parse_snapshot, document, default_schemas())))
        for path, document in documents
    ]
    book = SnapshotBook(open_ledger(settings))
    try:
        for path, snapshot in snapshots:
            stored = _named(path, partial(book.add, snapshot, reporter))
            _print(path, stored, args)
    finally:
        book.ledger.close()
    return 0


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not JSON ({exc})") from None


def _named(path: Path, action: Callable[[], T]) -> T:
    """The action's result; its refusal names the file too (a local InvalidField, or the
    service's 4xx answer under --url)."""
    try:
        result = action()
    except InvalidField as exc:
        raise InvalidField(f"{path}: {exc.field}", exc.message.partition(": ")[2]) from None
    except UsageError as exc:
        if type(exc) is not UsageError:
            raise
        raise UsageError(f"{path}: {exc.message}") from None
    return result


def _print(path: Path, recorded: Recorded, args: argparse.Namespace) -> None:
    stored = recorded.content
    if args.format == "json":
        print(json.dumps(stored, sort_keys=True))
        if not recorded.created:
            print(f"mlgate: {path}: {_kept_already(stored)}", file=sys.stderr)
        return
    deployment, interval = stored["deployment"], stored["interval"]
    what = (
        f"{deployment['model']} v{deployment['version']} at {deployment['stage']}, "
        f"{interval['start']} to {interval['end']}, {stored['sample_count']} samples"
    )
    if recorded.created:
        print(f"{path}: recorded snapshot {stored['id']} (seq {stored['record']}): {what}")
    else:
        print(f"{path}: {_kept_already(stored)}: {what}")


def _kept_already(stored: dict[str, Any]) -> str:
    return (
        f"recorded already as snapshot {stored['id']} (seq {stored['record']}, received at "
        f"{stored['received_at']}); nothing new was recorded"
    )
