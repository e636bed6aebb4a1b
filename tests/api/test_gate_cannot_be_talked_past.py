"""Ways a gated party (a `gate` token), an approver or a policy author's typo tried to get a
wrong allow past the gate, each now closed; the assertion messages say what used to happen."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from service.api.app import create_app
from service.settings import PROJECT_ROOT, Settings
from tests.api.conftest import Api, TestClient, evidence, make_tokens

_versions = itertools.count(9000)
DIGEST = evidence()["lineage"]["artifact_digest"]
OTHER_DIGEST = "sha256:" + "0f" * 32


@pytest.fixture
def version() -> str:
    return str(next(_versions))


def body(
    version: str, stage: str = "production", tier: str | None = None, **changes: Any
) -> dict[str, Any]:
    """The approved fixture's evidence (no approvals/history) for `version`; `tier` rewrites
    only model_card.risk_tier, the one field the attacker changes."""
    docs = evidence(**changes)
    docs["model_card"]["version"] = version
    if tier is not None:
        docs["model_card"]["risk_tier"] = tier
    return {"target": {"stage": stage}, "evidence": docs}


def outcome(
    api: Api, request: dict[str, Any], role: str = "gate"
) -> tuple[str, list[str], list[str]]:
    response = api.decide(request, role=role)
    assert response.status_code == 200, response.text
    d = response.json()
    return d["outcome"], [r["code"] for r in d["reasons"]], [w["code"] for w in d["warnings"]]


def through_canary(api: Api, version: str, role: str = "gate", **kw: Any) -> None:
    for stage in ("staging", "canary"):
        assert outcome(api, body(version, stage, **kw), role)[0] == "allow"


def approve(api: Api, version: str, as_role: str = "approver", **fields: Any) -> Any:
    doc = {
        "model": "fraud-detector",
        "version": version,
        "artifact_digest": DIGEST,
        "role": "model-risk-officer",
        **fields,
    }
    return api.client.post("/v1/approvals", json=doc, headers=api.headers(as_role))


def waive(api: Api, version: str, as_role: str = "approver", **fields: Any) -> Any:
    doc = {
        "rule_code": "METRIC_ABOVE_CEILING",
        "model": "fraud-detector",
        "version": version,
        "artifact_digest": DIGEST,
        "role": "model-risk-officer",
        "reason": "attack test",
        "expires_at": (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **fields,
    }
    return api.client.post("/v1/waivers", json=doc, headers=api.headers(as_role))


# ---------------------------------------------------------------------------------------------
# F1 (critical): the gated party picks its own risk tier through the inline model card.
# ---------------------------------------------------------------------------------------------


def test_f1_card_tier_downgrade_lifts_a_pending_approval_hold(api: Api, version: str) -> None:
    through_canary(api, version)
    assert outcome(api, body(version)) == ("hold", ["APPROVAL_PENDING"], [])
    # Same version, same artifact digest, same caller, same ledger: only model_card.risk_tier
    # changes. No approval exists anywhere.
    got = outcome(api, body(version, tier="low"))
    assert got[0] != "allow", f"a gate token lifted the hold by sending risk_tier low: {got}"


def test_f1_card_tier_downgrade_lifts_a_recorded_non_waivable_rejection(
    api: Api, version: str
) -> None:
    through_canary(api, version)
    assert approve(api, version, status="rejected").status_code == 201
    assert outcome(api, body(version))[1] == ["APPROVAL_REJECTED", "APPROVAL_PENDING"]
    got = outcome(api, body(version, tier="medium"))
    assert got[0] != "allow", f"a recorded rejection was lifted by risk_tier medium: {got}"


def test_f1_low_tier_staging_allow_counts_as_history_for_high_tier_production(
    api: Api, version: str
) -> None:
    # A model never judged before (a new name and a new artifact: the same artifact under a
    # new name keeps the tier it was judged under): staging under the card's "low" tier checks
    # nothing.
    fresh = f"sha256:{int(version):064x}"
    bad = evidence()["metrics"]
    bad["values"]["auc"] = 0.1
    low = body(version, "staging", tier="low", metrics=bad)
    low["evidence"]["model_card"]["name"] = f"fresh-{version}"
    low["evidence"]["lineage"]["artifact_digest"] = fresh
    assert outcome(api, low)[0] == "allow"
    # That allow was judged under "low": it is no history for the high-risk production request.
    high = body(version)
    high["evidence"]["model_card"]["name"] = f"fresh-{version}"
    high["evidence"]["lineage"]["artifact_digest"] = fresh
    got = outcome(api, high)
    assert "STAGE_ORDER" in got[1], f"a low-tier staging allow satisfied STAGE_ORDER: {got}"


def test_f1_a_model_judged_high_cannot_be_judged_low_later(api: Api, version: str) -> None:
    through_canary(api, version)  # judged as high-risk
    got = outcome(api, body(version, "staging", tier="low"))
    assert got[0] == "deny" and "RISK_TIER_LOWERED" in got[1], got


# ---------------------------------------------------------------------------------------------
# F2 (medium): self-approval depends on the order: approve first, then ask to promote.
# ---------------------------------------------------------------------------------------------


def test_f2_approval_given_before_the_approver_asks_to_promote_still_counts(
    api: Api, version: str
) -> None:
    # alice holds a gate token and an approver token under one id.
    assert approve(api, version, as_role="alice-approver").status_code == 201
    through_canary(api, version, role="alice-gate")  # alice asks to promote this version
    # The other order is refused: she may not approve a version she asked to promote.
    assert approve(api, version, as_role="alice-approver").status_code == 403
    # ...but her earlier approval still makes ci-pipeline's production request an allow.
    got = outcome(api, body(version))
    assert got[0] != "allow", f"alice's approval counted on a version she asked to promote: {got}"


# ---------------------------------------------------------------------------------------------
# F5 (low/medium): conflict rules are waivable, so a digest waiver makes sign-offs for one
# artifact count for another.
# ---------------------------------------------------------------------------------------------


def test_f5_artifact_digest_conflict_is_waivable(api: Api, version: str) -> None:
    through_canary(api, version)
    assert approve(api, version).status_code == 201
    response = waive(api, version, rule_code="ARTIFACT_DIGEST_CONFLICT")
    assert response.status_code == 422, (
        f"ARTIFACT_DIGEST_CONFLICT (and RISK_TIER_CONFLICT) should be non_waivable: {response.text}"
    )


def test_f5_waived_digest_conflict_lets_an_approval_count_for_another_artifact(
    api: Api, version: str
) -> None:
    through_canary(api, version)
    assert approve(api, version).status_code == 201
    waive(api, version, rule_code="ARTIFACT_DIGEST_CONFLICT")
    request = body(version)
    request["model"] = {"name": "fraud-detector", "version": version, "artifact_digest": DIGEST}
    request["evidence"]["lineage"]["artifact_digest"] = OTHER_DIGEST  # the artifact shipped
    got = outcome(api, request)
    assert got[0] != "allow", f"approval for {DIGEST} counted for lineage {OTHER_DIGEST}: {got}"


# ---------------------------------------------------------------------------------------------
# F6 (low): any approver may withdraw anyone's waiver.
# ---------------------------------------------------------------------------------------------


def test_f6_any_approver_withdraws_another_approvers_waiver(api: Api, version: str) -> None:
    from service.api.auth import add_token

    created = waive(api, version)  # by m.okafor, as model-risk-officer
    assert created.status_code == 201, created.text
    steward = add_token(
        api.settings.resolved_tokens_file, f"steward-{version}", "approver", ("data-steward",)
    )
    path = f"/v1/waivers/{created.json()['id']}"
    response = api.client.request(
        "DELETE",
        path,
        json={"reason": "not mine"},
        headers={"Authorization": f"Bearer {steward}"},
    )
    assert response.status_code == 403, (
        f"an approver who may not waive the code withdrew the waiver: {response.status_code} "
        f"{response.text}"
    )
    # a peer who may waive the code (alice signs as model-risk-officer) may withdraw it
    peer = api.client.request(
        "DELETE",
        path,
        json={"reason": "risk no longer accepted"},
        headers=api.headers("alice-approver"),
    )
    assert peer.status_code == 201, peer.text


# ---------------------------------------------------------------------------------------------
# F4 (medium): a policy author's typo silently disables a rule; reload accepts it.
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def editable(tmp_path: Path) -> Iterator[tuple[Api, Path]]:
    policies = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", policies)
    settings = Settings(home=tmp_path / "home", policy_dir=policies, fast_path=True)
    tokens = make_tokens(settings)
    app = create_app(settings, engines=1)
    with TestClient(app) as client:
        yield Api(client, tokens, settings), policies
    app.state.runtime.close()


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_f4_metadata_typo_silently_disables_a_deny_rule(editable: tuple[Api, Path]) -> None:
    api, policies = editable
    low = evidence()["metrics"]
    low["values"]["auc"] = 0.5
    assert "METRIC_BELOW_FLOOR" in outcome(api, body("1", "staging", metrics=low))[1]
    _edit(
        policies / "promotion" / "metrics.rego",
        "#   code: METRIC_BELOW_FLOOR",
        "#   cod: METRIC_BELOW_FLOOR",
    )
    reload = api.client.post("/v1/policies/reload", headers=api.headers("admin"))
    assert reload.status_code == 422, f"reload accepted a rule with no code: {reload.text}"


def test_f4_metadata_typo_decision_after_reload(editable: tuple[Api, Path]) -> None:
    api, policies = editable
    _edit(
        policies / "promotion" / "metrics.rego",
        "#   code: METRIC_BELOW_FLOOR",
        "#   cod: METRIC_BELOW_FLOOR",
    )
    api.client.post("/v1/policies/reload", headers=api.headers("admin"))
    low = evidence()["metrics"]
    low["values"]["auc"] = 0.5
    got = outcome(api, body("2", "staging", metrics=low))
    assert got[0] != "allow", f"auc 0.5 under a 0.85 floor was allowed after the typo: {got}"


def test_f4_data_key_typo_silently_drops_the_approval_requirement(
    editable: tuple[Api, Path],
) -> None:
    api, policies = editable
    _edit(
        policies / "data" / "promotion.yaml",
        "approver_roles: [model-risk-officer]",
        "approver_role: [model-risk-officer]",
    )
    reload = api.client.post("/v1/policies/reload", headers=api.headers("admin"))
    through_canary(api, "3")
    got = outcome(api, body("3"))
    assert reload.status_code == 422 or got[0] != "allow", (
        f"high-risk production allowed with no approval after a data typo: reload "
        f"{reload.status_code}, decision {got}"
    )


# ---------------------------------------------------------------------------------------------
# F3 (medium): `decide --url ""` silently falls back to trusted local mode.
# ---------------------------------------------------------------------------------------------


def _mlgate(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MLGATE_HOME": str(home)}
    for key in ("MLGATE_URL", "MLGATE_TOKEN"):
        env.pop(key, None)
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_f3_empty_url_runs_local_mode_and_trusts_the_pipelines_own_approvals(
    tmp_path: Path,
) -> None:
    evidence_dir = str(PROJECT_ROOT / "fixtures" / "evidence" / "approved")  # has approvals.json
    _mlgate(tmp_path, "decide", "promotion", "--evidence", evidence_dir, "--to", "staging")
    # A CI job running `mlgate decide ... --url "$MLGATE_URL"` with the variable unset:
    done = _mlgate(
        tmp_path,
        "decide",
        "promotion",
        "--url",
        "",
        "--evidence",
        evidence_dir,
        "--to",
        "production",
    )
    assert done.returncode == 2, (
        f"--url '' decided locally (exit {done.returncode}), trusting approvals.json and "
        f"history.json from the evidence dir; stdout={done.stdout!r} stderr={done.stderr!r}"
    )
