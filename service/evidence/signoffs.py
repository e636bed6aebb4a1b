"""Evidence from the sign-off records: approvals and waivers given for a model version."""

from __future__ import annotations

from typing import Any

from service.signoffs.book import SignoffBook


def recorded_signoffs(book: SignoffBook, model: str, version: str) -> dict[str, list[Any]]:
    """{"approvals": [...], "waivers": [...]} recorded for this version, oldest first; each
    names its artifact digest, its record's id and seq. Reads only."""
    return {
        "approvals": book.approvals_for(model, version),
        "waivers": book.waivers_for(model, version),
    }
