"""Asks a remote mlgate service for a decision (`mlgate decide --url`), with the CLI's errors."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
from pydantic import ValidationError

from service.audit.recorded import Recorded
from service.decision.model import DecisionAnswer
from service.errors import (
    AuditWriteFailed,
    EvidenceUnreadable,
    MlgateError,
    PolicyEngineUnavailable,
    UsageError,
)
from service.review.catalogue import ReportCatalogue, served_catalogue

TIMEOUT_SECONDS = 30.0


class ServiceUnreachable(MlgateError):
    """Nothing answered at --url: a down service, a wrong URL, the network (exit 7)."""

    code = "service_unreachable"


class NotAuthorized(MlgateError):
    """The service refused the token: missing, wrong, or without the role (401, 403; exit 8)."""

    code = "not_authorized"


_AUDIT_CODES = {"audit_write_failed", "audit_key_missing"}


def request_decision(
    url: str,
    token: str,
    gate: str,
    body: Mapping[str, Any],
    *,
    transport: httpx.BaseTransport | None = None,
) -> DecisionAnswer:
    """POST `body` (a decision request: evidence, model, target, enact) to
    <url>/v1/decisions/<gate>; the caller is whoever the token names.

    Refusals of the request (4xx) raise UsageError or EvidenceUnreadable, a refused token
    NotAuthorized, an unreachable service ServiceUnreachable, a failing one
    PolicyEngineUnavailable, and a decision it could not record AuditWriteFailed.
    """
    endpoint, response = _send(url, f"/v1/decisions/{gate}", token, body, transport)
    if response.status_code != 200:
        raise _error(endpoint, response)
    try:
        return DecisionAnswer.model_validate(response.json())
    except (ValueError, ValidationError) as exc:
        raise PolicyEngineUnavailable(
            f"{endpoint} answered 200 with something that is not a decision: {exc}"
        ) from None


def post_snapshot(
    url: str,
    token: str,
    document: Mapping[str, Any],
    *,
    transport: httpx.BaseTransport | None = None,
) -> Recorded:
    """POST one metric snapshot to <url>/v1/snapshots as the reporter the token names; the
    stored snapshot, `created` False when the service had it already (200, not 201). Errors as
    request_decision's."""
    endpoint, response = _send(url, "/v1/snapshots", token, document, transport)
    if response.status_code not in (200, 201):
        raise _error(endpoint, response, role="reporter")
    stored: dict[str, Any] = response.json()
    return Recorded(stored, created=response.status_code == 201)


def get_json(
    url: str, path: str, token: str, *, transport: httpx.BaseTransport | None = None
) -> Any:
    """GET <url><path> as the auditor the token names: the JSON answer. Errors as
    request_decision's (a refused token NotAuthorized, nothing there ServiceUnreachable)."""
    endpoint, response = _send(url, path, token, None, transport)
    if response.status_code != 200:
        raise _error(endpoint, response, role="auditor")
    return response.json()


def get_lines(
    url: str, path: str, token: str, *, transport: httpx.BaseTransport | None = None
) -> Iterator[bytes]:
    """GET <url><path> (JSON lines) as the auditor the token names, streamed: each line's bytes
    exactly as sent, without the newline. Errors as get_json's, raised while iterating."""
    endpoint = _endpoint(url, path)
    try:
        with (
            httpx.Client(timeout=TIMEOUT_SECONDS, transport=transport) as client,
            client.stream("GET", endpoint, headers=_headers(token)) as response,
        ):
            if response.status_code != 200:
                response.read()
                raise _error(endpoint, response, role="auditor")
            pending = b""
            for chunk in response.iter_bytes():
                *lines, pending = (pending + chunk).split(b"\n")
                yield from lines
            if pending:
                yield pending
    except httpx.HTTPError as exc:
        raise _unreachable(url, exc) from None


def _endpoint(url: str, path: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--url must be an http:// or https:// URL; found {url!r}")
    return f"{url.rstrip('/')}{path}"


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def request_catalogue(
    url: str, token: str, *, transport: httpx.BaseTransport | None = None
) -> ReportCatalogue:
    """The rule catalogue the service at `url` decides by (GET <url>/v1/policies, any role).
    Errors as request_decision's; PolicyEngineUnavailable if the answer is no catalogue."""
    endpoint, response = _send(url, "/v1/policies", token, None, transport)
    if response.status_code != 200:
        raise _error(endpoint, response)
    try:
        document = response.json()
    except ValueError:
        document = None
    return served_catalogue(document, f"GET {endpoint}")


def _send(
    url: str,
    path: str,
    token: str,
    body: Mapping[str, Any] | None,
    transport: httpx.BaseTransport | None,
) -> tuple[str, httpx.Response]:
    """POST `body` as JSON (GET when it is None) to `url` + `path` with the bearer `token`:
    (endpoint, response). UsageError for a URL that is not http(s), ServiceUnreachable when
    nothing answers."""
    endpoint = _endpoint(url, path)
    headers = {"Accept": "application/json", **_headers(token)}
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS, transport=transport) as client:
            if body is None:
                return endpoint, client.get(endpoint, headers=headers)
            content = json.dumps(body, default=_json_default).encode()
            headers["Content-Type"] = "application/json"
            return endpoint, client.post(endpoint, content=content, headers=headers)
    except httpx.HTTPError as exc:
        raise _unreachable(url, exc) from None


def _unreachable(url: str, exc: Exception) -> ServiceUnreachable:
    return ServiceUnreachable(
        f"cannot reach the mlgate service at {url} ({type(exc).__name__}: {exc}); check "
        "--url or MLGATE_URL and that the service is running"
    )


def _json_default(value: Any) -> Any:
    # YAML evidence files may hold bare dates; the service receives them as ISO 8601 strings.
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise UsageError(f"evidence holds a {type(value).__name__}, which JSON cannot carry")


def _error(endpoint: str, response: httpx.Response, role: str = "gate") -> MlgateError:
    status = response.status_code
    code, message, field = _problem(response)
    said = f"{endpoint} answered {status} {code}: {message}"
    if status == 401:
        return NotAuthorized(f"{said}. Set MLGATE_TOKEN to a token with the {role!r} role")
    if status == 403:
        return NotAuthorized(f"{said}. The token needs the {role!r} role")
    if status < 500:
        if field is not None and field.startswith("evidence"):
            return EvidenceUnreadable(said)
        return UsageError(said)
    if code in _AUDIT_CODES:
        return AuditWriteFailed(said)
    return PolicyEngineUnavailable(said)


def _problem(response: httpx.Response) -> tuple[str, str, str | None]:
    """The problem body's code, message and field, or what there is of them."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        field = body.get("field")
        return (
            str(body.get("error", "error")),
            body["message"],
            field if isinstance(field, str) else None,
        )
    text = response.text.strip()[:300] or response.reason_phrase
    return "error", text, None
