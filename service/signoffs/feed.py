"""Adds recorded sign-off to an input document, and notes who asked for a promotion."""

from __future__ import annotations

from typing import Any

from service.signoffs.store import SignoffStore


def add_signoffs(input_doc: dict[str, Any], store: SignoffStore) -> dict[str, Any]:
    """Recorded approvals and waivers for the document's model version go after inline ones.

    A promotion's caller is remembered first, so they can never sign off what they asked for.
    Inline lists that are not lists are left alone: the schema check denies on them.
    """
    model = input_doc.get("model")
    name = model.get("name") if isinstance(model, dict) else None
    version = model.get("version") if isinstance(model, dict) else None
    if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
        return input_doc
    caller = input_doc.get("caller") or {}
    if input_doc.get("gate") == "promotion" and isinstance(caller.get("id"), str):
        store.note_request(name, version, caller["id"])
    for key, recorded in (
        ("approvals", store.approvals_for(name, version)),
        ("waivers", store.waivers_for(name, version)),
    ):
        inline = input_doc.get(key, [])
        if recorded and isinstance(inline, list):
            input_doc[key] = [*inline, *recorded]
    return input_doc
