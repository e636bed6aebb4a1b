"""The promotion gate: may this model version move to the target stage? Everything the
decision path must know of promotion is here; its rules are policies/promotion/ and its
thresholds policies/data/promotion.yaml.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.decision.gatespec import GateSpec
from service.decision.model import STAGES, AuditReceipt, Decision, Enactment
from service.enact.alias import move_alias
from service.evidence.baseline import BaselineOfRecordSource
from service.evidence.context import EvidenceContext
from service.evidence.history import HistorySource
from service.evidence.registry import RegistrySource
from service.evidence.risk_tier import RecordedTierSource
from service.evidence.signoffs import RequesterSource, SignoffSource
from service.evidence.unchanged import EvidenceUnchangedSource

NAME = "promotion"
# Stage -> the alias promotion to it moves, and whose holder is the baseline, unless
# data.mlgate.config.promotion.aliases says otherwise.
DEFAULT_ALIASES = {"production": "champion", "canary": "canary", "staging": "staging"}


def stage_alias(config: Mapping[str, Any], stage: str) -> str:
    """The alias of `stage`: promotion.aliases in the thresholds data, else DEFAULT_ALIASES."""
    aliases = config.get(NAME, {}).get("aliases", {})
    return str(aliases.get(stage) or DEFAULT_ALIASES.get(stage, stage))


def target_alias(config: Mapping[str, Any], target: Mapping[str, Any] | None) -> str:
    return stage_alias(config, str((target or {}).get("stage", "")))


def promote(
    decision: Decision,
    receipt: AuditReceipt,
    context: EvidenceContext,
    config: Mapping[str, Any],
) -> Enactment:
    """On allow, move the target stage's alias to the version (a ledger record of its own);
    deny and hold move nothing."""
    alias = target_alias(config, decision.target)
    if decision.outcome != "allow":
        return Enactment(
            alias=alias, moved=False, note=f"nothing moved: the outcome is {decision.outcome}"
        )
    return move_alias(decision, receipt, alias, context)


PROMOTION = GateSpec(
    name=NAME,
    summary="may this model version move to the target stage?",
    sources=(
        RegistrySource(alias_of=target_alias, fresh_stages=("production",)),
        BaselineOfRecordSource(alias_of=target_alias),
        EvidenceUnchangedSource(),
        SignoffSource(),
        HistorySource(gate=NAME, stages=STAGES),
        RequesterSource(),
        RecordedTierSource(),
    ),
    input_schema="promotion_input",
    needs_target=True,
    effect=promote,
)
