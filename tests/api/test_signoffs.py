"""Approvals and waivers through the API: signed into the ledger, read back by later decisions
for the artifact they name, never self-given, never asserted by the party being gated."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import EVERY_DECIDER, Api, chosen_api, evidence

_versions = itertools.count(100)
DIGEST = evidence()["lineage"]["artifact_digest"]
OTHER_DIGEST = "sha256:" + "0f" * 32


@pytest.fixture(scope="module", params=EVERY_DECIDER)
def api(request: pytest.FixtureRequest) -> Api:
    """The fast path, the route, and the decision path in worker processes."""
    return chosen_api(request)


def version_body(version: str, stage: str = "production", **changes: Any) -> dict[str, Any]:
    """A request for `version` of the approved fixture going to `stage`."""
    return {
        "model": {"name": "fraud-detector", "version": version},
        "target": {"stage": stage},
        "evidence": evidence(**changes),
    }


def at_canary(api: Api, version: str, **changes: Any) -> dict[str, Any]:
    """Take `version` through staging and canary first, as production requires (STAGE_ORDER);
    the canary decision."""
    for stage in ("staging", "canary"):
        decision: dict[str, Any] = api.decide(version_body(version, stage, **changes)).json()
        assert decision["outcome"] == "allow", decision
    return decision


@pytest.fixture
def version() -> str:
    return str(next(_versions))


def approve(api: Api, version: str, as_role: str = "approver", **fields: Any) -> Any:
    body = {
        "model": "fraud-detector",
        "version": version,
        "artifact_digest": DIGEST,
        "role": "model-risk-officer",
        **fields,
    }
    return api.client.post("/v1/approvals", json=body, headers=api.headers(as_role))


def in_days(days: float, ending: str = "Z") -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S") + ending


def waive(api: Api, version: str, as_role: str = "approver", **fields: Any) -> Any:
    body = {
        "rule_code": "METRIC_ABOVE_CEILING",
        "model": "fraud-detector",
        "version": version,
        "artifact_digest": DIGEST,
        "role": "model-risk-officer",
        "reason": "latency fix ships in the next version",
        "expires_at": in_days(30),
        **fields,
    }
    return api.client.post("/v1/waivers", json=body, headers=api.headers(as_role))


def codes(decision: dict[str, Any]) -> list[str]:
    return [r["code"] for r in decision["reasons"]]


def unapplied(decision: dict[str, Any]) -> list[str]:
    """The messages of the sign-offs the decision says it did not apply."""
    return [w["message"] for w in decision["warnings"] if w["code"] == "SIGNOFF_NOT_APPLIED"]


def approval_id(api: Api, version: str) -> str:
    """The id of the one approval recorded on `version` of fraud-detector."""
    [record] = api.client.get(
        "/v1/audit",
        params={"version": version, "kind": "approval"},
        headers=api.headers("auditor"),
    ).json()["records"]
    return str(record["id"])


def test_production_holds_until_a_recorded_approval_allows_it(api: Api, version: str) -> None:
    canary = at_canary(api, version)
    assert codes(api.decide(version_body(version)).json()) == ["APPROVAL_PENDING"]

    response = approve(api, version, comment="MRV-2026-114 reviewed")

    assert response.status_code == 201
    approval = response.json()
    assert approval == {
        "id": approval["id"],
        "record": approval["record"],
        "model": "fraud-detector",
        "artifact_digest": DIGEST,
        "approver": "m.okafor",
        "role": "model-risk-officer",
        "status": "approved",
        "version": version,
        "comment": "MRV-2026-114 reviewed",
        "decided_at": approval["decided_at"],
    }
    decision = api.decide(version_body(version)).json()
    assert decision["outcome"] == "allow"
    assert decision["signoff_records"] == [approval["id"]]
    stored = api.client.get(
        f"/v1/decisions/{decision['decision_id']}?include=input", headers=api.headers("auditor")
    ).json()
    assert stored["input"]["provenance"] == {
        "model_card": "request",
        "metrics": "request",
        "lineage": "request",
        "baseline": "request",
        "approvals": "ledger: sign-off records",
        "waivers": "ledger: sign-off records",
        "history": "ledger: decisions",
        "requesters": "ledger: decisions",
        "recorded_risk_tier": "ledger: decisions",
    }
    assert [h["stage"] for h in stored["input"]["history"]] == ["staging", "canary"]
    assert stored["input"]["history"][-1]["decision_id"] == canary["decision_id"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (
            "approvals",
            [{"approver": "anyone", "role": "model-risk-officer", "status": "approved"}],
        ),
        ("waivers", [{"rule_code": "METRIC_BELOW_FLOOR", "approved_by": "ci-pipeline"}]),
        ("history", [{"gate": "promotion", "stage": "staging", "outcome": "allow"}]),
    ],
)
def test_a_request_carrying_sign_offs_or_history_is_422(
    api: Api, version: str, key: str, value: Any
) -> None:
    """Finding 1: a gate token's inline approval lifted a hold, its own waiver and an invented
    history entry allowed auc 0.01."""
    metrics = evidence()["metrics"]
    metrics["values"]["auc"] = 0.01

    response = api.decide(version_body(version, metrics=metrics, **{key: value}))

    assert response.status_code == 422
    assert response.json()["field"] == f"evidence.{key}"
    assert "may not send" in response.json()["message"]
    assert (
        api.client.get(
            "/v1/audit", params={"version": version}, headers=api.headers("auditor")
        ).json()["records"]
        == []
    )


def test_a_request_cannot_lower_the_risk_tier(api: Api, version: str) -> None:
    """Finding 2: a low tier in the request skipped fairness checks on a high-risk card."""
    metrics = evidence()["metrics"]
    metrics["by_group"]["age_band"]["65+"]["tpr"] = 0.30
    body = version_body(version, "staging", metrics=metrics)
    body["model"]["risk_tier"] = "low"

    decision = api.decide(body).json()

    assert decision["outcome"] == "deny"
    assert "RISK_TIER_CONFLICT" in codes(decision)
    conflict = next(r for r in decision["reasons"] if r["code"] == "RISK_TIER_CONFLICT")
    assert conflict["message"] == (
        "the request names risk tier low, but the model card says high; only the card sets the tier"
    )
    assert "FAIRNESS_GAP_EXCEEDED" in codes(decision)  # judged under the card's tier


def test_an_approval_counts_only_for_the_artifact_it_names(api: Api, version: str) -> None:
    """Finding 5: another artifact claiming the same version was allowed on its approval."""
    at_canary(api, version)
    approve(api, version)
    other = evidence()["lineage"]
    other["artifact_digest"] = OTHER_DIGEST
    at_canary(api, version, lineage=other)

    assert api.decide(version_body(version)).json()["outcome"] == "allow"
    for_other = api.decide(version_body(version, lineage=other)).json()
    assert codes(for_other) == ["APPROVAL_PENDING"]
    assert unapplied(for_other) == [
        f"approval {approval_id(api, version)} (approved) by m.okafor as model-risk-officer was "
        f"not applied: it was given for artifact {DIGEST}, and this version's is {OTHER_DIGEST}"
    ]


def test_history_counts_only_for_the_same_artifact(api: Api, version: str) -> None:
    at_canary(api, version)
    approve(api, version, artifact_digest=OTHER_DIGEST)
    other = evidence()["lineage"]
    other["artifact_digest"] = OTHER_DIGEST

    assert codes(api.decide(version_body(version, lineage=other)).json()) == ["STAGE_ORDER"]


def test_a_rejection_denies_and_the_approvers_latest_word_counts(api: Api, version: str) -> None:
    at_canary(api, version)
    approve(api, version, status="rejected")
    assert codes(api.decide(version_body(version)).json()) == [
        "APPROVAL_REJECTED",
        "APPROVAL_PENDING",
    ]

    approve(api, version, status="approved")

    assert api.decide(version_body(version)).json()["outcome"] == "allow"


def test_an_approver_cannot_approve_a_version_they_requested(api: Api, version: str) -> None:
    api.decide(version_body(version), role="alice-gate")

    response = approve(api, version, as_role="alice-approver")

    assert response.status_code == 403
    assert response.json()["error"] == "self_signoff"
    assert f"alice requested a decision on fraud-detector v{version}" in response.json()["message"]
    assert approve(api, version).status_code == 201  # someone else may


def test_nor_waive_a_rule_for_it(api: Api, version: str) -> None:
    api.decide(version_body(version), role="alice-gate")

    assert waive(api, version, as_role="alice-approver").status_code == 403


def test_a_sign_off_given_before_its_approver_asks_counts_for_nobody_once_they_ask(
    api: Api, version: str
) -> None:
    """Finding 4, the other order: waive first, then request with one's own gate token. The
    approver has then asked for a decision on this version, so their sign-offs count neither on
    their own request nor on anyone else's."""
    metrics = evidence()["metrics"]
    metrics["values"]["latency_p99_ms"] = 85  # the high-risk staging ceiling is 80
    assert waive(api, version, as_role="alice-approver").status_code == 201
    before = api.decide(version_body(version, "staging", metrics=metrics))
    assert before.json()["outcome"] == "allow"  # alice had not asked yet: her waiver counted

    own = api.decide(version_body(version, "staging", metrics=metrics), role="alice-gate")
    others = api.decide(version_body(version, "staging", metrics=metrics))

    assert codes(own.json()) == ["METRIC_ABOVE_CEILING"]
    assert codes(others.json()) == ["METRIC_ABOVE_CEILING"]
    [said] = unapplied(others.json())
    assert said.endswith(
        "by alice as model-risk-officer was not applied: alice asked for a decision on this "
        "version, so may not sign it off"
    )


def test_a_waiver_turns_a_denial_into_a_warning_until_withdrawn(api: Api, version: str) -> None:
    metrics = evidence()["metrics"]
    metrics["values"]["calibration_ece"] = 0.035
    at_canary(api, version)
    approve(api, version)
    assert codes(api.decide(version_body(version, metrics=metrics)).json()) == [
        "METRIC_ABOVE_CEILING"
    ]

    response = waive(api, version)

    assert response.status_code == 201
    waiver = response.json()
    assert (waiver["approved_by"], waiver["role"]) == ("m.okafor", "model-risk-officer")
    decision = api.decide(version_body(version, metrics=metrics)).json()
    assert decision["outcome"] == "allow"
    assert [w["code"] for w in decision["warnings"]] == ["METRIC_ABOVE_CEILING"]
    assert decision["warnings"][0]["waiver"]["id"] == waiver["id"]
    assert waiver["id"] in decision["signoff_records"]

    withdrawn = api.client.request(
        "DELETE",
        f"/v1/waivers/{waiver['id']}",
        json={"reason": "the fix slipped"},
        headers=api.headers("approver"),
    )

    assert withdrawn.status_code == 201
    assert withdrawn.json()["waiver_id"] == waiver["id"]
    after = api.decide(version_body(version, metrics=metrics)).json()
    assert codes(after) == ["METRIC_ABOVE_CEILING"]
    assert unapplied(after) == [
        f"waiver {waiver['id']} of METRIC_ABOVE_CEILING by m.okafor as model-risk-officer was "
        f"not applied: it was withdrawn by m.okafor at {withdrawn.json()['withdrawn_at']} "
        "(the fix slipped)"
    ]
    assert waiver["id"] in after["signoff_records"]


@pytest.mark.parametrize(
    "spelling",
    [
        in_days(30, ".123456789Z"),
        in_days(30, "z").replace("T", "t"),
        in_days(30, "-00:00"),
        (datetime.now(UTC) + timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%S.5+23:59"),
    ],
    # Ids that do not depend on the clock, so that parallel workers collect the same tests.
    ids=["nanoseconds", "lower-case", "minus-zero-offset", "offset-23:59"],
)
def test_a_waiver_accepted_with_any_spelling_of_its_expiry_counts(
    api: Api, version: str, spelling: str
) -> None:
    """An expiry with ten or more fractional digits was recorded (201) and then broke the input
    schema of every later decision on the version, which denied with EVIDENCE_INVALID at
    waivers[0].expires_at. Every spelling accepted now is one the policy can read."""
    metrics = evidence()["metrics"]
    metrics["values"]["calibration_ece"] = 0.035
    at_canary(api, version)
    approve(api, version)

    response = waive(api, version, expires_at=spelling)

    assert response.status_code == 201, response.json()
    decision = api.decide(version_body(version, metrics=metrics)).json()
    assert decision["outcome"] == "allow", decision["reasons"]
    assert [w["code"] for w in decision["warnings"]] == ["METRIC_ABOVE_CEILING"]


def test_withdrawing_an_unknown_waiver_is_404(api: Api) -> None:
    response = api.client.request(
        "DELETE", "/v1/waivers/nope", json={"reason": "x"}, headers=api.headers("approver")
    )
    assert response.status_code == 404


def test_a_waiver_token_without_the_role_cannot_waive(api: Api, version: str) -> None:
    """Finding 4: an approver token with no approves_as role waived auc 0.10 past a floor."""
    from service.api.auth import add_token

    token = add_token(api.settings.resolved_tokens_file, f"no-role-{version}", "approver", ())
    body = {
        "rule_code": "METRIC_BELOW_FLOOR",
        "model": "fraud-detector",
        "version": version,
        "artifact_digest": DIGEST,
        "role": "model-risk-officer",
        "reason": "ship it",
        "expires_at": in_days(30),
    }

    response = api.client.post(
        "/v1/waivers", json=body, headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 422
    assert response.json()["field"] == "role"


@pytest.mark.parametrize(
    ("fields", "field", "problem"),
    [
        ({"rule_code": "NOT_A_RULE"}, "rule_code", "no policy rule has the code NOT_A_RULE"),
        ({"rule_code": "lower_case"}, "rule_code", "should match pattern"),
        ({"rule_code": "APPROVAL_REJECTED"}, "rule_code", "may not be waived"),
        ({"rule_code": "APPROVAL_PENDING"}, "rule_code", "lifts only the promotion gate's"),
        ({"rule_code": "SIGNOFF_NOT_APPLIED"}, "rule_code", "adds to data.mlgate.promotion.warn"),
        ({"rule_code": "MONITORING_FAILURE_LIMIT"}, "rule_code", "adds to data.mlgate.monitoring"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at", "is not in the future"),
        ({"expires_at": "2263-01-01T00:00:00Z"}, "expires_at", "more than 90 days ahead"),
        ({"expires_at": "2026-12-31T23:59:60Z"}, "expires_at", "not a time"),
        ({"expires_at": in_days(30, ".1234567890Z")}, "expires_at", "nine fractional digits"),
        ({"expires_at": "next week"}, "expires_at", "RFC 3339"),
        ({"role": "data-steward"}, "role", "may be waived as model-risk-officer"),
        ({"role": None}, "role", "string"),
        ({"artifact_digest": "sha256:ABC"}, "artifact_digest", "should match pattern"),
        ({"reason": ""}, "reason", "at least 1 character"),
        ({"approved_by": "someone-else"}, "approved_by", "unknown property"),
    ],
)
def test_a_bad_waiver_is_422(
    api: Api, version: str, fields: dict[str, Any], field: str, problem: str
) -> None:
    response = waive(api, **{"version": version, **fields})

    assert response.status_code == 422
    assert response.json()["field"] == field
    assert problem in response.json()["message"]


def test_an_unpaired_surrogate_in_a_signoff_is_422(api: Api) -> None:
    body = (
        b'{"model": "m", "version": "1", "role": "r", "artifact_digest": "sha256:'
        + b"ab" * 32
        + b'", "comment": "ok \\ud800"}'
    )
    response = api.client.post(
        "/v1/approvals",
        content=body,
        headers={**api.headers("approver"), "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.json()["field"] == "comment"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"status": "maybe"}, "status"),
        ({"version": ""}, "version"),
        ({"role": None}, "role"),
        ({"approver": "m.okafor"}, "approver"),
        ({"artifact_digest": None}, "artifact_digest"),
        ({"artifact_digest": "s3://bucket/model.pkl"}, "artifact_digest"),
    ],
)
def test_a_bad_approval_is_422(api: Api, version: str, fields: dict[str, Any], field: str) -> None:
    response = approve(api, **{"version": version, **fields})

    assert response.status_code == 422
    assert response.json()["field"] == field


def test_an_approver_cannot_claim_a_role_their_token_does_not_hold(api: Api) -> None:
    response = approve(api, "31", role="chief-risk-officer")

    assert response.status_code == 403
    assert "may not approve as 'chief-risk-officer'" in response.json()["message"]


def test_sign_offs_and_reloads_are_records_in_the_ledger_that_verifies(
    api: Api, version: str
) -> None:
    approval = approve(api, version).json()
    waiver = waive(api, version).json()
    reload = api.client.post("/v1/policies/reload", headers=api.headers("admin")).json()
    auditor = api.headers("auditor")

    kinds = {
        kind: api.client.get("/v1/audit", params={"kind": kind}, headers=auditor).json()
        for kind in ("approval", "waiver", "policy_reload")
    }

    assert approval["record"] in [r["seq"] for r in kinds["approval"]["records"]]
    assert waiver["record"] in [r["seq"] for r in kinds["waiver"]["records"]]
    assert reload["record"] in [r["seq"] for r in kinds["policy_reload"]["records"]]
    verified = api.client.get("/v1/audit/verify", headers=auditor).json()
    assert verified["ok"] is True


def low_risk(name: str, version: str) -> dict[str, Any]:
    """A request for `version` of `name`, a low-risk model of its own artifact (so no tier
    recorded for fraud-detector's artifact applies), going to staging."""
    card = evidence()["model_card"]
    card.update(name=name, risk_tier="low")
    lineage = evidence()["lineage"]
    lineage["artifact_digest"] = own_digest(version)
    return {
        "model": {"name": name, "version": version},
        "target": {"stage": "staging"},
        "evidence": evidence(model_card=card, lineage=lineage),
    }


def own_digest(version: str) -> str:
    return f"sha256:{int(version):064x}"


def test_a_waiver_that_could_never_count_is_refused_naming_the_roles_that_could(
    api: Api, version: str
) -> None:
    """A waiver of BASELINE_MISSING for a low-risk model, by a model-risk-officer (a role
    the high tier asks), was recorded (201) and then silently ignored by every decision: the
    low tier asks no approval, so nobody's waiver counts for it."""
    name = f"churn-scorer-{version}"
    judged = api.decide(low_risk(name, version)).json()
    assert judged["model"]["risk_tier"] == "low"
    signed = {"model": name, "artifact_digest": own_digest(version)}

    waived = waive(api, version, rule_code="BASELINE_MISSING", **signed)
    approved = approve(api, version, **signed)

    assert waived.status_code == 422, waived.json()
    assert waived.json()["field"] == "role"
    assert waived.json()["message"].endswith(
        f"BASELINE_MISSING of {name} may be waived as no role (its tier asks no approval, and "
        f"waivers.roles names none for it); {name} was judged low-risk (decision "
        f"{judged['decision_id']} on v{version}). A waiver as 'model-risk-officer' would never "
        "count"
    )
    assert approved.status_code == 422, approved.json()
    assert approved.json()["field"] == "role"
    assert (
        f"an approval of {name} counts only as no role (its tier asks no approval)"
        in approved.json()["message"]
    )
    recorded = api.client.get(
        "/v1/audit", params={"model": name}, headers=api.headers("auditor")
    ).json()["records"]
    assert [r["kind"] for r in recorded] == ["decision"]


def test_a_role_no_tier_asks_is_refused_before_any_decision(api: Api, version: str) -> None:
    """Before a decision has judged the model its tier is not known: a role some tier asks is
    accepted, one that no tier asks is refused. The approver holds `r`, which no tier asks."""
    signed = {"model": f"new-model-{version}", "artifact_digest": own_digest(version)}

    refused = waive(api, version, role="r", **signed)

    assert refused.status_code == 422
    assert refused.json()["field"] == "role"
    assert (
        "may be waived as model-risk-officer; no decision has judged" in (refused.json()["message"])
    )
    assert approve(api, version, role="r", **signed).status_code == 422
    assert approve(api, version, **signed).status_code == 201


def test_an_approval_the_models_tier_does_not_ask_is_named_in_the_decision(
    api: Api, version: str
) -> None:
    """Given before any decision judged the model (any tier's roles are accepted then), an
    approval that the low tier does not ask is named, never silently dropped."""
    name = f"churn-scorer-{version}"
    given = approve(api, version, model=name, artifact_digest=own_digest(version))
    assert given.status_code == 201, given.json()

    decision = api.decide(low_risk(name, version)).json()

    assert decision["outcome"] == "allow"
    assert unapplied(decision) == [
        f"approval {given.json()['id']} (approved) by m.okafor as model-risk-officer was not "
        "applied: a low-risk model asks an approval of no role, not of model-risk-officer"
    ]


# --- A request repeated (a retry after a lost answer) ----------------------------------------


def records_of(api: Api, kind: str, version: str) -> list[dict[str, Any]]:
    """The `kind` records on `version` of fraud-detector, newest first."""
    response = api.client.get(
        "/v1/audit",
        params={"kind": kind, "model": "fraud-detector", "version": version},
        headers=api.headers("auditor"),
    )
    assert response.status_code == 200, response.text
    records: list[dict[str, Any]] = response.json()["records"]
    return records


def withdraw(api: Api, waiver_id: str, reason: str, as_role: str = "approver") -> Any:
    return api.client.request(
        "DELETE", f"/v1/waivers/{waiver_id}", json={"reason": reason}, headers=api.headers(as_role)
    )


def test_withdrawing_a_waiver_again_answers_200_with_the_first_withdrawal(
    served: Api, version: str
) -> None:
    """A second withdrawal answered the first with the same status as a new one: the client
    could not tell a withdrawal from a repeat. Now 201 is a withdrawal recorded, 200 one found,
    and nothing new is recorded. Over HTTP to `mlgate serve` too."""
    waiver = waive(served, version)
    assert waiver.status_code == 201, waiver.text
    first = withdraw(served, waiver.json()["id"], "the fix slipped")
    assert first.status_code == 201, first.text

    again = withdraw(served, waiver.json()["id"], "the fix slipped")

    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert [r["id"] for r in records_of(served, "waiver_withdrawal", version)] == [
        first.json()["id"]
    ]


def test_a_peer_withdrawing_a_withdrawn_waiver_is_answered_the_first_withdrawal(
    api: Api, version: str
) -> None:
    """A waiver is withdrawn once: another approver who may waive the code, with another
    reason, finds the withdrawal made, and records none of their own."""
    waiver = waive(api, version).json()
    first = withdraw(api, waiver["id"], "the fix slipped")

    again = withdraw(api, waiver["id"], "risk no longer accepted", as_role="alice-approver")

    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json() == first.json()
    assert again.json()["withdrawn_by"] == "m.okafor"
    assert len(records_of(api, "waiver_withdrawal", version)) == 1


def test_the_same_waiver_again_answers_200_and_one_withdrawal_ends_it(
    api: Api, version: str
) -> None:
    """A retried waiver was a second waiver in force: withdrawing the one its approver was
    answered with left the other waiving the rule."""
    metrics = evidence()["metrics"]
    metrics["values"]["calibration_ece"] = 0.035
    at_canary(api, version)
    approve(api, version)
    expires_at = in_days(30)
    first = waive(api, version, expires_at=expires_at)

    again = waive(api, version, expires_at=expires_at)

    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json() == first.json()
    assert len(records_of(api, "waiver", version)) == 1
    assert withdraw(api, first.json()["id"], "the fix slipped").status_code == 201
    after = api.decide(version_body(version, metrics=metrics)).json()
    assert codes(after) == ["METRIC_ABOVE_CEILING"]


def test_the_same_approval_again_answers_200_and_records_nothing(api: Api, version: str) -> None:
    first = approve(api, version, comment="MRV-2026-114 reviewed")

    again = approve(api, version, comment="MRV-2026-114 reviewed")
    rejected = approve(api, version, status="rejected", comment="MRV-2026-114 reviewed")

    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json() == first.json()
    assert rejected.status_code == 201  # another word: recorded
    assert [r["id"] for r in records_of(api, "approval", version)] == [
        rejected.json()["id"],
        first.json()["id"],
    ]
