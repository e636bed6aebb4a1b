"""Policy revisions on record: every revision that decides is a signed `policy_revision` record
naming each file with its SHA-256 digest, its files kept content-addressed in the ledger's own
database; and a revision's files read back, each checked against that record.

The record's id is the revision itself ("sha256:<hex>", service/engine/policyset.revision_of),
so a revision is recorded once however many processes load it: the check and the write happen
under the ledger's lock `policy-revision`, and the ledger's unique record id is the backstop.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from service.audit.kinds import POLICY_REVISION
from service.audit.ledger import Ledger
from service.canonical import sha256_digest
from service.engine.policyset import PolicySet, revision_of
from service.errors import InvalidField, LedgerTampered, NotFound, UsageError
from service.statefiles import private_directory

# What a revision record's `outcome` column says (service/audit/kinds.py).
KEPT = "kept"
LOCK = "policy-revision"
REVISION_PATTERN = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class RevisionFile:
    path: str  # relative to the policy directory, "/"-separated
    digest: str  # "sha256:<hex>" of `content`
    content: bytes


@dataclass(frozen=True)
class KeptRevision:
    """A revision's files as archived, each checked against the signed record naming it."""

    revision: str
    seq: int  # the policy_revision record's seq
    recorded_at: str
    files: tuple[RevisionFile, ...]

    def file(self, path: str) -> RevisionFile:
        """The file at `path`; NotFound naming the revision's files if it has none there."""
        for kept in self.files:
            if kept.path == path:
                return kept
        names = ", ".join(kept.path for kept in self.files)
        raise NotFound(f"policy revision {self.revision} has no file {path!r}; it has: {names}")


def revision_content(policy_set: PolicySet) -> dict[str, Any]:
    """The signed content of a revision's record: {id, revision, files: [{path, digest, size}]},
    digests "sha256:<hex>" of each file's bytes, sizes in bytes, paths in the set's order."""
    return {
        "id": policy_set.revision,
        "revision": policy_set.revision,
        "files": [
            {
                "path": rel,
                "digest": sha256_digest(policy_set.contents[rel]),
                "size": len(policy_set.contents[rel]),
            }
            for rel in policy_set.files
        ],
    }


def keep_revision(ledger: Ledger, policy_set: PolicySet) -> int:
    """Record `policy_set`'s revision and archive its files, unless the ledger has a record of
    it already; the seq of its record either way.

    The files are stored in the same transaction as the record, content-addressed (a digest
    already stored is never rewritten). Raises AuditWriteFailed if it cannot be recorded: no
    policy may decide without a record of what it is; ValueError for a set read without its
    files' contents (a bug, never a user's mistake).
    """
    missing = [rel for rel in policy_set.files if rel not in policy_set.contents]
    if missing or revision_of(policy_set.contents) != policy_set.revision:
        raise ValueError(
            f"the policy set of revision {policy_set.revision} does not hold the bytes of its "
            f"files ({', '.join(missing) or 'their digests give another revision'})"
        )
    known = _kept_record_seq(ledger, policy_set.revision)
    if known is not None:
        return known
    with ledger.exclusive(LOCK):
        known = _kept_record_seq(ledger, policy_set.revision)
        if known is not None:
            return known
        receipt = ledger.record_event(
            POLICY_REVISION,
            policy_set.revision,
            revision_content(policy_set),
            outcome=KEPT,
            attachments=[policy_set.contents[rel] for rel in policy_set.files],
        )
        return receipt.seq


def _kept_record_seq(ledger: Ledger, revision: str) -> int | None:
    try:
        record = ledger.get(revision)
    except NotFound:
        return None
    if record.kind != POLICY_REVISION:
        raise LedgerTampered(
            f"record seq {record.seq} has the id {revision!r} of a policy revision but is a "
            f"{record.kind} record; run `mlgate audit verify`"
        )
    return record.seq


def check_revision_id(revision: str, field: str = "revision") -> str:
    """`revision` if it has the form of one ("sha256:" and 64 lowercase hex digits), else
    InvalidField naming `field`, what was expected and what was found."""
    if not REVISION_PATTERN.match(revision):
        raise InvalidField(
            field,
            f"expected a policy revision, sha256: and 64 lowercase hex digits; found {revision!r}",
        )
    return revision


def kept_revision(ledger: Ledger, revision: str) -> KeptRevision:
    """The files of `revision` as archived, each checked against the signed record.

    Raises InvalidField for a string that is not a revision, NotFound when the ledger has no
    record of it, and LedgerTampered when an archived file is missing or does not hash to the
    digest its record names (or the files do not make the revision).
    """
    check_revision_id(revision)
    try:
        record = ledger.get(revision)
    except NotFound:
        raise NotFound(
            f"no policy revision {revision} is on record in the {ledger.store.description}: "
            "no decision recorded there was made under it"
        ) from None
    if record.kind != POLICY_REVISION:
        raise NotFound(f"record {revision!r} is a {record.kind} record, not a policy revision")
    content = record.predicate()
    files: list[RevisionFile] = []
    for entry in content["files"]:
        path, digest = str(entry["path"]), str(entry["digest"])
        stored = ledger.stored_content(digest)
        where = f"the archived file {path} ({digest}) of policy revision {revision}"
        if stored is None:
            raise LedgerTampered(
                f"{where} is not in the {ledger.store.description}: it was deleted; run "
                "`mlgate audit verify`"
            )
        found = "sha256:" + hashlib.sha256(stored).hexdigest()
        if found != digest:
            raise LedgerTampered(
                f"{where} hashes to {found}: it was altered after it was recorded; run "
                "`mlgate audit verify`"
            )
        files.append(RevisionFile(path, digest, stored))
    remade = revision_of({kept.path: kept.content for kept in files})
    if remade != revision:
        raise LedgerTampered(
            f"the files recorded for policy revision {revision} make revision {remade}"
        )
    return KeptRevision(revision, record.seq, record.recorded_at, tuple(files))


def restore_revision(kept: KeptRevision, directory: Path) -> Path:
    """Write the revision's files under `directory` (folders created 0700), as they were;
    returns `directory`. UsageError if a recorded path would leave it, or cannot be written."""
    for entry in kept.files:
        relative = PurePosixPath(entry.path)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise UsageError(
                f"policy revision {kept.revision} names the file {entry.path!r}, which is not "
                "a path inside a policy directory"
            )
        target = directory.joinpath(*relative.parts)
        try:
            private_directory(target.parent)
            target.write_bytes(entry.content)
        except OSError as exc:
            raise UsageError(f"cannot write {target}: {exc}") from None
    return directory
