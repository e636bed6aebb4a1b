"""Query parameters an endpoint takes: any other, or one given twice, is a 422 naming it."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request

from service.api.models import problem_example
from service.errors import InvalidField


def only_query(*names: str) -> Any:
    """A dependency refusing query parameters other than `names`, and any of them given twice:
    a misspelt filter must not quietly widen an audit query to every record, nor a repeated
    one quietly keep only its last value (each takes one)."""

    async def check(request: Request) -> None:
        for name in request.query_params:
            if name not in names:
                expected = f"expected one of: {', '.join(names)}" if names else "it takes none"
                raise InvalidField(name, f"unknown query parameter; {expected}")
            if len(request.query_params.getlist(name)) > 1:
                raise InvalidField(name, "given more than once; it takes one value")

    return Depends(check)


# The 422 an endpoint taking no query parameters documents.
UNKNOWN_QUERY: dict[int | str, Any] = {
    422: problem_example(
        422, "invalid_request", "modle: unknown query parameter; it takes none", "modle"
    )
}
