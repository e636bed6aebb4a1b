"""`mlgate explain promotion`: what the gate needs at each tier and stage, as the policy data and
schemas in force say (read here from the files themselves, never pasted); `mlgate decide`
points to it after a promotion that did not allow."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from service.cli.main import main
from tests.cli.test_local_mode import decide, mlgate
from tests.conftest import POLICY_DIR, PROJECT_ROOT

DATA = yaml.safe_load((POLICY_DIR / "data" / "promotion.yaml").read_text())
CARD_SCHEMA = json.loads((PROJECT_ROOT / "schemas" / "model_card.schema.json").read_text())
LINEAGE_SCHEMA = json.loads((PROJECT_ROOT / "schemas" / "lineage.schema.json").read_text())
TIER_STAGES = [
    (tier, stage) for tier, settings in DATA["tiers"].items() for stage in settings["stages"]
]


def explain(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["explain", "promotion", *args]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(("tier", "stage"), TIER_STAGES)
def test_the_json_lists_what_the_data_asks_at_each_tier_and_stage(
    capsys: pytest.CaptureFixture[str], tier: str, stage: str
) -> None:
    settings = DATA["tiers"][tier]
    at_stage = settings["stages"][stage] or {}

    needs = json.loads(explain(capsys, "--tier", tier, "--stage", stage, "--format", "json"))

    metrics = needs["metrics"]
    assert metrics["floors"] == at_stage.get("floors", {})
    assert metrics["ceilings"] == at_stage.get("ceilings", {})
    assert metrics["regression"] == at_stage.get("regression", {})
    assert metrics["required"] == sorted(
        {
            *at_stage.get("floors", {}),
            *at_stage.get("ceilings", {}),
            *at_stage.get("regression", {}),
        }
    )
    assert metrics["baseline_required"] == at_stage.get("baseline_required", False)
    assert metrics["fairness"] == {**settings.get("fairness", {}), **at_stage.get("fairness", {})}
    assert needs["model_card"]["sections_with_text"] == settings.get("card_sections", [])
    required = {f["field"] for f in needs["model_card"]["fields"] if f["required"]}
    assert required == set(CARD_SCHEMA["required"])
    assert [f["field"] for f in needs["lineage"]["fields"]] == list(LINEAGE_SCHEMA["properties"])
    assert needs["lineage"]["from_registry"] == at_stage.get("require_registry", [])
    assert needs["stage_prerequisites"] == DATA.get("stage_prerequisites", {}).get(stage, [])
    explained = {"card_sections", "fairness", "stages", "floors", "ceilings", "regression"}
    explained |= {"baseline_required", "approver_roles", "require_registry"}
    assert needs["other_settings"] == {
        k: v for k, v in {**settings, **at_stage}.items() if k not in explained
    }
    assert needs["approvals"]["roles"] == at_stage.get("approver_roles", [])
    assert needs["waivers"]["max_days"] == DATA["waivers"]["max_days"]
    assert needs["waivers"]["non_waivable"] == DATA["non_waivable"]
    tier_roles = {
        r for s in settings["stages"].values() for r in (s or {}).get("approver_roles", [])
    }
    assert set(needs["waivers"]["roles"]) == tier_roles


@pytest.mark.parametrize(("tier", "stage"), TIER_STAGES)
def test_the_text_names_every_threshold_and_who_approves(
    capsys: pytest.CaptureFixture[str], tier: str, stage: str
) -> None:
    at_stage = DATA["tiers"][tier]["stages"][stage] or {}

    text = explain(capsys, "--tier", tier, "--stage", stage).splitlines()

    assert text[0] == f"promotion of a {tier}-risk model to {stage} needs:"
    lines = {line.split()[0]: line for line in text if line.startswith("  ") and line.split()}
    for name, floor in at_stage.get("floors", {}).items():
        assert f">= {floor}" in lines[name]
    for name, ceiling in at_stage.get("ceilings", {}).items():
        assert f"<= {ceiling}" in lines[name]
    for metric, limit in DATA["tiers"][tier].get("fairness", {}).items():
        assert any(
            line.startswith(f"  fairness: {metric} ") and line.endswith(f"<= {limit['max_gap']}")
            for line in text
        )
    roles = at_stage.get("approver_roles", [])
    if roles:
        assert (
            f"an approval by one of: {', '.join(roles)} (not by whoever asked for a decision)"
            in (text)
        )
    else:
        assert "no approval" in text


def test_the_card_shapes_are_the_schemas(capsys: pytest.CaptureFixture[str]) -> None:
    needs = json.loads(
        explain(capsys, "--tier", "medium", "--stage", "staging", "--format", "json")
    )

    fields = {f["field"]: f for f in needs["model_card"]["fields"]}
    assert fields["owner"]["shape"] == "{team: non-empty text, contact: non-empty text}"
    assert set(CARD_SCHEMA["properties"]["owner"]["required"]) == {"team", "contact"}
    assert fields["protected_attributes"]["required"] is True
    assert (
        fields["protected_attributes"]["description"]
        == (CARD_SCHEMA["properties"]["protected_attributes"]["description"])
    )
    assert fields["risk_tier"]["shape"] == "one of " + ", ".join(
        CARD_SCHEMA["properties"]["risk_tier"]["enum"]
    )


def test_a_model_of_its_own_gets_its_overrides(
    capsys: pytest.CaptureFixture[str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`models.<name>` is merged over its tier's settings, as the policy merges it."""
    import shutil

    from service.settings import get_settings

    policies = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, policies)
    data = dict(DATA)
    data["models"] = {"fraud-detector-eu": {"stages": {"production": {"floors": {"auc": 0.97}}}}}
    (policies / "data" / "promotion.yaml").write_text(yaml.safe_dump(data))
    monkeypatch.setenv("MLGATE_POLICY_DIR", str(policies))
    get_settings.cache_clear()
    try:
        args = ("--tier", "high", "--stage", "production", "--format", "json")
        own = json.loads(explain(capsys, *args, "--model", "fraud-detector-eu"))
        tier_only = json.loads(explain(capsys, *args))
    finally:
        get_settings.cache_clear()

    assert own["metrics"]["floors"]["auc"] == 0.97
    assert (
        tier_only["metrics"]["floors"]["auc"]
        == DATA["tiers"]["high"]["stages"]["production"]["floors"]["auc"]
    )


@pytest.mark.parametrize(
    ("tier", "stage"),
    [
        (t, s)
        for t, s in TIER_STAGES
        if (DATA["tiers"][t]["stages"][s] or {}).get("first_deployment")
    ],
)
def test_the_text_spells_out_what_a_first_deployment_needs(
    capsys: pytest.CaptureFixture[str], tier: str, stage: str
) -> None:
    """The first production deployment is held for its approvers: the text said "no approval"
    and gave the first_deployment settings only as raw JSON."""
    first = DATA["tiers"][tier]["stages"][stage]["first_deployment"]

    text = explain(capsys, "--tier", tier, "--stage", stage)

    assert "first_deployment" not in text
    at = text.splitlines().index(
        "a first deployment (no champion on record behind the stage's alias) also needs:"
    )
    spelt = text.splitlines()[at + 1 :]
    assert f"  an approval by each of: {', '.join(first['approver_roles'])}" in spelt
    for name, floor in first.get("floors", {}).items():
        assert f"  floor: {name} >= {floor}" in spelt
    for name, ceiling in first.get("ceilings", {}).items():
        assert f"  ceiling: {name} <= {ceiling}" in spelt


def test_a_setting_it_does_not_spell_out_is_still_listed(tmp_path: Any) -> None:
    import shutil

    from service.engine.policyset import read_policy_set
    from service.gates.requirements import requirements_in_force
    from service.schemas import SchemaSet

    policies = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, policies)
    data = json.loads(json.dumps(DATA))
    data["tiers"]["low"]["stages"]["canary"] = {"soak": "2h"}
    (policies / "data" / "promotion.yaml").write_text(yaml.safe_dump(data))

    needs = requirements_in_force(
        read_policy_set(policies), SchemaSet(PROJECT_ROOT / "schemas"), "low", "canary"
    )

    assert needs["other_settings"] == {"soak": "2h"}


def test_a_denied_promotion_ends_pointing_to_explain(tmp_path: Any) -> None:
    home = tmp_path / "home"
    card = yaml.safe_load(
        (PROJECT_ROOT / "fixtures/evidence/regressed/model_card.yaml").read_text()
    )

    denied = decide(home, "regressed")
    allowed = decide(home, "approved")

    assert denied.returncode == 1
    assert denied.stdout.splitlines()[-1] == (
        f"what the gate needs: mlgate explain promotion --tier {card['risk_tier']} "
        "--stage production"
    )
    assert allowed.returncode == 0
    assert "mlgate explain" not in allowed.stdout


def test_json_output_stays_json_and_the_pointer_goes_to_stderr(tmp_path: Any) -> None:
    run = decide(tmp_path / "home", "regressed", "--format", "json")

    assert json.loads(run.stdout)["outcome"] == "deny"
    assert "what the gate needs: mlgate explain promotion --tier" in run.stderr


def test_the_command_runs_as_installed(tmp_path: Any) -> None:
    run = mlgate(tmp_path, "explain", "promotion", "--tier", "low", "--stage", "canary")

    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("promotion of a low-risk model to canary needs:")
