"""`mlgate keys init` and `mlgate audit verify|export|show|checkpoint|reproduce`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from service.audit.checkpoint import (
    CHECKPOINT_PAYLOAD_TYPE,
    CheckpointInvalid,
    checkpoint_shape_problem,
    open_checkpoint,
)
from service.audit.clock import format_time, parse_time, utc_now
from service.audit.envelope import Envelope, MalformedEnvelope, open_envelope
from service.audit.keys import KeyFiles, Keyring, init_keys, load_keyring
from service.audit.ledger import Ledger, open_ledger
from service.audit.records import LedgerRecord
from service.audit.verify import VerifyReport, signature_problem, verify_envelopes
from service.cli.arguments import existing_file
from service.decision.model import Decision
from service.errors import AuditKeyMissing, NotFound, UsageError
from service.settings import get_settings

# Below this many records a walk takes well under a second; a progress bar would only flicker.
PROGRESS_MIN_RECORDS = 20_000
PROGRESS_WIDTH = 30


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser("keys", help="manage the audit signing key")
    key_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="COMMAND")
    init = key_commands.add_parser(
        "init",
        help="create an Ed25519 signing key and its keyring",
        description="Write signing.pem (mode 0600), signing.pub.pem and keyring.json.",
    )
    init.add_argument("--dir", type=Path, help="directory for the key files (default: settings)")
    init.add_argument(
        "--rotate",
        action="store_true",
        help="retire the current key (its records keep verifying) and start a new one",
    )
    init.set_defaults(func=keys_init)

    audit = commands.add_parser("audit", help="verify, read and export the audit ledger")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="COMMAND")

    verify = audit_commands.add_parser(
        "verify",
        help="check every record's signature, the hash chain and checkpoints",
        description="Exit 0 when every record is valid, 1 when any problem is found.",
    )
    source = verify.add_mutually_exclusive_group()
    source.add_argument(
        "--file", type=existing_file, help="verify an export (JSONL) instead of the ledger"
    )
    source.add_argument(
        "--url",
        help="verify a service's ledger here: fetch its export, checkpoints and (without "
        "--keyring) keys with an auditor token (MLGATE_TOKEN), and check them on this machine",
    )
    verify.add_argument(
        "--checkpoint",
        type=Path,
        action="append",
        default=[],
        help="a checkpoint kept elsewhere; detects a removed tail (repeatable)",
    )
    verify.add_argument(
        "--since-checkpoint",
        action="store_true",
        help="check only the records after the largest --checkpoint given (it vouches for the "
        "ones before it; the summary says which were not checked)",
    )
    verify.add_argument(
        "--workers",
        type=_workers,
        default=None,
        help="processes that check signatures (default: one per core for 20,000 records or more)",
    )
    verify.add_argument(
        "--keyring", type=Path, help="public keys to trust (default: MLGATE_KEYRING or settings)"
    )
    verify.add_argument(
        "--skip-inputs",
        action="store_true",
        help="do not read every input document back (for huge ledgers; columns are still checked)",
    )
    verify.add_argument("--format", choices=["text", "json"], default="text")
    verify.add_argument("--progress", action="store_true", help="show a progress bar on stderr")
    verify.set_defaults(func=audit_verify)

    export = audit_commands.add_parser(
        "export", help="write every record, one envelope per line, exactly as stored"
    )
    export.add_argument("--format", choices=["jsonl"], default="jsonl")
    export.add_argument("--output", type=Path, help="file to write (default: stdout)")
    export.set_defaults(func=audit_export)

    show = audit_commands.add_parser(
        "show", help="one record (a decision, a sign-off, a policy revision...), for a person"
    )
    show.add_argument("id", help="a record's id (a decision id, say) or its seq")
    show.set_defaults(func=audit_show)

    checkpoint = audit_commands.add_parser(
        "checkpoint", help="sign a checkpoint of the ledger now (keep it somewhere else)"
    )
    checkpoint.add_argument("--output", type=Path, help="file to write (default: stdout)")
    checkpoint.set_defaults(func=audit_checkpoint)

    reproduce = audit_commands.add_parser(
        "reproduce",
        help="re-evaluate a recorded decision's input under its own policy revision",
        description="By default the decision's recorded policy revision, restored from the "
        "files the ledger keeps for it into a temporary directory; --current-policies judges "
        "it under the policy directory as it is today instead. Exit 0 when the outcome is the "
        "same as recorded, 1 when it differs.",
    )
    reproduce.add_argument("id", help="decision id, or a record's seq")
    reproduce.add_argument(
        "--current-policies",
        action="store_true",
        help="judge under today's policy directory, not the revision the decision was made under",
    )
    reproduce.set_defaults(func=audit_reproduce)


def keys_init(args: argparse.Namespace) -> int:
    settings = get_settings()
    files = KeyFiles.in_dir(args.dir) if args.dir else KeyFiles.from_settings(settings)
    key = init_keys(files, rotate=args.rotate)
    print(f"key id       {key.keyid}")
    print(f"signing key  {files.private_key} (mode 0600: keep it secret)")
    print(f"public key   {files.public_key}")
    print(f"keyring      {files.keyring} (give this to verifiers)")
    if files != KeyFiles.from_settings(settings):
        print(
            f"to sign with it, set MLGATE_SIGNING_KEY={files.private_key} "
            f"MLGATE_KEYRING={files.keyring}"
        )
    return 0


def audit_verify(args: argparse.Namespace) -> int:
    settings = get_settings()
    checkpoints: list[bytes | tuple[str, bytes]] = [
        (f"checkpoint {path}", _read_checkpoint_file(path)) for path in args.checkpoint
    ]
    if args.since_checkpoint and (args.url is not None or args.file is not None):
        raise UsageError(
            "--since-checkpoint reads the ledger itself (the frontier stored with the "
            "checkpoint); it does not go with --url or --file"
        )
    if args.url is not None:
        return _verify_remote(args, settings.token, checkpoints)
    if args.file is not None:
        keyring = _export_keyring(args.keyring, settings.resolved_keyring)
        total = _count_lines(args.file)
        bar = _progress_bar(args.progress, total)
        report = verify_envelopes(_export_lines(args.file), keyring, checkpoints, bar)
    else:
        keyring = (
            _given_keyring(args.keyring)
            if args.keyring is not None
            else load_keyring(settings.resolved_keyring)
        )
        with open_ledger(settings, create=False) as ledger:
            bar = _progress_bar(args.progress, ledger.last_seq())
            report = ledger.verify(
                keyring,
                checkpoints=checkpoints,
                progress=bar,
                inputs=not args.skip_inputs,
                since_kept=args.since_checkpoint,
                workers=args.workers,
            )
    if bar is not None:
        bar.done()
    _print_report(report, args.format)
    return 0 if report.ok else 1


def _export_keyring(given: Path | None, configured: Path) -> Keyring:
    """The keyring that verifies an export: `given` (--keyring), else the configured one.
    UsageError when neither is given and none is configured here: only the public keys of the
    ledger that wrote the export verify it (a key created here signed none of its records)."""
    if given is None and not configured.exists():
        raise UsageError(
            f"--file: no keyring to verify the export with (none at {configured}): give the "
            "public keys of the ledger that wrote it with --keyring FILE (or MLGATE_KEYRING). "
            "Its service serves them at GET /v1/audit/keys to an auditor token: "
            '`curl -H "Authorization: Bearer $MLGATE_TOKEN" URL/v1/audit/keys > keyring.json`'
        )
    return load_keyring(configured) if given is None else _given_keyring(given)


def _given_keyring(path: Path) -> Keyring:
    """The keyring named by --keyring. One that is missing or not a keyring is the mistake of
    whoever named it (UsageError, exit 2), where a configured one the ledger's keys cannot be
    read from stays AuditKeyMissing (exit 5)."""
    try:
        return load_keyring(path)
    except AuditKeyMissing as exc:
        if not path.exists():
            raise UsageError(
                f"--keyring: no file at {path}; give the keyring.json of the ledger being "
                "verified (its service serves it at GET /v1/audit/keys)"
            ) from None
        raise UsageError(f"--keyring: {exc.message}") from None


def _verify_remote(
    args: argparse.Namespace, token: str, checkpoints: list[bytes | tuple[str, bytes]]
) -> int:
    """Verify the ledger of the service at args.url on this machine: its export and its stored
    checkpoints, with the keyring given (--keyring) or, failing that, the one it serves."""
    from service.cli.remote import get_json, get_lines

    url = args.url
    if args.keyring is not None:
        keyring = _given_keyring(args.keyring)
    else:
        print(
            f"mlgate: the keys come from {url}, the server being verified: this proves the "
            "ledger consistent with the keys it serves; --keyring FILE with a copy kept "
            "elsewhere proves more",
            file=sys.stderr,
        )
        keyring = Keyring.from_json(get_json(url, "/v1/audit/keys", token), f"{url}/v1/audit/keys")
    served = [
        (f"checkpoint {n} served by {url}", raw)
        for n, raw in enumerate(get_lines(url, "/v1/audit/checkpoints", token), 1)
    ]
    bar = _progress_bar(args.progress, 0)  # the total is not known before the export ends
    report = verify_envelopes(
        get_lines(url, "/v1/audit/export", token), keyring, [*served, *checkpoints], bar
    )
    if bar is not None:
        bar.done()
    _print_report(report, args.format)
    return 0 if report.ok else 1


def _progress_bar(asked: bool, total: int) -> ProgressBar | None:
    show = asked or (sys.stderr.isatty() and total >= PROGRESS_MIN_RECORDS)
    return ProgressBar(total, sys.stderr) if show else None


def _print_report(report: VerifyReport, output_format: str) -> None:
    if output_format == "json":
        print(json.dumps(report.to_json(), indent=2))
        return
    for problem in report.problems:
        print(problem.line())
    print(report.summary)


class ProgressBar:
    """A one-line bar on stderr, redrawn in place; no dependency, no threads."""

    def __init__(self, total: int, stream: IO[str], label: str = "verifying") -> None:
        self.unknown = total == 0  # a count instead of a bar
        self.total = max(total, 1)
        self.stream = stream
        self.label = label

    def __call__(self, done: int) -> None:
        if self.unknown:
            self.stream.write(f"\r{self.label} {done} records")
            self.stream.flush()
            return
        fraction = min(done / self.total, 1.0)
        filled = int(fraction * PROGRESS_WIDTH)
        bar = "#" * filled + "." * (PROGRESS_WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {fraction:4.0%} {done}/{self.total}")
        self.stream.flush()

    def done(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _workers(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of processes, 1 or more; found {text!r}"
        )
    return count


def _read_checkpoint_file(path: Path) -> bytes:
    """The checkpoint --checkpoint names. A file that is missing, unreadable or not a
    checkpoint at all is the mistake of whoever named it (UsageError, exit 2), as with
    --keyring; one shaped as a checkpoint that is forged or does not match the ledger is a
    problem the verification reports."""
    if not path.exists():
        raise UsageError(
            f"--checkpoint: no file at {path}; give a checkpoint `mlgate audit checkpoint` wrote"
        )
    try:
        raw = path.read_bytes().strip()
    except OSError as exc:
        raise UsageError(f"--checkpoint: {path} cannot be read ({exc.strerror})") from None
    problem = checkpoint_shape_problem(raw)
    if problem is not None:
        raise UsageError(
            f"--checkpoint: {path} is not a checkpoint: expected one signed checkpoint as "
            f"`mlgate audit checkpoint` writes it (a DSSE envelope of payloadType "
            f"{CHECKPOINT_PAYLOAD_TYPE}); found {_found_instead(raw, problem)}"
        )
    return raw


def _found_instead(raw: bytes, problem: str) -> str:
    """What a file that is not a checkpoint holds, in words: empty, not JSON (its start), or
    JSON that is not a checkpoint (what about it is wrong)."""
    if not raw:
        return "an empty file"
    if problem.startswith("not JSON"):
        start = raw[:40].decode("utf-8", "replace")
        return f"text that is not JSON ({start!r}{'...' if len(raw) > 40 else ''})"
    return f"JSON that is not a checkpoint ({problem})"


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as stream:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))
    except OSError as exc:
        raise UsageError(f"export file {path} cannot be read: {exc}") from None


def _export_lines(path: Path) -> Iterator[bytes]:
    """Each line of an export without its newline: the envelope's exact stored bytes."""
    with path.open("rb") as stream:
        for line in stream:
            yield line[:-1] if line.endswith(b"\n") else line


def audit_export(args: argparse.Namespace) -> int:
    ledger = open_ledger(get_settings(), create=False)
    count = 0
    if args.output is None:
        for envelope in ledger.envelopes():
            sys.stdout.buffer.write(envelope + b"\n")
            count += 1
        sys.stdout.buffer.flush()
    else:
        try:
            with args.output.open("wb") as stream:
                for envelope in ledger.envelopes():
                    stream.write(envelope + b"\n")
                    count += 1
        except OSError as exc:
            raise UsageError(f"cannot write the export to {args.output}: {exc}") from None
    print(f"exported {count} records", file=sys.stderr)
    return 0


def _find_record(identifier: str) -> tuple[Ledger, LedgerRecord]:
    """The record of any kind with id or seq `identifier`; NotFound naming it otherwise."""
    ledger = open_ledger(get_settings(), create=False)
    if identifier.isdigit():
        return ledger, ledger.get_seq(int(identifier))
    try:
        return ledger, ledger.get(identifier)
    except NotFound:
        raise NotFound(
            f"no record with id {identifier!r} in the {ledger.store.description}: give a "
            "record's id (decision, sign-off, alias move...) or its seq; `mlgate audit export` "
            "lists them all"
        ) from None


def audit_show(args: argparse.Namespace) -> int:
    settings = get_settings()
    _, record = _find_record(args.id)
    try:
        envelope = open_envelope(record.envelope)
        statement = envelope.statement()
    except MalformedEnvelope as exc:
        raise UsageError(
            f"record seq {record.seq} cannot be read ({exc}); run `mlgate audit verify`"
        ) from None
    p = statement["predicate"]
    subject = statement.get("subject") or [{}]
    if record.kind != "decision":
        _show_rows(
            [
                ("record", record.kind.replace("_", " ")),
                *((key, _text(value)) for key, value in p.items() if key not in _CHAIN_FIELDS),
                ("recorded", p.get("recorded_at")),
                ("seq", f"{p.get('seq')} (prev {str(p.get('prev'))[:16]}...)"),
                ("signature", _signature_line(envelope, p, settings.resolved_keyring)),
            ]
        )
        return 0
    model = p.get("model") or {}
    target = p.get("target") or {}
    rows = [
        ("decision", p.get("decision_id")),
        ("outcome", str(p.get("outcome", "?")).upper()),
        ("gate", p.get("gate")),
        ("model", f"{model.get('name')} version {model.get('version')}"),
        ("artifact", _digests(subject[0].get("digest"))),
        ("target", ", ".join(f"{k}={v}" for k, v in target.items()) or "-"),
        ("rollback to", p.get("target_version") or "-"),
        ("caller", _caller(p.get("caller"))),
        ("requested", p.get("requested_at") or "-"),
        ("recorded", p.get("recorded_at")),
        ("policy", p.get("policy_revision")),
        ("input", p.get("input_digest")),
        ("sign-offs", ", ".join(p.get("signoff_records") or []) or "-"),
        ("evidence", _text(p.get("provenance") or "-")),
        ("seq", f"{p.get('seq')} (prev {str(p.get('prev'))[:16]}...)"),
        ("signature", _signature_line(envelope, p, settings.resolved_keyring)),
    ]
    _show_rows(rows)
    for title, items in (
        ("reasons", p.get("reasons") or []),
        ("warnings", p.get("warnings") or []),
    ):
        print(f"{title}:" if items else f"{title}: none")
        for reason in items:
            controls = ", ".join(reason.get("controls") or [])
            print(
                f"  - [{reason.get('severity')}] {reason.get('code')}: {reason.get('message')}"
                + (f" (controls: {controls})" if controls else "")
            )
    return 0


_CHAIN_FIELDS = ("seq", "prev", "recorded_at")


def _show_rows(rows: list[tuple[str, Any]]) -> None:
    """`label  value` lines, labels padded to one width; a multi-line value's further lines are
    indented under its first."""
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}".replace("\n", "\n" + " " * (width + 2)))


def _text(value: Any) -> str:
    """A predicate value for a person: an object as `key: value` pairs on one line, a list
    (a policy revision's files, say) one item a line."""
    if isinstance(value, list):
        return "\n".join(_text(item) for item in value) if value else "-"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return "-" if value is None else str(value)


def _digests(digest: Any) -> str:
    if not isinstance(digest, dict):
        return "-"
    return ", ".join(f"{algorithm}:{value}" for algorithm, value in digest.items())


def _caller(caller: Any) -> str:
    if not isinstance(caller, dict):
        return "-"
    return f"{caller.get('id')} (role {caller.get('role')})"


def _signature_line(envelope: Envelope, predicate: dict[str, Any], keyring_path: Path) -> str:
    keyids = ", ".join(s.keyid for s in envelope.signatures)
    try:
        keyring = load_keyring(keyring_path)
    except AuditKeyMissing:
        return f"key {keyids} (not checked: no readable keyring at {keyring_path})"
    try:
        found = signature_problem(envelope, parse_time(str(predicate["recorded_at"])), keyring)
    except (KeyError, ValueError):
        return f"key {keyids} (not checked: the record has no valid recorded_at)"
    status = "valid" if found is None else f"INVALID: {found[0]}: {found[1]}"
    return f"key {keyids}: {status} (the chain is checked by `mlgate audit verify`)"


def audit_checkpoint(args: argparse.Namespace) -> int:
    settings = get_settings()
    ledger = open_ledger(settings, create=False)  # a checkpoint of nothing would prove nothing
    envelope = ledger.checkpoint()
    checkpoint = None
    try:
        checkpoint = open_checkpoint(envelope, load_keyring(settings.resolved_keyring))
    except (CheckpointInvalid, AuditKeyMissing) as exc:
        print(f"mlgate: warning: the new checkpoint does not verify: {exc}", file=sys.stderr)
    if args.output is None:
        sys.stdout.buffer.write(envelope + b"\n")
        sys.stdout.buffer.flush()
    else:
        try:
            args.output.write_bytes(envelope + b"\n")
        except OSError as exc:
            raise UsageError(f"cannot write the checkpoint to {args.output}: {exc}") from None
    if checkpoint is not None:
        print(
            f"{checkpoint.describe()}, Merkle root {checkpoint.root.hex()}; keep a copy away "
            "from the ledger: `mlgate audit verify --checkpoint FILE` then detects a removed "
            "tail",
            file=sys.stderr,
        )
    return 0


def _under_recorded_revision(ledger: Ledger, revision: str, input_doc: dict[str, Any]) -> Decision:
    """`input_doc` judged under the policy files the ledger keeps for `revision`, restored
    into a temporary directory; NotFound (exit 2) naming --current-policies when the ledger
    keeps no such revision (a ledger older than revision records)."""
    import tempfile

    from service.compose import policy_judge
    from service.errors import NotFound
    from service.review.revisions import kept_revision, restore_revision

    try:
        kept = kept_revision(ledger, revision)
    except NotFound as exc:
        raise NotFound(
            f"{exc.message}; `mlgate audit reproduce --current-policies` judges the decision "
            "under today's policies instead"
        ) from None
    with tempfile.TemporaryDirectory(prefix="mlgate-revision-") as directory:
        judge = policy_judge(restore_revision(kept, Path(directory) / "policies"))
        try:
            decision = judge.evaluate(input_doc)
        finally:
            judge.engine.close()  # type: ignore[attr-defined]
    return decision


def audit_reproduce(args: argparse.Namespace) -> int:
    from service.compose import local_judge

    settings = get_settings()
    ledger, record = _find_record(args.id)
    if record.kind != "decision":
        raise UsageError(
            f"record seq {record.seq} is a record of kind {record.kind}, not a decision: "
            "only decisions can be reproduced"
        )
    try:
        recorded = record.predicate()
    except MalformedEnvelope as exc:
        raise UsageError(
            f"record seq {record.seq} cannot be read ({exc}); run `mlgate audit verify`"
        ) from None
    input_doc = ledger.input_document(record.seq, str(recorded["input_digest"]))
    # The recorded input was gathered once; only the judge step of the path runs again.
    if args.current_policies:
        now = local_judge(settings).evaluate(input_doc)
    else:
        now = _under_recorded_revision(ledger, str(recorded["policy_revision"]), input_doc)
    same = now.outcome == recorded["outcome"]
    print(f"decision  {recorded['decision_id']} (seq {record.seq}, {recorded['gate']})")
    print(f"recorded  {recorded['outcome']} at {recorded['recorded_at']}")
    print(f"now       {now.outcome} at {format_time(utc_now())}")
    if now.policy_revision != recorded["policy_revision"]:
        print(
            f"policies  the record was made under revision {recorded['policy_revision']}; "
            f"the current policies are revision {now.policy_revision}"
        )
    elif args.current_policies:
        print(f"policies  unchanged (revision {now.policy_revision})")
    else:
        print(f"policies  as recorded: revision {now.policy_revision}, restored from the ledger")
    before = {str(r.get("code")) for r in recorded.get("reasons") or []}
    after = {r.code for r in now.reasons}
    for code in sorted(after - before):
        print(f"  + reason {code}")
    for code in sorted(before - after):
        print(f"  - reason {code}")
    if same:
        print("result    same outcome")
    else:
        print(f"result    outcome changed: {recorded['outcome']} -> {now.outcome}")
    return 0 if same else 1
