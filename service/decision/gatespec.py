"""What the decision path needs to know of a gate, handed to it as a spec: the path itself
names no gate (as sigstore-python's verifier is handed a VerificationPolicy and knows no
identity rule). Adding a gate is one spec (service/gates/), one Rego package
(policies/<gate>/, entrypoint data.mlgate.<gate>.decision) and one data file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from service.decision.model import AuditReceipt, Decision, Enactment
from service.decision.request import GateRequest
from service.errors import InvalidField, NotFound
from service.evidence.context import EvidenceContext
from service.evidence.gathered import EvidenceSource

# The parts of the input document that are evidence; each gets its own digest in the record.
EVIDENCE_KEYS = (
    "model_card",
    "metrics",
    "baseline",
    "lineage",
    "snapshots",
    "history",
    "approvals",
    "waivers",
    "withdrawn_waivers",
)


class FollowUp(Protocol):
    """The request for another gate that a decision triggers when its request asks to enact
    (monitoring's rollback outcome asks the rollback gate), or None. The pipeline runs it
    through the same path, after this decision is durably recorded."""

    def __call__(self, decision: Decision, request: GateRequest) -> GateRequest | None: ...


class Effect(Protocol):
    """What a gate does after its decision is durably recorded, when the request asks
    (`enact`): e.g. move the stage's alias to the version. It returns what it did; a failed
    effect is recorded as such and said in the answer; only a failure to record it raises
    (AuditWriteFailed)."""

    def __call__(
        self,
        decision: Decision,
        receipt: AuditReceipt,
        context: EvidenceContext,
        config: Mapping[str, Any],
    ) -> Enactment: ...


@dataclass(frozen=True)
class GateSpec:
    """One gate: `name` (its Rego package is mlgate.<name>), its evidence `sources` read in
    order after the request's own documents, the `input_schema` the input must match, the
    `evidence_keys` each digested in the record, whether a request needs a `target` and a
    `model` naming its version, whether it `reads_evidence` the caller sends (or the registry
    holds; otherwise every part comes from mlgate's own records), and the `effect` run after a
    durable decision (None: the gate enacts nothing), and the `follow_up`: another gate's
    request an enacted decision triggers."""

    name: str
    sources: tuple[EvidenceSource, ...]
    summary: str
    input_schema: str = "gate_input"
    evidence_keys: tuple[str, ...] = EVIDENCE_KEYS
    needs_target: bool = False
    needs_version: bool = False
    needs_reason: bool = False  # a request must say why (trigger.reason), unless a decision did
    reads_evidence: bool = True
    effect: Effect | None = None
    follow_up: FollowUp | None = None
    # How people's renderings name the stage: "promotion of m v7 to production",
    # "monitoring of m v7 at canary".
    stage_preposition: str = "to"

    def check(self, request: GateRequest) -> None:
        """Refuse a request this gate cannot judge (InvalidField naming the field)."""
        if self.needs_target and not (request.target or {}).get("stage"):
            raise InvalidField("target", f'the {self.name} gate needs {{"stage": ...}}')
        if self.needs_version:
            for field in ("name", "version"):
                if not isinstance((request.model or {}).get(field), str):
                    raise InvalidField(
                        f"model.{field}", f"the {self.name} gate needs the model's {field}"
                    )
        trigger = request.trigger or {}
        if trigger and not self.needs_reason:
            raise InvalidField("reason", f"the {self.name} gate takes no reason nor target")
        if self.needs_reason and not trigger.get("decision_id"):
            reason = trigger.get("reason")
            if not isinstance(reason, str) or not reason.strip():
                raise InvalidField("reason", f"the {self.name} gate needs a reason, in words")
        if request.enact and self.effect is None and self.follow_up is None:
            raise InvalidField("enact", f"the {self.name} gate has nothing to enact")
        request.refuse_lookalike_name()
        request.refuse_recorded_only()
        if not self.reads_evidence and request.evidence and not request.trusted:
            raise InvalidField(
                "evidence",
                f"the {self.name} gate reads no evidence from a request: everything it judges "
                "comes from mlgate's own records",
            )


class GateRegistry(Mapping[str, GateSpec]):
    """The gates this service answers, by name; handed to the API, the CLI, the judge and
    the policy checks."""

    def __init__(self, *specs: GateSpec) -> None:
        self._specs = {spec.name: spec for spec in specs}

    def __getitem__(self, name: str) -> GateSpec:
        return self._specs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def spec(self, name: object) -> GateSpec:
        """The spec of gate `name`; NotFound naming the gates there are."""
        if not isinstance(name, str) or name not in self._specs:
            raise NotFound(f"no gate {name!r}; the gates are {', '.join(self._specs)}")
        return self._specs[name]
