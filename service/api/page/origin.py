"""The review page's guard against cross-site requests: the only requests that change state
(sign-in, sign-out) must come from a page of this site. The session cookie is SameSite=Strict
too; this check also refuses a forged sign-in (login CSRF), which carries no cookie at all.

As OWASP's CSRF cheat sheet advises ("Verifying Origin With Standard Headers",
https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html):
the Origin header is compared with this site's own origin, the Referer's origin when a browser
sent no Origin, and a request carrying neither is refused.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request


def own_origin(request: Request) -> str:
    """scheme://host[:port] of this site as the request reached it."""
    return f"{request.url.scheme}://{request.url.netloc}"


def cross_site_problem(request: Request) -> str | None:
    """Why `request` may not change state here (it came from another site, or says nowhere
    where it came from), or None when it came from this site."""
    expected = own_origin(request)
    origin = request.headers.get("origin")
    if origin is not None:
        if origin == expected:
            return None
        return f"the form was sent from {origin!r}, not from this site ({expected})"
    referer = request.headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        came_from = f"{parts.scheme}://{parts.netloc}"
        if came_from == expected:
            return None
        return f"the form was sent from {came_from!r}, not from this site ({expected})"
    return (
        "the request says neither where it came from (no Origin header) nor which page sent it "
        "(no Referer header); sign in from the sign-in page of this site"
    )
