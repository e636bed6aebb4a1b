"""Verifies a stored ledger: the chain of envelopes, and what queries read beside it.

A listing filters on columns copied out of each envelope, and a decision's input document is
kept so it can be re-evaluated; both live outside the signed bytes, so both are checked here
against what the envelope signs: every indexed column, that the input document exists and
hashes to its digest, and that each file a policy revision record names is archived unaltered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from service.audit.columns import expected_columns, mismatches
from service.audit.keys import Keyring
from service.audit.kinds import POLICY_REVISION, UnknownRecordKind
from service.audit.stores.base import PAGE_SIZE, RecordRow, Store
from service.audit.verify import PROGRESS_EVERY, ChainVerifier, Opened, VerifyReport
from service.canonical import sha256_digest


def verify_store(
    store: Store,
    keyring: Keyring,
    checkpoints: Sequence[bytes | tuple[str, bytes]] = (),
    progress: Callable[[int], None] | None = None,
    *,
    inputs: bool = True,
) -> VerifyReport:
    """Every record of `store` in seq order: signatures, chain, checkpoints, columns and (with
    `inputs`) input documents. `checkpoints` are (where it came from, envelope bytes)."""
    verifier = ChainVerifier(keyring, checkpoints)
    after = 0
    while True:
        page = store.row_page(after, PAGE_SIZE)
        documents = store.input_documents(sorted({r.input_digest for r in page})) if inputs else {}
        for row in page:
            opened = verifier.feed(row.envelope)
            # An envelope not validly signed, or stored under another seq, is reported by the
            # chain already; its columns would only repeat that.
            if opened is not None and opened.signed and opened.seq == row.seq:
                digest = _check_columns(verifier, row, opened)
                if inputs and digest is not None:
                    found = documents.get(digest) if digest in documents else None
                    if found is None and digest != row.input_digest:
                        found = store.input_document(digest)
                    _check_input(verifier, row.seq, digest, found)
                if inputs and opened.kind == POLICY_REVISION:
                    _check_policy_files(verifier, store, opened)
            if progress is not None and verifier.position % PROGRESS_EVERY == 0:
                progress(verifier.position)
        if len(page) < PAGE_SIZE:
            break
        after = page[-1].seq
    if progress is not None:
        progress(verifier.position)
    return verifier.finish()


def _check_columns(verifier: ChainVerifier, row: RecordRow, opened: Opened) -> str | None:
    """Report columns that differ from the signed record; the signed input digest."""
    keyids = tuple(s.keyid for s in opened.envelope.signatures)
    try:
        expected = expected_columns(opened.kind, opened.predicate, keyids, row.envelope)
    except (UnknownRecordKind, KeyError, TypeError) as exc:
        verifier.record_problem(
            opened.seq, "malformed", f"the signed record lacks what its kind needs: {exc!r}"
        )
        return None
    found = mismatches({name: str(getattr(row, name)) for name in expected}, expected)
    if found:
        verifier.record_problem(
            opened.seq,
            "column mismatch",
            "the columns queries filter on differ from the signed record: "
            + "; ".join(found)
            + ". The database was edited; listings of this record are wrong",
        )
    return expected["input_digest"]


def _check_input(verifier: ChainVerifier, seq: int, digest: str, document: bytes | None) -> None:
    if document is None:
        verifier.record_problem(
            seq,
            "input missing",
            f"the input document {digest} is not in the ledger: it was deleted, so "
            "the decision cannot be re-evaluated",
        )
    elif sha256_digest(document) != digest:
        verifier.record_problem(
            seq,
            "input altered",
            f"the stored input document {digest} hashes to "
            f"{sha256_digest(document)}: it was altered after it was recorded",
        )


def _check_policy_files(verifier: ChainVerifier, store: Store, opened: Opened) -> None:
    """Each file a policy_revision record names is stored under its digest and hashes to it."""
    try:
        named = [(str(f["path"]), str(f["digest"])) for f in opened.predicate["files"]]
    except (KeyError, TypeError) as exc:
        verifier.record_problem(
            opened.seq, "malformed", f"the policy revision record lists no files: {exc!r}"
        )
        return
    for path, digest in named:
        content = store.input_document(digest)
        if content is None:
            verifier.record_problem(
                opened.seq,
                "policy file missing",
                f"the archived policy file {path} ({digest}) is not in the ledger: it was "
                "deleted, so the revision's files cannot be shown",
            )
        elif sha256_digest(content) != digest:
            verifier.record_problem(
                opened.seq,
                "policy file altered",
                f"the archived policy file {path} ({digest}) hashes to "
                f"{sha256_digest(content)}: it was altered after it was recorded",
            )
