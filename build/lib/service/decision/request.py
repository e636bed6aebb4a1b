"""A question to a gate, as an entry point received it, and what a caller may not put in it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.errors import InvalidField
from service.evidence.base import RECORDED_ONLY, REQUEST
from service.modelname import check_model_name


class CallerMayNotAssert(InvalidField):
    """The request carries a part of the evidence only mlgate's own records may supply."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"evidence.{key}",
            f"a caller may not send {key}; they come only from {RECORDED_ONLY[key]}",
        )


@dataclass(frozen=True)
class GateRequest:
    """One question to a gate (picklable: it crosses to the decision workers).

    `evidence` holds the caller's documents by input-document key; `source` says where they
    came from (service/evidence/base.py). `trusted` is local CLI mode, whose operator holds the
    signing key: only then may the evidence carry approvals, waivers and history.
    `requested_at` is None for "now, by this service's clock". `registry`: read the model
    version's evidence from the model registry first. `enact`: after a durable decision, run
    the gate's effect (promotion: move the stage's alias to the version).
    """

    gate: str
    caller: Mapping[str, str]
    evidence: Mapping[str, Any]
    source: str = REQUEST
    target: Mapping[str, Any] | None = None
    model: Mapping[str, Any] | None = None
    requested_at: str | None = None
    trusted: bool = False
    registry: bool = False
    enact: bool = False
    # Why a rollback is asked: {kind: manual|monitoring, reason, decision_id, requested_version}.
    trigger: Mapping[str, Any] | None = None

    def refuse_lookalike_name(self) -> None:
        """Raise InvalidField unless the model's name is in the one form (service/modelname.py):
        the request's `model.name`, or, when the request names no model, the model card's
        `name`, which the input document then takes as the model's. A card without a name is
        judged, not refused (the schema check denies naming it)."""
        if self.model is not None and "name" in self.model:
            check_model_name("model.name", self.model["name"])
            return
        card = self.evidence.get("model_card")
        if isinstance(card, Mapping) and "name" in card:
            where = "evidence.model_card.name" if self.source == REQUEST else "model_card.name"
            check_model_name(where, card["name"])

    def refuse_recorded_only(self) -> None:
        """Raise CallerMayNotAssert unless the request is trusted or carries none of the parts
        only mlgate's own records supply (approvals, waivers, history, ...)."""
        if self.trusted:
            return
        for key in RECORDED_ONLY:
            if key in self.evidence:
                raise CallerMayNotAssert(key)
