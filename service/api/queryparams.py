"""Query parameters an endpoint takes: any other, or one given twice, is a 422 naming it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Depends, Request
from starlette.datastructures import QueryParams

from service.api.models import problem_example
from service.errors import InvalidField


def only_query(*names: str) -> Any:
    """A dependency refusing query parameters other than `names`, and any of them given twice:
    a misspelt filter must not quietly widen an audit query to every record, nor a repeated
    one quietly keep only its last value (each takes one)."""

    async def check(request: Request) -> None:
        problem = unexpected_query(request.query_params, names)
        if problem is not None:
            raise problem

    return Depends(check)


def unexpected_query(params: QueryParams, names: Sequence[str]) -> InvalidField | None:
    """The first parameter of `params` not among `names` or given twice, as the InvalidField
    naming it; None when there is none."""
    for name in params:
        if name not in names:
            expected = f"expected one of: {', '.join(names)}" if names else "it takes none"
            return InvalidField(name, f"unknown query parameter; {expected}")
        if len(params.getlist(name)) > 1:
            return InvalidField(name, "given more than once; it takes one value")
    return None


def known_gate(gates: Iterable[str], gate: str | None) -> str | None:
    """The `gate` filter of a listing, if it is one of `gates`; InvalidField naming `gate` and
    the gates there are otherwise: a misspelt gate would match no record, which reads as "no
    decision was made"."""
    names = sorted(gates)
    if gate is None or gate in names:
        return gate
    raise InvalidField("gate", f"expected one of {', '.join(names)}; found {gate!r}")


# The 422 an endpoint taking no query parameters documents.
UNKNOWN_QUERY: dict[int | str, Any] = {
    422: problem_example(
        422, "invalid_request", "modle: unknown query parameter; it takes none", "modle"
    )
}
