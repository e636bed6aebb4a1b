"""The one place mlgate errors become HTTP statuses, and every error body a problem:
{"error": code, "message": text, "field"?: where}."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, get_args

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic_core.core_schema import ErrorType
from starlette.exceptions import HTTPException

from service.api.jsonbody import NameGivenTwice, loads
from service.api.private_paths import PrivatePaths
from service.errors import EvidenceUnreadable, MlgateError, UsageError, unconvertible
from service.schemas import dotted_path

log = logging.getLogger("mlgate.api")


class Unauthorized(MlgateError):
    """No bearer token, or one that matches no configured token hash."""

    code = "unauthorized"


class Forbidden(MlgateError):
    """A valid token whose role may not do this, or a sign-off its holder may not give."""

    code = "forbidden"


class TokensFileInvalid(MlgateError):
    """The tokens file is unreadable or malformed: a fault of the deployment, not the caller."""

    code = "tokens_file_invalid"


BODY_UNPARSED = "There was an error parsing the body"
STATUS_BY_CODE = {
    "unauthorized": 401,
    "forbidden": 403,
    "self_signoff": 403,
    "not_found": 404,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "invalid_request": 422,
    "evidence_unreadable": 422,
    # The files on disk do not compile: the reloading admin has something to fix, not the server.
    "policy_load_error": 422,
    "internal_error": 500,
    "policy_engine_unavailable": 503,
    "audit_write_failed": 503,
    "audit_key_missing": 503,
    "ledger_unreadable": 503,
    "registry_unavailable": 503,
    # Edited columns: the answer would be wrong, and retrying elsewhere will not help.
    "ledger_tampered": 500,
    "tokens_file_invalid": 503,
    "signoff_store_failed": 503,
}
# Codes for statuses Starlette raises itself (unknown path, wrong method, body too large).
CODE_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
}


def status_for(error: MlgateError) -> int:
    """By code; an unlisted code is the client's mistake (422) only if it is a usage error."""
    if error.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[error.code]
    return 422 if isinstance(error, UsageError | EvidenceUnreadable) else 500


def problem(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"error": code, "message": message}
    if field is not None:
        body["field"] = field
    body.update(extra)
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="mlgate"'
    if status >= 400:
        log.info(
            "request rejected",
            extra={"event": "request_rejected", "status": status, "error": code},
        )
    return JSONResponse(body, status_code=status, headers=headers)


def field_name(loc: Sequence[int | str]) -> str:
    """("body", "model", "name") -> "model.name", list indexes as [i]; the body itself: "body"."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie") and len(parts) > 1:
        parts = parts[1:]
    return dotted_path(parts) or "body"


# Pydantic error types whose value is one of a fixed set (ctx.expected lists it).
_ONE_OF = ("literal_error", "enum")
# Error types whose message says all there is: the value is absent, the whole body unreadable,
# or the message is one of mlgate's own validators (service/api/models.py), which quote the value.
_NOTHING_FOUND = ("missing", "extra_forbidden", "json_invalid", "value_error", "assertion_error")
# Pydantic's own error types. Any other is a PydanticCustomError of mlgate's validators, whose
# message quotes what it found itself: the value the validator ran on may be the whole object
# (a model validator's), which "found an object" would not describe.
_PYDANTIC_TYPES = frozenset(get_args(ErrorType))
MAX_SHOWN = 60
MISSING = "required property missing"


def validation_problem(error: Mapping[str, Any]) -> tuple[str, str]:
    """(field, problem) for one error of Pydantic's `ValidationError.errors()`
    (https://docs.pydantic.dev/latest/errors/validation_errors/): where, what was expected and,
    from the error's `input`, what was found: `target.stage`, "expected 'staging', 'canary' or
    'production'; found 'prod'"."""
    loc = error.get("loc", ())
    kind = error.get("type")
    if kind == "json_invalid":
        where = loc[1] if len(loc) > 1 else "?"
        reason = (error.get("ctx") or {}).get("error", "JSON decode error")
        return "body", f"the body is not valid JSON: {reason} (at character {where})"
    field = field_name(loc)
    message = str(error.get("msg", "invalid value"))
    if kind == "missing":
        message = MISSING
    elif kind == "extra_forbidden":
        message = "unknown property; remove it"
    elif field == "body" and kind in ("model_attributes_type", "dict_type"):
        message = "the body must be a JSON object sent as application/json"
    elif kind in _ONE_OF and "expected" in (error.get("ctx") or {}):
        message = f"expected {error['ctx']['expected']}"
    if (
        kind not in _NOTHING_FOUND
        and kind in _PYDANTIC_TYPES
        and "input" in error
        and "found" not in message
    ):
        message = f"{message}; found {found(error['input'])}"
    return field, message


def found(value: object) -> str:
    """A value of a JSON document (or a query parameter's text) as an error quotes it, with its
    JSON type where the text alone does not say it: 'prod', 7 (an integer), an array."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, int):
        return f"{value} (an integer)"
    if isinstance(value, float):
        return f"{value!r} (a number)"
    if isinstance(value, str):
        return (
            repr(value)
            if len(value) <= MAX_SHOWN
            else f"{value[:MAX_SHOWN]!r}… ({len(value)} characters)"
        )
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return f"a {type(value).__name__}"


async def _on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = [
        ("body", _not_json_sent(request)) if _is_unread_body(e) else validation_problem(e)
        for e in exc.errors()
    ]
    if any(
        e.get("type") == "missing" and field_name(e.get("loc", ())) == "body" for e in exc.errors()
    ):
        needs = _body_needs(request)
        problems = [(f, needs if (f, p) == ("body", MISSING) else p) for f, p in problems]
    field, message = problems[0]
    details = [{"field": f, "problem": p} for f, p in problems]
    return problem(422, "invalid_request", f"{field}: {message}", field=field, problems=details)


def _is_unread_body(error: Mapping[str, Any]) -> bool:
    """An error about a body FastAPI did not read as JSON: it hands the route the raw bytes
    when the Content-Type is not application/json (or +json), or is absent
    (fastapi/routing.py, get_request_handler)."""
    return field_name(error.get("loc", ())) == "body" and isinstance(error.get("input"), bytes)


def _not_json_sent(request: Request) -> str:
    """What a body sent without a JSON Content-Type needs, naming the type that was sent."""
    sent = request.headers.get("content-type")
    expected = "expected a JSON object sent with Content-Type: application/json"
    if not sent:
        return f"{expected}; found a body with no Content-Type header"
    found_type = f"{expected}; found Content-Type: {sent[:MAX_SHOWN]}"
    if sent.split(";", 1)[0].strip().lower() == "application/x-www-form-urlencoded":
        # What `curl -d` sends unless told otherwise.
        return f"{found_type} (curl -d sends that unless given -H 'Content-Type: application/json')"
    return found_type


def _body_needs(request: Request) -> str:
    """What a route given no body needs, from the OpenAPI document's requestBody schema of the
    route matched (Starlette puts it in scope["route"]): "no body was sent; send a JSON object
    with reason"."""
    route = request.scope.get("route")
    if isinstance(route, APIRoute):
        document = request.app.openapi()
        operation = document["paths"].get(route.path_format, {}).get(request.method.lower(), {})
        schema = (
            operation.get("requestBody", {})
            .get("content", {})
            .get("application/json", {})
            .get("schema", {})
        )
        if "$ref" in schema:
            schema = document["components"]["schemas"].get(schema["$ref"].rsplit("/", 1)[-1], {})
        required = schema.get("required", [])
        if required:
            return f"no body was sent; send a JSON object with {', '.join(required)}"
    return "no body was sent; send a JSON object"


def error_response(exc: MlgateError, private: PrivatePaths) -> JSONResponse:
    """`exc` as its status and problem body, its message naming none of the service's paths."""
    status = status_for(exc)
    if status >= 500:
        log.error("request failed", extra={"event": "request_failed", "error": exc.code})
    # A request the core calls a usage error is, over HTTP, an invalid request like any other.
    code = "invalid_request" if exc.code == UsageError.code else exc.code
    return problem(status, code, private.redact(exc.message), field=getattr(exc, "field", None))


def private_paths(request: Request) -> PrivatePaths:
    paths: PrivatePaths = request.app.state.runtime.private_paths
    return paths


async def _on_mlgate_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MlgateError)
    return error_response(exc, private_paths(request))


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and exc.detail == BODY_UNPARSED:
        # FastAPI's answer to a body jsonbody.loads fails on other than a syntax error.
        body = await request.body()
        try:
            why = _unparsed_why(body)
        except NameGivenTwice as twice:
            return error_response(twice, private_paths(request))
        message = f"body: the body is not valid JSON: {why}"
        return problem(422, "invalid_request", message, field="body")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    code = CODE_BY_STATUS.get(exc.status_code, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    message = {
        404: f"no such endpoint: {request.method} {request.url.path}",
        405: f"{request.method} is not allowed on {request.url.path}",
    }.get(exc.status_code, detail)
    return problem(exc.status_code, code, message, headers=headers)


def _unparsed_why(body: bytes) -> str:
    """Why jsonbody.loads failed other than on syntax (FastAPI does not say): parsed again.
    Raises NameGivenTwice for an object that gives a name twice."""
    try:
        loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return f"it is not UTF-8 text (byte 0x{body[exc.start]:02x} at {exc.start})"
    except RecursionError:
        return "it nests arrays or objects deeper than the parser allows"
    except json.JSONDecodeError as exc:
        return exc.msg
    except ValueError as exc:
        return unconvertible(exc)
    return "it could not be parsed"


def _allowed_methods(request: Request) -> list[str]:
    """Every method the OpenAPI document gives for this path: templates with different parameter
    names can share a path (GET /v1/decisions/{decision_id}, POST /v1/decisions/{gate}). A path
    is matched as the router matches it, by each documented route's own pattern, so a parameter
    whose segment has a form of its own (/v1/policies/{revision}, "sha256:...") does not claim
    /v1/policies/reload."""
    documented = request.app.openapi()["paths"]
    methods: set[str] = set()
    for route in request.app.routes:
        if not isinstance(route, APIRoute) or route.path_format not in documented:
            continue
        if route.path_regex.fullmatch(request.url.path):
            methods |= {m.upper() for m in documented[route.path_format]} & (route.methods or set())
    return sorted(methods)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", extra={"event": "request_failed", "error": "internal_error"})
    return problem(500, "internal_error", "the service failed unexpectedly; see its log")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(MlgateError, _on_mlgate_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
