"""`mlgate snapshot add FILE...`: report metric snapshots, to the local ledger or a service."""

from __future__ import annotations

import argparse
import getpass
import json
from pathlib import Path
from typing import Any

from service.errors import InvalidField, UsageError
from service.settings import get_settings


def register(commands: Any) -> None:
    parser = commands.add_parser("snapshot", help="report metric snapshots of a deployment")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        help="record snapshot files, in the order given",
        description="Record metric snapshots (schemas/metric_snapshot.schema.json; an "
        "Evidently report or a Great Expectations result may come under `reports`), each a "
        "signed ledger record. Files are recorded in the order given and stop at the first "
        "refused, naming the file and the field; the ones before it stay recorded. With --url "
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
            _print(
                path, _named(path, lambda d=document: post_snapshot(url, settings.token, d)), args
            )
        return 0
    from service.audit.ledger import open_ledger
    from service.monitoring.book import SnapshotBook
    from service.monitoring.snapshot import parse_snapshot
    from service.schemas import default_schemas

    reporter = settings.caller_id or getpass.getuser()
    book = SnapshotBook(open_ledger(settings))
    try:
        for path, document in documents:
            stored = _named(
                path, lambda d=document: book.add(parse_snapshot(d, default_schemas()), reporter)
            )
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


def _named(path: Path, action: Any) -> dict[str, Any]:
    """The action's result; its InvalidField names the file too."""
    try:
        result: dict[str, Any] = action()
    except InvalidField as exc:
        raise InvalidField(f"{path}: {exc.field}", exc.message.partition(": ")[2]) from None
    return result


def _print(path: Path, stored: dict[str, Any], args: argparse.Namespace) -> None:
    if args.format == "json":
        print(json.dumps(stored, sort_keys=True))
        return
    deployment, interval = stored["deployment"], stored["interval"]
    print(
        f"{path}: recorded snapshot {stored['id']} (seq {stored['record']}): "
        f"{deployment['model']} v{deployment['version']} at {deployment['stage']}, "
        f"{interval['start']} to {interval['end']}, {stored['sample_count']} samples"
    )
