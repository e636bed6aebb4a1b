"""Who may sign off is the policy's answer (data.mlgate.promotion.signoff_roles), asked of the
real engine; a policy that cannot answer lets no sign-off be recorded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from service.engine.embedded import EmbeddedEngine
from service.engine.policyset import load_policy_set
from service.errors import PolicyEngineUnavailable
from service.signoffs.rules import (
    SignoffRefused,
    all_signoff_roles,
    check_approval_role,
    check_roles_asked,
    signoff_roles,
)

HIGH = {"tier": "high", "decision_id": "d-1", "version": "6"}


def test_the_shipped_policy_names_who_may_sign_off_each_tier(engine: EmbeddedEngine) -> None:
    def ask(tier: str | None) -> tuple[set[str], set[str]]:
        recorded = {"tier": tier} if tier else None
        roles = signoff_roles(
            engine, model="m", version="1", tier=recorded, rule_code="BASELINE_MISSING"
        )
        return set(roles.approval), set(roles.waiver["BASELINE_MISSING"])

    assert ask("high") == ({"model-risk-officer"}, {"model-risk-officer"})
    # medium asks no approval at its stages, but its first production deployment does
    assert ask("medium") == ({"model-risk-officer"}, {"model-risk-officer"})
    assert ask("low") == (set(), set())
    assert ask(None) == ({"model-risk-officer"}, {"model-risk-officer"})


def test_a_refusal_names_the_roles_that_could_and_the_decision_that_set_the_tier(
    engine: EmbeddedEngine,
) -> None:
    roles = signoff_roles(engine, model="m", version="7", tier=HIGH)

    with pytest.raises(SignoffRefused) as refused:
        check_approval_role(roles, "data-steward")

    assert refused.value.field == "role"
    assert refused.value.problem == (
        "an approval of m counts only as model-risk-officer; m was judged high-risk "
        "(decision d-1 on v6). One as 'data-steward' would never count"
    )


def test_a_policy_that_cannot_say_who_may_sign_off_records_nothing(
    policy_copy: Callable[[], Path],
) -> None:
    root = policy_copy()
    rego = root / "promotion" / "signoffs.rego"
    rego.write_text(rego.read_text().replace("signoff_roles := {", "_unasked := {"))
    engine = EmbeddedEngine(load_policy_set(root))

    with pytest.raises(PolicyEngineUnavailable, match="who may sign off cannot be known"):
        signoff_roles(engine, model="m", version="7", tier=HIGH)


def test_the_shipped_policy_asks_a_sign_off_of_model_risk_officers_only(
    engine: EmbeddedEngine,
) -> None:
    assert all_signoff_roles(engine) == {"model-risk-officer"}


def test_a_role_no_policy_asks_for_is_refused_naming_the_likely_one(
    engine: EmbeddedEngine,
) -> None:
    with pytest.raises(SignoffRefused) as refused:
        check_roles_asked(all_signoff_roles(engine), ["risk-oficer"], field="--approves-as")

    assert refused.value.field == "--approves-as"
    assert refused.value.problem == (
        "no policy asks a sign-off as 'risk-oficer' (did you mean model-risk-officer?), so one "
        "would never count; the policies ask for model-risk-officer (approver_roles, "
        "waivers.roles and tier_changes.allowed_roles in the promotion data)"
    )


def test_a_policy_that_cannot_say_which_roles_it_asks_for_refuses_every_role(
    policy_copy: Callable[[], Path],
) -> None:
    root = policy_copy()
    rego = root / "promotion" / "signoffs.rego"
    rego.write_text(rego.read_text().replace("all_signoff_roles := ", "_all_unasked := "))
    engine = EmbeddedEngine(load_policy_set(root))

    with pytest.raises(PolicyEngineUnavailable, match="the roles the policies ask a sign-off"):
        all_signoff_roles(engine)
