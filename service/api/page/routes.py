"""The read-only review page under /review: server-rendered HTML (Jinja2) for compliance
reviewers, after one sign-in with an auditor's (or admin's) token into a session cookie.

A browser cannot send a bearer header, so the token is posted once to the sign-in form and the
answer sets a cookie holding an opaque session id (sessions.py): HttpOnly, SameSite=Strict,
Secure when the request came over TLS, expiring with the session. Sign-in and sign-out, the only
requests that change anything, are refused from another site (origin.py). Every page is a GET
that reads; without a session it redirects to the sign-in form. The JSON API and its bearer
tokens are unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from service.api.auth import caller_with_role, token_hash
from service.api.errors import private_paths, status_for
from service.api.jsonbody import UniqueNamesRoute
from service.api.page import views
from service.api.page.origin import cross_site_problem
from service.api.page.sessions import COOKIE, READER_ROLES, Session, SessionTable
from service.api.runtime import Runtime
from service.decision.model import Caller
from service.errors import MlgateError

PREFIX = "/review"
SIGN_IN = f"{PREFIX}/sign-in"
STATIC = f"{PREFIX}/static"
TEMPLATES = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
# A sign-in form is a few hundred bytes; anything larger is not one.
MAX_FORM_BYTES = 8 * 1024
# Only this site's own pages, and nothing a browser would read as another host ("//", "\\").
_SAFE_NEXT_START = (PREFIX + "/", PREFIX + "?")
# The page loads its own stylesheet and nothing else: no script, no frame, no other origin.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

log = logging.getLogger("mlgate.api")
router = APIRouter(route_class=UniqueNamesRoute, prefix=PREFIX, include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES)
templates.env.filters["short"] = lambda digest: str(digest).split(":")[-1][:12]
templates.env.globals["PREFIX"] = PREFIX


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _sessions(request: Request) -> SessionTable:
    table: SessionTable = request.app.state.review_sessions
    return table


def _session(request: Request) -> Session | None:
    return _sessions(request).current(request.cookies.get(COOKIE))


def _render(
    request: Request,
    template: str,
    session: Session | None,
    status: int = 200,
    **context: Any,
) -> Response:
    response = templates.TemplateResponse(
        request,
        template,
        {
            "caller": session.caller if session else None,
            # error messages pass through it: the page names none of the service's paths
            "private": request.app.state.runtime.private_paths,
            **context,
        },
        status_code=status,
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def _error(request: Request, session: Session | None, exc: MlgateError) -> Response:
    """An error as a page: the tampered-ledger error flagged as such, the rest by status."""
    return _render(request, "error.html", session, status_for(exc), error=exc)


def _to_sign_in(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse(f"{SIGN_IN}?{urlencode({'next': target})}", status_code=303)
    response.headers.update(SECURITY_HEADERS)
    return response


def _safe_next(value: str | None) -> str:
    """Where to go after signing in: a path of this page, else the decisions list."""
    if value and (value == PREFIX or value.startswith(_SAFE_NEXT_START)) and "\\" not in value:
        return value
    return PREFIX


@router.get("/sign-in")
def sign_in_form(request: Request, next: str | None = None) -> Response:
    session = _session(request)
    if session is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _render(request, "sign_in.html", None, next=_safe_next(next))


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    """Open a session for the token posted in the form (field `token`), if its role reads
    the audit trail (auditor, admin); 401 for a token that matches none, 403 for another role,
    403 for a form sent from another site, 422 for a form that is not one."""
    problem = cross_site_problem(request)
    if problem is not None:
        return _render(request, "sign_in.html", None, 403, next=PREFIX, problem=problem)
    form = await _form(request) or {}
    target = _safe_next(form.get("next"))
    if not form.get("token"):
        what = "a form (application/x-www-form-urlencoded) with a token field"
        return _render(request, "sign_in.html", None, 422, next=target, problem=f"expected {what}")
    token = form["token"].strip()
    try:
        caller = caller_with_role(
            _runtime(request).tokens,
            token,
            READER_ROLES,
            sent_as="the token",
            how="paste an auditor's token",
        )
    except MlgateError as exc:
        log.info(
            "review page sign-in refused",
            extra={"event": "review_sign_in_refused", "error": exc.code},
        )
        page = _render(
            request,
            "sign_in.html",
            None,
            status_for(exc),
            next=target,
            problem=private_paths(request).redact(exc.message),
        )
        if page.status_code == 401:  # RFC 9110 15.5.2: a 401 names how to authenticate
            page.headers["WWW-Authenticate"] = 'Bearer realm="mlgate"'
        return page
    session_id, _ = _sessions(request).open(caller, token_hash(token))
    log.info(
        "review page sign-in",
        extra={"event": "review_sign_in", "caller": caller.id, "role": caller.role},
    )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=int(_sessions(request).lifetime_seconds),
        path=PREFIX,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    response.headers.update(SECURITY_HEADERS)
    return response


async def _form(request: Request) -> dict[str, str] | None:
    """The urlencoded form's fields (the first value of each), or None if it is not one."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return None
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return None
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        return None
    return {name: values[0] for name, values in fields.items() if values}


@router.post("/sign-out")
def sign_out(request: Request) -> Response:
    problem = cross_site_problem(request)
    session = _session(request)
    if problem is not None:
        return _render(request, "error.html", session, 403, problem=problem)
    _sessions(request).close(request.cookies.get(COOKIE))
    response = RedirectResponse(SIGN_IN, status_code=303)
    response.delete_cookie(
        COOKIE,
        path=PREFIX,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    response.headers.update(SECURITY_HEADERS)
    return response


@router.get("")
def decisions(request: Request) -> Response:
    session = _session(request)
    if session is None:
        return _to_sign_in(request)
    listing = views.decision_list(_runtime(request), session.caller, request.query_params)
    status = 200 if listing.error is None else status_for(listing.error)
    given = {k: v for k, v in listing.filters.items() if v}
    older = (
        f"{PREFIX}?{urlencode({**given, 'before': listing.next_before})}"
        if listing.next_before
        else None
    )
    return _render(request, "decisions.html", session, status, listing=listing, older=older)


def _read_page(
    request: Request, template: str, read: Callable[[Runtime, Caller], dict[str, Any]]
) -> Response:
    """`template` rendered with what `read` gives for the signed-in caller; the sign-in form
    without a session, an error page for what reading raises."""
    session = _session(request)
    if session is None:
        return _to_sign_in(request)
    try:
        context = read(_runtime(request), session.caller)
    except MlgateError as exc:
        return _error(request, session, exc)
    return _render(request, template, session, **context)


@router.get("/decisions/{decision_id}")
def decision(request: Request, decision_id: str) -> Response:
    return _read_page(
        request,
        "decision.html",
        lambda runtime, caller: {"view": views.decision_view(runtime, caller, decision_id)},
    )


@router.get("/verify")
def chain(request: Request) -> Response:
    return _read_page(
        request,
        "verify.html",
        lambda runtime, caller: {"result": views.verification(runtime, caller)},
    )


@router.get("/models/{name}")
def model(request: Request, name: str) -> Response:
    return _read_page(
        request,
        "model.html",
        lambda runtime, caller: {"view": views.model_view(runtime, caller, name)},
    )


@router.get("/revisions/{revision}")
def revision(request: Request, revision: str) -> Response:
    def read(runtime: Runtime, caller: Caller) -> dict[str, Any]:
        kept = views.revision_files(runtime, caller, revision, None)
        in_force = runtime.policy_set.revision == kept.revision
        return {"kept": kept, "in_force": in_force, "quote": quote}

    return _read_page(request, "revision.html", read)


@router.get("/revisions/{revision}/files/{path:path}")
def revision_file(request: Request, revision: str, path: str) -> Response:
    def read(runtime: Runtime, caller: Caller) -> dict[str, Any]:
        kept = views.revision_files(runtime, caller, revision, path)
        return {"kept": kept, "file": kept.files[0]}

    return _read_page(request, "policy_file.html", read)


@router.get("/policies")
def policies(request: Request) -> Response:
    """The revision in force: its kept files."""
    session = _session(request)
    if session is None:
        return _to_sign_in(request)
    revision = _runtime(request).policy_set.revision
    return RedirectResponse(f"{PREFIX}/revisions/{revision}", status_code=303)
