"""POST /v1/decisions/{gate} served without the framework's per-request work, when it needs none.

Routing, dependency solving and the exception middleware took about a third of the event loop's
CPU per decision (1.64 ms through the route, 1.09 ms here: bench/http.py --route-only). A
request with a known gate, a `gate` token and a body that parses and validates is answered
here, by the same code the FastAPI route runs (service/api/decisions.py). Anything else (every
mistake a client can make) goes on to that route with its body intact, so it is refused exactly
as before, and the OpenAPI document, which describes the route, stays true.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.decisions import answer
from service.api.errors import error_response
from service.api.jsonbody import NameGivenTwice, loads
from service.api.models import DecisionRequest
from service.api.runtime import Runtime
from service.decision.model import Caller
from service.errors import MlgateError

PREFIX = "/v1/decisions/"
_JSON = (b"content-type", b"application/json")


class DecisionFastPath:
    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        gate = _gate(scope, self.runtime)
        # The first of repeated headers counts, as in the route (Starlette's Headers.get).
        headers = dict(reversed(scope["headers"])) if gate else {}
        caller = self._caller(headers)
        if gate is None or caller is None or not _sized_json(headers):
            await self.app(scope, receive, send)
            return
        body, rest = await _read_body(receive)
        request = _parsed(body) if rest is None else None
        if request is None:
            await self.app(scope, _replay(body, rest, receive), send)
            return
        try:
            payload = await answer(self.runtime, gate, request, caller, started)
        except MlgateError as exc:
            await error_response(exc, self.runtime.private_paths)(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [_JSON, (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    def _caller(self, headers: dict[bytes, bytes]) -> Caller | None:
        """The caller of a valid `gate` token; None for anything the route must judge (a
        tokens file that cannot be read included: the route answers that as it should)."""
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            caller = self.runtime.tokens.caller(token)
        except MlgateError:
            return None
        return caller if caller is not None and caller.role == "gate" else None


def _gate(scope: Scope, runtime: Runtime) -> str | None:
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    path: str = scope["path"]
    gate = path[len(PREFIX) :] if path.startswith(PREFIX) else None
    return gate if gate in runtime.gates else None


def _sized_json(headers: dict[bytes, bytes]) -> bool:
    """A JSON body of declared length (BodyLimit has refused one over the limit already)."""
    media_type = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
    return media_type == b"application/json" and b"content-length" in headers


async def _read_body(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole body, or what came of it and the message that ended it early (a disconnect)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _parsed(body: bytes) -> DecisionRequest | None:
    """The request as the route would parse it (jsonbody.loads, then the model), or None."""
    try:
        document: Any = loads(body)
        return DecisionRequest.model_validate(document)
    # ValidationError and JSONDecodeError are ValueErrors; NameGivenTwice is the route's to say.
    except (ValueError, RecursionError, NameGivenTwice):
        return None


def _replay(body: bytes, rest: Message | None, receive: Receive) -> Receive:
    """A receive that gives the body already read, then what ended it, then the real receive."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": rest is not None}]
    if rest is not None:
        pending.append(rest)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
