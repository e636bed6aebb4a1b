"""A gate is one spec, one Rego package and one data file (with its schema): a test gate that
can roll back is added here without touching the decision path, and answered through the
CLI's path, the HTTP route on threads and the decision worker processes alike. It is not
shipped: it lives in a copy of the policies and schemas made for these tests."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from service.api.app import create_app
from service.api.auth import add_token
from service.compose import local_path
from service.decision.gatespec import GateRegistry, GateSpec
from service.decision.request import GateRequest
from service.execution.inline import LocalPath
from service.gates.registry import default_gates
from service.settings import PROJECT_ROOT, Settings
from tests.api.conftest import TestClient

DRILL = GateSpec(name="drill", summary="is the drill's error rate within its ceiling?", sources=())
GATES = GateRegistry(*default_gates().values(), DRILL)

POLICY = """# METADATA
# title: Drill gate
# description: A gate made for a test of the gate seam; rolls back above an error-rate ceiling.
package mlgate.drill

import data.mlgate.lib.decision as decisions
import data.mlgate.lib.reasons

# METADATA
# title: Drill decision
# description: The gate's answer.
# entrypoint: true
decision := decisions.make({"rollback": rollback, "hold": hold}, {
	"waivers": [],
	"non_waivable": [],
	"model": input.model,
	"requesters": set(),
	"now_ns": time.parse_rfc3339_ns(input.requested_at),
	"waiver_roles": {},
	"default_waiver_roles": set(),
})

_ceiling := data.mlgate.config.drill.max_error_rate

_rate := input.metrics.values.error_rate

_has_rate if is_number(_rate)

# METADATA
# title: Error rate within the ceiling
# description: The error rate is at or below the drill's ceiling.
# custom:
#   code: DRILL_ERROR_RATE_ABOVE_CEILING
#   severity: high
#   controls: ["NIST AI RMF MANAGE 4.1"]
rollback contains reason if {
	_rate > _ceiling
	msg := sprintf("error_rate %v is above the drill ceiling %v", [_rate, _ceiling])
	details := {"metric": "error_rate", "actual": _rate, "threshold": _ceiling}
	reason := reasons.from_rule(rego.metadata.rule(), msg, details)
}

# METADATA
# title: Error rate is reported
# description: Without an error rate the drill cannot judge, so it holds.
# custom:
#   code: DRILL_ERROR_RATE_MISSING
#   severity: medium
#   controls: ["NIST AI RMF MANAGE 4.1"]
hold contains reason if {
	not _has_rate
	msg := "metrics.values.error_rate is missing"
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "metrics.values.error_rate"})
}
"""

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://mlgate.dev/schemas/drill_config.schema.json",
    "type": "object",
    "additionalProperties": False,
    "required": ["max_error_rate"],
    "properties": {"max_error_rate": {"type": "number", "minimum": 0, "maximum": 1}},
}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A home whose policies and schemas are the shipped ones plus the drill gate's three
    files."""
    root = tmp_path_factory.mktemp("drill")
    policies, schemas = root / "policies", root / "schemas"
    shutil.copytree(PROJECT_ROOT / "policies", policies)
    shutil.copytree(PROJECT_ROOT / "schemas", schemas)
    (policies / "drill").mkdir()
    (policies / "drill" / "drill.rego").write_text(POLICY)
    (policies / "data" / "drill.yaml").write_text("max_error_rate: 0.02\n")
    (schemas / "drill_config.schema.json").write_text(json.dumps(SCHEMA))
    return Settings(home=root / "home", policy_dir=policies, schema_dir=schemas)


def evidence(error_rate: float | None) -> dict[str, Any]:
    values = {} if error_rate is None else {"error_rate": error_rate}
    return {"metrics": {"values": values}}


CASES = [
    (0.05, "rollback", ["DRILL_ERROR_RATE_ABOVE_CEILING"]),
    (0.02, "allow", []),
    (None, "hold", ["DRILL_ERROR_RATE_MISSING"]),
]


@pytest.fixture(scope="module")
def path(settings: Settings) -> Iterator[LocalPath]:
    made = local_path(settings, GATES)
    yield made
    made.ledger.close()


@pytest.mark.parametrize(("rate", "outcome", "codes"), CASES)
def test_the_local_path_answers_the_new_gate(
    path: LocalPath, rate: float | None, outcome: str, codes: list[str]
) -> None:
    request = GateRequest(
        gate="drill",
        caller={"id": "drill", "role": "cli"},
        evidence=evidence(rate),
        model={"name": "fraud-detector", "version": "7"},
    )

    answer = path.decide(request)

    assert (answer.outcome, [r.code for r in answer.reasons]) == (outcome, codes)
    assert answer.audit is not None
    recorded = path.ledger.get(answer.decision_id).predicate()
    assert (recorded["gate"], recorded["outcome"]) == ("drill", outcome)


@pytest.mark.parametrize("workers", [0, 1], ids=["threads", "workers"])
def test_the_service_answers_the_new_gate(settings: Settings, workers: int) -> None:
    token = add_token(settings.resolved_tokens_file, f"ci-{workers}", "gate")
    app = create_app(settings, engines=1, workers=workers, gates=GATES)
    headers = {"Authorization": f"Bearer {token}"}
    body = {"model": {"name": "fraud-detector", "version": "7"}}
    with TestClient(app) as client:
        answers = [
            client.post(
                "/v1/decisions/drill", json={**body, "evidence": evidence(rate)}, headers=headers
            )
            for rate, _, _ in CASES
        ]
        unknown = client.post("/v1/decisions/shipping", json=body, headers=headers)
    app.state.runtime.close()

    assert [(a.status_code, a.json()["outcome"]) for a in answers] == [
        (200, outcome) for _, outcome, _ in CASES
    ]
    assert unknown.status_code == 404
    assert "drill" in unknown.json()["message"]


def test_the_shipped_service_does_not_know_the_test_gate(settings: Settings) -> None:
    token = add_token(settings.resolved_tokens_file, "ci-shipped", "gate")
    app = create_app(settings, engines=1)
    with TestClient(app) as client:
        response = client.post(
            "/v1/decisions/drill",
            json={"model": {"name": "m", "version": "1"}, "evidence": evidence(0.5)},
            headers={"Authorization": f"Bearer {token}"},
        )
    app.state.runtime.close()

    assert response.status_code == 404
