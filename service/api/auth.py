"""Bearer tokens with roles: only SHA-256 hashes of tokens are stored, and each request's caller
comes from its token, never from its body."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, get_args

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.api.errors import Forbidden, TokensFileInvalid, Unauthorized
from service.decision.model import Caller
from service.errors import UsageError
from service.statefiles import private_directory

Role = Literal["gate", "approver", "reporter", "auditor", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
TOKEN_PREFIX = "mlg_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class TokenEntry:
    id: str
    role: str
    sha256: str
    # For approver tokens: the business roles (e.g. model-risk-officer) this holder signs as.
    approves_as: tuple[str, ...] = ()


class TokenTable:
    """The tokens file, re-read whenever its content changes, so a token added, rotated or
    revoked counts from the next request without a restart. Change is judged by the content's
    hash: an edit keeping the file's size and modification time still counts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: bytes | None = None
        self._by_hash: dict[str, TokenEntry] = {}

    def check(self) -> None:
        """Raise TokensFileInvalid if the tokens file cannot be read now (for /readyz)."""
        self._entries()

    def lookup(self, token: str) -> TokenEntry | None:
        """The entry whose hash is SHA-256(`token`), or None.

        No secret is compared: the table is keyed by the hashes, and what a lookup's timing
        could reveal is how a hash of the caller's own guess compares with stored hashes,
        which does not help find a token (a SHA-256 preimage), unlike a byte-by-byte
        comparison of tokens would."""
        return self._entries().get(token_hash(token))

    def entry(self, digest: str) -> TokenEntry | None:
        """The entry whose stored hash is `digest` (hex SHA-256), or None: for a session that
        keeps the hash of the token it was opened with, so that revoking the token ends it."""
        return self._entries().get(digest)

    def caller(self, token: str) -> Caller | None:
        """Who holds `token`, in which role; None when it matches no configured token."""
        entry = self.lookup(token)
        return None if entry is None else Caller(id=entry.id, role=entry.role)

    def approval_roles(self, token_id: str) -> set[str]:
        """The business roles the approver tokens of `token_id` may sign as."""
        return {
            role
            for entry in self._entries().values()
            if entry.id == token_id and entry.role == "approver"
            for role in entry.approves_as
        }

    def _entries(self) -> dict[str, TokenEntry]:
        try:
            content: bytes | None = self.path.read_bytes()  # small: read on every request
        except FileNotFoundError:
            content = None
        except OSError as exc:
            raise TokensFileInvalid(f"tokens file {self.path} cannot be read: {exc}") from None
        stamp = None if content is None else hashlib.sha256(content).digest()
        with self._lock:
            if stamp != self._stamp:
                entries = parse_tokens(self.path, content) if content is not None else []
                self._by_hash = {e.sha256: e for e in entries}
                self._stamp = stamp
            return self._by_hash


def read_tokens(path: Path) -> list[TokenEntry]:
    """The entries of a tokens file; a malformed file is an error naming the entry at fault."""
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise TokensFileInvalid(f"tokens file {path} cannot be read: {exc}") from None
    return parse_tokens(path, content)


def parse_tokens(path: Path, content: bytes) -> list[TokenEntry]:
    """The entries of the tokens file `path` holding `content`; TokensFileInvalid if malformed."""
    try:
        document = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TokensFileInvalid(f"tokens file {path} cannot be read: {exc}") from None
    raw = document.get("tokens") if isinstance(document, dict) else None
    if not isinstance(raw, list):
        raise TokensFileInvalid(f'tokens file {path}: expected {{"tokens": [...]}}')
    entries = []
    for i, item in enumerate(raw):
        entry = item if isinstance(item, dict) else {}
        token_id, role, digest = entry.get("id"), entry.get("role"), entry.get("sha256")
        if not isinstance(token_id, str) or not token_id:
            raise TokensFileInvalid(
                f"tokens file {path}: tokens[{i}].id must be a non-empty string"
            )
        if role not in ROLES:
            raise TokensFileInvalid(
                f"tokens file {path}: tokens[{i}].role is {role!r}; expected one of "
                + ", ".join(ROLES)
            )
        if not isinstance(digest, str) or len(digest) != 64:
            raise TokensFileInvalid(f"tokens file {path}: tokens[{i}].sha256 must be 64 hex digits")
        approves_as = entry.get("approves_as", [])
        if not isinstance(approves_as, list) or not all(
            isinstance(r, str) and r for r in approves_as
        ):
            raise TokensFileInvalid(
                f"tokens file {path}: tokens[{i}].approves_as must be a list of role names"
            )
        entries.append(TokenEntry(token_id, str(role), digest.lower(), tuple(approves_as)))
    return entries


def add_token(path: Path, token_id: str, role: str, approves_as: tuple[str, ...] = ()) -> str:
    """Create a token for `token_id` with `role`, store only its hash, and return it (once)."""
    if role not in ROLES:
        raise UsageError(f"role {role!r} is not one of {', '.join(ROLES)}")
    entries = read_tokens(path)
    # One identity may hold one token per role (a person who both asks and approves).
    if any(e.id == token_id and e.role == role for e in entries):
        raise UsageError(f"tokens file {path} already has a {role} token for {token_id!r}")
    token = new_token()
    entries.append(TokenEntry(token_id, role, token_hash(token), approves_as))
    _write_tokens(path, entries)
    return token


def revoke_tokens(path: Path, token_id: str, role: str | None = None) -> list[TokenEntry]:
    """Remove the tokens of `token_id` (only its `role` token, if given); the entries removed.

    UsageError if there is none. A running service refuses them from its next request.
    """
    entries = read_tokens(path)
    removed = [e for e in entries if e.id == token_id and role in (None, e.role)]
    if not removed:
        which = f"{role} token" if role else "token"
        raise UsageError(f"tokens file {path} has no {which} for {token_id!r}")
    _write_tokens(path, [e for e in entries if e not in removed])
    return removed


def rotate_token(path: Path, token_id: str, role: str) -> str:
    """Replace the `role` token of `token_id` by a new one (same approval roles); the new token.

    The old token stops working from the service's next request. UsageError if there is none.
    """
    entries = read_tokens(path)
    found = [e for e in entries if e.id == token_id and e.role == role]
    if not found:
        raise UsageError(f"tokens file {path} has no {role} token for {token_id!r}")
    token = new_token()
    replaced = TokenEntry(token_id, role, token_hash(token), found[0].approves_as)
    _write_tokens(path, [replaced if e == found[0] else e for e in entries])
    return token


def _write_tokens(path: Path, entries: list[TokenEntry]) -> None:
    """Replace the tokens file atomically, mode 0600 in a directory created 0700."""
    document = {"tokens": [_as_json(e) for e in entries]}
    private_directory(path.parent)
    partial = path.with_suffix(".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(document, out, indent=2)
        out.write("\n")
    os.replace(partial, path)


def _as_json(entry: TokenEntry) -> dict[str, object]:
    document: dict[str, object] = {"id": entry.id, "role": entry.role, "sha256": entry.sha256}
    if entry.approves_as:
        document["approves_as"] = list(entry.approves_as)
    return document


_bearer = HTTPBearer(
    auto_error=False,
    description="A token from the tokens file; its role decides what it may do.",
)


def caller_with_role(
    table: TokenTable, token: str | None, roles: tuple[str, ...], *, sent_as: str, how: str
) -> Caller:
    """The holder of `token` when its role is one of `roles`.

    `sent_as` names where the token came from ("the bearer token", "metadata.token") and `how`
    says how to send one. Unauthorized when there is no token or it matches none, Forbidden
    for a token of another role; neither message holds the token.
    """
    if token is None:
        raise Unauthorized(f"a token is required: {how}")
    caller = table.caller(token)
    if caller is None:
        raise Unauthorized(f"{sent_as} matches no configured token")
    if caller.role not in roles:
        raise Forbidden(
            f"role {caller.role!r} of token {caller.id!r} may not do this; "
            f"it needs {' or '.join(repr(r) for r in roles)}"
        )
    return caller


def _caller(
    request: Request, credentials: HTTPAuthorizationCredentials | None, roles: tuple[str, ...]
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("a bearer token is required: send 'Authorization: Bearer <token>'")
    table: TokenTable = request.app.state.runtime.tokens
    return caller_with_role(
        table,
        credentials.credentials,
        roles,
        sent_as="the bearer token",
        how="send 'Authorization: Bearer <token>'",
    )


async def optional_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller | None:
    """The holder of the bearer token, whatever its role; None, never an error, when there is
    no token, another scheme, a token matching none, or a tokens file that cannot be read now.

    For an operation open to all (a Kubernetes probe sends no token) that tells a token's
    holder more than it tells anyone else."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        return None
    table: TokenTable = request.app.state.runtime.tokens
    try:
        return table.caller(credentials.credentials)
    except TokensFileInvalid:
        return None


def require_role(*roles: Role) -> Callable[..., Awaitable[Caller]]:
    """A dependency giving the caller when its token has one of `roles`; 401 or 403 otherwise.

    One dependency over the bearer scheme (which documents the security in OpenAPI): FastAPI
    solves each dependency on every request, so the chain is kept short. It is async because it
    never blocks: a sync one would cost a thread hop.
    """

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Caller:
        return _caller(request, credentials, roles)

    return dependency


GateCaller = Annotated[Caller, Depends(require_role("gate"))]
ApproverCaller = Annotated[Caller, Depends(require_role("approver"))]
ReaderCaller = Annotated[Caller, Depends(require_role("auditor", "admin"))]
AdminCaller = Annotated[Caller, Depends(require_role("admin"))]
ReporterCaller = Annotated[Caller, Depends(require_role("reporter"))]
AnyCaller = Annotated[
    Caller, Depends(require_role("gate", "approver", "reporter", "auditor", "admin"))
]
# Anyone; the holder of a valid token of any role is known.
MaybeCaller = Annotated[Caller | None, Depends(optional_caller)]
