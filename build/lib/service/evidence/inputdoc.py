"""Assembles the input document a gate policy sees from a request and its evidence."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.clock import now_rfc3339


def assemble(
    gate: str,
    evidence: Mapping[str, Any],
    *,
    caller: Mapping[str, str],
    target: Mapping[str, Any] | None = None,
    model: Mapping[str, Any] | None = None,
    requested_at: str | None = None,
) -> dict[str, Any]:
    """The input document; model identity defaults to the card's name, version and risk tier,
    and the artifact digest to the lineage's. The document is validated later, not here."""
    doc: dict[str, Any] = {
        "gate": gate,
        "requested_at": requested_at or now_rfc3339(),
        "caller": dict(caller),
        "model": {**model_from_evidence(evidence), **dict(model or {})},
    }
    if target is not None:
        doc["target"] = dict(target)
    doc.update(evidence)
    return doc


def model_from_evidence(evidence: Mapping[str, Any]) -> dict[str, Any]:
    """The model's identity as the card (name, version, risk tier) and the lineage (artifact
    digest) give it."""
    card = evidence.get("model_card")
    lineage = evidence.get("lineage")
    card = card if isinstance(card, Mapping) else {}
    lineage = lineage if isinstance(lineage, Mapping) else {}
    model: dict[str, Any] = {}
    for key in ("name", "version", "risk_tier"):
        if key in card:
            model[key] = str(card[key]) if key == "version" else card[key]
    if "artifact_digest" in lineage:
        model["artifact_digest"] = lineage["artifact_digest"]
    return model
