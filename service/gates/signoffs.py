"""Who may sign off a promotion, asked when an approval or a waiver is given.

The answer is the promotion policy's (data.mlgate.promotion.signoff_roles) for the tier the
model was last judged under: the ledger's recorded tier (service/evidence/risk_tier.py), which
a decision never judges below. Decisions count sign-offs by the same Rego helpers, so one
refused here is one no decision would have counted. Before any decision on the model there is
no recorded tier, and the roles of any tier are accepted; a decision then names a sign-off its
tier does not count (SIGNOFF_NOT_APPLIED).
"""

from __future__ import annotations

from service.audit.ledger import Ledger
from service.evidence.risk_tier import recorded_risk_tier
from service.signoffs.rules import PolicyQuery, SignoffRoles, signoff_roles


def roles_that_count(
    policy: PolicyQuery,
    ledger: Ledger,
    *,
    model: str,
    version: str,
    artifact_digest: str | None,
    rule_code: str | None = None,
) -> SignoffRoles:
    """The roles whose sign-off on `model` `version` (`artifact_digest`) can count, and who may
    waive `rule_code` when given. Reads the ledger, asks the policy; raises
    PolicyEngineUnavailable when the policy cannot answer, LedgerUnreadable when the ledger
    cannot be read."""
    return signoff_roles(
        policy,
        model=model,
        version=version,
        tier=recorded_risk_tier(ledger, model, artifact_digest),
        rule_code=rule_code,
    )
