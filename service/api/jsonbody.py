"""Request bodies read as JSON in which no object gives a name twice.

RFC 8259 section 4 (https://www.rfc-editor.org/rfc/rfc8259#section-4): the names within an
object SHOULD be unique, and when they are not "the behavior of software that receives such an
object is unpredictable": Python's json keeps the last value, other parsers the first or both.
A body like `{"target": {"stage": "staging", "stage": "production"}}` would mean one thing to
the gate and another to a proxy or a pipeline's own check, so every JSON body the API reads is
refused with the name given twice (422).

The check is json's `object_pairs_hook` (https://docs.python.org/3/library/json.html#json.load):
one call per object, about 7 microseconds on a 3 KB decision request (12 -> 19 us). The path to
the name is worked out only once a name is known to be repeated, by a second parse.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.types import Message, Receive

from service.errors import InvalidField
from service.schemas import dotted_path


class NameGivenTwice(InvalidField):
    """An object in the body gives one name twice; `field` is the path to that name."""

    def __init__(self, field: str) -> None:
        super().__init__(
            field,
            "given twice in one JSON object; give each name once (RFC 8259 section 4: "
            "receivers disagree on which value counts)",
        )


def loads(body: bytes | str) -> Any:
    """The JSON document in `body` (bytes in UTF-8, -16 or -32, as json.loads reads them).

    Raises json.JSONDecodeError (a ValueError) for text that is not JSON, UnicodeDecodeError
    for bytes that are not text, RecursionError for nesting deeper than the interpreter allows,
    and NameGivenTwice for an object that gives a name twice.
    """
    text = (
        body.decode(json.detect_encoding(body), "surrogatepass")
        if isinstance(body, bytes)
        else body
    )
    try:
        return _UNIQUE.decode(text)
    except _Repeated:
        raise NameGivenTwice(_where_repeated(text)) from None


class _Repeated(Exception):
    """Raised by the hook to stop the parse at the first repeated name."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise _Repeated
    return document


class _Repeats(dict[str, Any]):
    """An object that gave `name` twice (its last value kept), found by the second parse."""

    name = ""


def _marking(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) == len(pairs):
        return document
    repeats = _Repeats(document)
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            repeats.name = name
            break
        seen.add(name)
    return repeats


def _where_repeated(text: str) -> str:
    """The dotted path to the first repeated name of `text`, in document order."""
    stack: list[tuple[list[int | str], Any]] = [([], _MARKING.decode(text))]
    while stack:
        path, node = stack.pop()
        if isinstance(node, _Repeats):
            return dotted_path([*path, node.name])
        children = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else ()
        )
        # Pushed in reverse, so the first child is looked at first.
        stack.extend(([*path, key], child) for key, child in reversed(list(children)))
    return "body"


_UNIQUE = json.JSONDecoder(object_pairs_hook=_unique)
_MARKING = json.JSONDecoder(object_pairs_hook=_marking)


class UniqueNamesRequest(Request):
    """A request whose `json()` is `loads`: FastAPI parses a JSON body through it."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads(await self.body())
        return self._json


class UniqueNamesRoute(APIRoute):
    """A route whose body is read by UniqueNamesRequest (FastAPI's custom request class recipe:
    https://fastapi.tiangolo.com/how-to/custom-request-and-route/). FastAPI answers a body whose
    parse raised other than a syntax error with a 400; service/api/errors.py parses it again
    with `loads` to say why, NameGivenTwice included."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def unique_names(request: Request) -> Response:
            # Read here, so that the request the error handlers are given holds the body too.
            body = await request.body()
            return await handler(UniqueNamesRequest(request.scope, _replayed(body, request)))

        return unique_names


def _replayed(body: bytes, request: Request) -> Receive:
    """A receive that gives `body` (already read from `request`), then the request's own."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        return pending.pop() if pending else await request.receive()

    return receive
