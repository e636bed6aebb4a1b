"""GET /v1/gates/promotion/requirements: the document `mlgate explain promotion` prints, over
HTTP through the real app, for every tier and stage of the policy data in force."""

from __future__ import annotations

import json

import pytest
import yaml

from service.cli.main import main
from tests.api.conftest import Api
from tests.conftest import POLICY_DIR

DATA = yaml.safe_load((POLICY_DIR / "data" / "promotion.yaml").read_text())
URL = "/v1/gates/promotion/requirements"


def test_every_tier_and_stage_answers_what_explain_prints(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    for tier, settings in DATA["tiers"].items():
        for stage in settings["stages"]:
            response = api.client.get(
                URL, params={"tier": tier, "stage": stage}, headers=api.headers("auditor")
            )
            assert (
                main(["explain", "promotion", "--tier", tier, "--stage", stage, "--format", "json"])
                == 0
            )
            printed = json.loads(capsys.readouterr().out)

            assert response.status_code == 200, response.text
            assert response.json() == printed
            assert response.json()["metrics"]["floors"] == (
                (settings["stages"][stage] or {}).get("floors", {})
            )


@pytest.mark.parametrize(
    ("params", "field", "found"),
    [
        ({"tier": "hihg", "stage": "production"}, "tier", "found 'hihg'"),
        ({"tier": "high", "stage": "prod"}, "stage", "found 'prod'"),
        ({"tier": "high", "stage": "production", "teir": "low"}, "teir", "unknown query"),
        ({"tier": "high", "stage": "production", "model": "Fraud Detector"}, "model", ""),
    ],
)
def test_a_bad_parameter_is_a_422_naming_it(
    api: Api, params: dict[str, str], field: str, found: str
) -> None:
    response = api.client.get(URL, params=params, headers=api.headers("gate"))

    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert found in response.json()["message"]


def test_it_needs_a_token(api: Api) -> None:
    response = api.client.get(URL, params={"tier": "high", "stage": "production"})

    assert response.status_code == 401
