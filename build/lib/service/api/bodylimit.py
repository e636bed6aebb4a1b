"""Refuses request bodies over the configured size with 413, before they are read into memory."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import problem


class BodyLimit:
    """Checks Content-Length up front, and counts the bytes of bodies sent without one."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                size = -1
            if size < 0:
                response = problem(400, "bad_request", "Content-Length is not a byte count")
                await response(scope, receive, send)
                return
            if size > self.max_bytes:
                await self._too_large(size)(scope, receive, send)
                return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI re-raises an HTTPException from body reading as it is.
                    raise HTTPException(413, self._message(received, at_least=True))
            return message

        await self.app(scope, counted, send)

    def _message(self, size: int, *, at_least: bool = False) -> str:
        amount = f"at least {size}" if at_least else str(size)
        return f"the request body is {amount} bytes; the limit is {self.max_bytes} bytes"

    def _too_large(self, size: int) -> ASGIApp:
        return problem(413, "payload_too_large", self._message(size))
