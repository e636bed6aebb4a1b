"""The answer to a request that records something: 201 Created with the record this request
wrote, or 200 with the record an identical earlier request left, when nothing was written now
(a client retrying after a lost answer gets success, and can tell that nothing is new)."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel

from service.audit.recorded import Recorded

CREATED = 201
KEPT_ALREADY = 200


def answered(recorded: Recorded, response: Response) -> dict[str, Any]:
    """The record's content, with the status set to 200 when this request wrote nothing (the
    route's own status, 201, stands otherwise)."""
    if not recorded.created:
        response.status_code = KEPT_ALREADY
    return recorded.content


def kept_already(what: str, model: type[BaseModel] | None = None) -> dict[int | str, Any]:
    """The OpenAPI entry of the 200 answer to a repeated request: `what` was recorded by an
    identical request before, and is the answer; nothing new is recorded."""
    entry: dict[str, Any] = {
        "description": f"Nothing new was recorded: {what} is the answer, as kept."
    }
    if model is None:
        entry["content"] = {
            "application/json": {"schema": {"type": "object", "additionalProperties": True}}
        }
    else:
        entry["model"] = model
    return {KEPT_ALREADY: entry}
