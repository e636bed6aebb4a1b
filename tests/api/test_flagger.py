"""POST /v1/flagger/{hook} over HTTP against a real `mlgate serve` with a real MLflow store:
Flagger's payload for every hook type, as Flagger builds it (name, namespace, phase, checksum
and the webhook's metadata; pkg/controller/webhook.go), and the status Flagger acts on for
each outcome; the mistakes a Canary's author can make; and the token in no record, input
document, log line or answer."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.api.auth import add_token
from service.api.flagger import HOLD, HOOKS, PROCEED, REFUSED, UNGATED
from service.audit.ledger import open_ledger_reader
from service.cli.demo_registry import build_demo_registry
from service.settings import Settings
from tests.api.conftest import LiveServer, in_process, serving
from tests.evidence.test_registry_trust import client, copy_model
from tests.monitoring.test_fixture_series import snapshot_files

FLAGGER_ID = "flagger-fraud-detector"
CHECKSUM = "85d557f47b"  # as Flagger's docs show it (docs/gitbook/usage/webhooks.md)


@dataclass
class Flagged:
    """A running service with a model registry, the gate token a Canary carries, and every
    answer it gave to a Flagger webhook in this module."""

    live: LiveServer
    store: str
    token: str
    answers: list[httpx.Response] = field(default_factory=list)

    def hook(
        self,
        hook: str,
        metadata: dict[str, str] | None,
        phase: str = "Progressing",
        **payload: Any,
    ) -> httpx.Response:
        """POST what Flagger sends for a webhook of type `hook` with `metadata` (the token is
        added unless the metadata names one or is None)."""
        if metadata is not None and "token" not in metadata:
            metadata = {**metadata, "token": self.token}
        body = {
            "name": "fraud-detector",
            "namespace": "models",
            "phase": phase,
            "checksum": CHECKSUM,
            **({"metadata": metadata} if metadata is not None else {}),
            **payload,
        }
        # Flagger sets Content-Type and nothing else (webhook.go).
        response = httpx.post(f"{self.live.url}/v1/flagger/{hook}", json=body, timeout=120)
        self.answers.append(response)
        return response

    def call(self, role: str, path: str, body: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.live.tokens[role]}"}
        response = httpx.post(self.live.url + path, json=body, headers=headers, timeout=120)
        assert response.status_code in (200, 201), (path, response.text)
        return response.json()


@pytest.fixture(scope="module")
def flagged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flagged]:
    home = tmp_path_factory.mktemp("flagger-home")
    store = f"sqlite:///{home / 'mlflow.db'}"
    build_demo_registry(store)
    (home / "settings.env").write_text(f"MLGATE_MLFLOW_TRACKING_URI={store}\n")
    with serving(home) as live:
        # The Canary's own token, added while the service runs (it re-reads the tokens file).
        token = add_token(Settings(home=home).resolved_tokens_file, FLAGGER_ID, "gate")
        yield Flagged(live, store, token)


def model_with_versions(flagged: Flagged) -> str:
    """A registered model of its own: v1 the champion, v2 good, v3 regressed (the demo's)."""
    return copy_model(flagged.store, ["1", "2", "3"], champion="1")


def allowed_at_staging(flagged: Flagged, name: str, version: str) -> dict[str, Any]:
    decision: dict[str, Any] = flagged.call(
        "gate",
        "/v1/decisions/promotion",
        {"model": {"name": name, "version": version}, "target": {"stage": "staging"}},
    )
    assert decision["outcome"] == "allow", decision["reasons"]
    return decision


def answered(response: httpx.Response, status: int, outcome: str) -> dict[str, Any]:
    """The body of an answer with `status`, carrying a recorded decision with `outcome`."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["outcome"] == outcome, body
    assert body["caller"] == {"id": FLAGGER_ID, "role": "gate"}
    assert body["audit"]["seq"] > 0 and body["decision_id"]
    assert body["message"].startswith(("yes: " if status == PROCEED else "no: ") + outcome.upper())
    return body


# The promotion gate: confirm-rollout and pre-rollout ask it about `stage`, confirm-promotion
# about `promote_to`.


@pytest.mark.parametrize(
    ("hook", "phase"), [("confirm-rollout", "Initialized"), ("pre-rollout", "Progressing")]
)
def test_a_promotion_hook_answers_200_on_allow_and_409_on_deny(
    flagged: Flagged, hook: str, phase: str
) -> None:
    name = model_with_versions(flagged)
    allowed_at_staging(flagged, name, "2")

    good = flagged.hook(hook, {"model": name, "version": "2", "stage": "canary"}, phase)
    regressed = flagged.hook(hook, {"model": name, "version": "3"}, phase)

    body = answered(good, PROCEED, "allow")
    assert body["gate"] == "promotion" and body["target"] == {"stage": "canary"}
    assert body["hook"] == hook
    denied = answered(regressed, REFUSED, "deny")
    codes = {r["code"] for r in denied["reasons"]}
    assert "STAGE_ORDER" in codes and "METRIC_BELOW_FLOOR" in codes, codes
    assert "STAGE_ORDER" in denied["message"]


def test_confirm_promotion_holds_with_423_until_approved_then_answers_200(
    flagged: Flagged,
) -> None:
    name = model_with_versions(flagged)
    staging = allowed_at_staging(flagged, name, "2")
    metadata = {"model": name, "version": "2"}  # promote_to defaults to production

    pending = flagged.hook("confirm-promotion", metadata)
    flagged.call(
        "approver",
        "/v1/approvals",
        {
            "model": name,
            "version": "2",
            "artifact_digest": staging["model"]["artifact_digest"],
            "role": "model-risk-officer",
            "status": "approved",
            "comment": "validation reviewed",
        },
    )
    approved = flagged.hook("confirm-promotion", metadata)

    held = answered(pending, HOLD, "hold")
    assert held["target"] == {"stage": "production"}
    assert "APPROVAL_PENDING" in {r["code"] for r in held["reasons"]}
    assert held["message"].endswith("Flagger waits and asks again at the next interval")
    assert answered(approved, PROCEED, "allow")["target"] == {"stage": "production"}


def test_enact_true_in_the_metadata_moves_the_stage_alias_after_an_allow(
    flagged: Flagged,
) -> None:
    name = model_with_versions(flagged)
    allowed_at_staging(flagged, name, "2")

    response = flagged.hook(
        "confirm-rollout", {"model": name, "version": "2", "enact": "true"}, "Succeeded"
    )

    body = answered(response, PROCEED, "allow")
    assert body["enactment"]["moved"] is True, body["enactment"]
    assert str(client(flagged.store).get_model_version_by_alias(name, "canary").version) == "2"


# The monitoring gate: confirm-traffic-increase, rollout and rollback ask it about the
# deployment at `stage`, whose snapshots a monitor reported.

SERIES = {"healthy-canary": "allow", "warming-up": "hold", "error-spike": "rollback"}
# hook -> outcome -> status
MONITORING_ANSWERS = {
    "confirm-traffic-increase": {"allow": PROCEED, "hold": HOLD, "rollback": REFUSED},
    "rollout": {"allow": PROCEED, "hold": HOLD, "rollback": REFUSED},
    "rollback": {"allow": REFUSED, "hold": HOLD, "rollback": PROCEED},
}


@pytest.fixture(scope="module")
def monitored(flagged: Flagged) -> dict[str, str]:
    """Series -> the model name of a canary deployment (version 7) that reported it."""
    names = {}
    for series in SERIES:
        name = f"flagger-{series}"
        for path in snapshot_files(series):
            snapshot = json.loads(path.read_text())
            snapshot["deployment"]["model"] = name
            flagged.call("reporter", "/v1/snapshots", snapshot)
        names[series] = name
    return names


@pytest.mark.parametrize("series", sorted(SERIES))
@pytest.mark.parametrize("hook", sorted(MONITORING_ANSWERS))
def test_a_monitoring_hook_answers_each_outcome_with_the_status_flagger_acts_on(
    flagged: Flagged, monitored: dict[str, str], hook: str, series: str
) -> None:
    outcome = SERIES[series]
    status = MONITORING_ANSWERS[hook][outcome]

    response = flagged.hook(hook, {"model": monitored[series], "version": "7"})

    body = answered(response, status, outcome)
    assert body["gate"] == "monitoring" and body["target"] == {"stage": "canary"}
    assert body["snapshot_records"], "the decision names the snapshots it judged"


def test_the_rollback_hook_is_asked_while_waiting_too(
    flagged: Flagged, monitored: dict[str, str]
) -> None:
    metadata = {"model": monitored["error-spike"], "version": "7"}

    for phase in ("Waiting", "WaitingPromotion"):
        answered(flagged.hook("rollback", metadata, phase), PROCEED, "rollback")


# What Flagger does not act on, and what is not Flagger's.


@pytest.mark.parametrize("hook", sorted(UNGATED))
def test_hooks_whose_answer_flagger_ignores_are_refused_naming_the_hook(
    flagged: Flagged, hook: str
) -> None:
    # An event webhook's metadata as Flagger builds it (CallEventWebhook).
    metadata = {"eventMessage": "Starting canary analysis", "eventType": "Normal"}
    metadata |= {"timestamp": "1796212800000", "model": "fraud-detector", "version": "2"}

    response = flagged.hook(hook, metadata, "Succeeded")

    assert response.status_code == 422, response.text
    assert response.json()["field"] == "hook"
    assert f"no gate on Flagger's {hook} hook" in response.json()["message"]


def test_an_unknown_hook_is_a_404_listing_the_hooks(flagged: Flagged) -> None:
    response = flagged.hook("confirm", {"model": "fraud-detector", "version": "2"})

    assert response.status_code == 404, response.text
    assert all(hook in response.json()["message"] for hook in HOOKS)


# Authentication: a gate token in metadata.token, since Flagger sends no headers.


def test_no_metadata_no_token_or_a_wrong_token_is_a_401(flagged: Flagged) -> None:
    deployment = {"model": "fraud-detector", "version": "2"}

    answers = [
        flagged.hook("rollback", None),
        flagged.hook("rollback", deployment | {"token": "mlg_not-a-token"}),
    ]
    without = httpx.post(
        f"{flagged.live.url}/v1/flagger/rollback",
        json={"name": "a", "namespace": "b", "phase": "Progressing", "checksum": "c"}
        | {"metadata": deployment},
    )
    # A bearer header is not where this endpoint reads a token.
    header = httpx.post(
        f"{flagged.live.url}/v1/flagger/rollback",
        json={"name": "a", "namespace": "b", "phase": "Progressing", "checksum": "c"}
        | {"metadata": deployment},
        headers={"Authorization": f"Bearer {flagged.token}"},
    )

    for response in [*answers, without, header]:
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "unauthorized"
    assert "metadata" in without.json()["message"]


@pytest.mark.parametrize("role", ["reporter", "admin", "approver"])
def test_a_token_of_another_role_is_a_403(flagged: Flagged, role: str) -> None:
    metadata = {"model": "fraud-detector", "version": "2", "token": flagged.live.tokens[role]}

    response = flagged.hook("rollback", metadata)

    assert response.status_code == 403, response.text
    assert "it needs 'gate'" in response.json()["message"]


# The payload: Flagger's fields, and the metadata keys mlgate reads.


def test_an_unknown_metadata_key_is_a_422_naming_it(flagged: Flagged) -> None:
    metadata = {"model": "fraud-detector", "version": "2", "promote-to": "staging", "x": "1"}

    response = flagged.hook("confirm-promotion", metadata)

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["field"] == "metadata"
    assert problem["message"] == (
        "metadata: expected only the keys mlgate reads (model, version, stage, promote_to, "
        "enact, token); found the unknown key(s) 'promote-to', 'x'"
    )


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"name": None}, "name"),
        ({"phase": "Running"}, "phase"),
        ({"phase": "Waiting"}, "phase"),  # Flagger asks confirm-promotion only Progressing
        ({"namespace": "Models"}, "namespace"),
        ({"checksum": 85}, "checksum"),
        ({"metadata": {"model": "fraud-detector"}}, "metadata.version"),
        ({"metadata": {"version": "2"}}, "metadata.model"),
        ({"metadata": {"model": "Fraud-Detector", "version": "2"}}, "metadata.model"),
        ({"metadata": {"model": "fraud-detector", "version": 2}}, "metadata.version"),
        (
            {"metadata": {"model": "fraud-detector", "version": "2", "enact": True}},
            "metadata.enact",
        ),
        ({"metadata": {"model": "a", "version": "2", "promote_to": "prod"}}, "metadata.promote_to"),
        ({"metadata": {"model": "a", "version": "2\u0000"}}, "metadata.version"),
        ({"metadata": "model=fraud-detector"}, "metadata"),
    ],
)
def test_a_malformed_payload_is_a_422_naming_the_field(
    flagged: Flagged, change: dict[str, Any], where: str
) -> None:
    body: dict[str, Any] = {
        "name": "fraud-detector",
        "namespace": "models",
        "phase": "Progressing",
        "checksum": CHECKSUM,
        "metadata": {"model": "fraud-detector", "version": "2"},
    }
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    if isinstance(body["metadata"], dict):
        body["metadata"]["token"] = flagged.token

    response = httpx.post(f"{flagged.live.url}/v1/flagger/confirm-promotion", json=body)
    flagged.answers.append(response)

    assert response.status_code == 422, response.text
    assert response.json()["field"] == where, response.json()


def test_a_body_that_is_not_json_or_too_large_is_refused(flagged: Flagged) -> None:
    url = f"{flagged.live.url}/v1/flagger/rollback"
    headers = {"Content-Type": "application/json"}

    broken = httpx.post(url, content=b'{"name": ', headers=headers)
    huge = httpx.post(url, content=b" " * (2 * 1024 * 1024), headers=headers)

    assert broken.status_code == 422 and broken.json()["field"] == "body", broken.text
    assert huge.status_code == 413, huge.text


def test_the_endpoint_is_in_the_openapi_document(flagged: Flagged) -> None:
    document = httpx.get(f"{flagged.live.url}/openapi.json").json()

    operation = document["paths"]["/v1/flagger/{hook}"]["post"]
    assert {"200", "409", "423", "401", "403", "404", "413", "422", "503"} <= set(
        operation["responses"]
    )
    (hook,) = [p for p in operation["parameters"] if p["name"] == "hook"]
    assert hook["schema"]["enum"] == list(HOOKS)
    assert "security" not in operation  # the token is in the payload, not a header


# The token: never recorded, logged nor answered.


def test_the_token_is_in_no_record_input_document_log_line_or_answer(
    flagged: Flagged, monitored: dict[str, str]
) -> None:
    name = model_with_versions(flagged)
    allowed_at_staging(flagged, name, "2")
    answered(
        flagged.hook("confirm-rollout", {"model": name, "version": "2"}, "Initialized"),
        PROCEED,
        "allow",
    )
    answered(
        flagged.hook("rollback", {"model": monitored["error-spike"], "version": "7"}),
        PROCEED,
        "rollback",
    )

    home = flagged.live.home
    ledger = open_ledger_reader(Settings(home=home))
    try:
        records = list(ledger.iter_find(kind="decision", caller=FLAGGER_ID))
        inputs = [ledger.input_document(r.seq, r.input_digest) for r in records]
    finally:
        ledger.close()
    assert len(records) >= 2
    for document in inputs:
        assert document["caller"] == {"id": FLAGGER_ID, "role": "gate"}
        assert flagged.token not in json.dumps(document)
    stored = [p for p in home.iterdir() if p.name.startswith("ledger") and p.is_file()]
    assert stored, sorted(p.name for p in home.iterdir())
    for path in [*stored, flagged.live.log]:
        assert flagged.token.encode() not in path.read_bytes(), path.name
    lines = [json.loads(line) for line in flagged.live.log.read_text().splitlines() if "{" in line]
    flagger_lines = [line for line in lines if "flagger" in line]
    assert {"hook": "rollback", "canary": "models/fraud-detector", "phase": "Progressing"} | {
        "checksum": CHECKSUM
    } in [line["flagger"] for line in flagger_lines]
    assert flagged.answers
    for response in flagged.answers:
        assert flagged.token not in response.text


# A request that cannot be decided is never a 2xx.


def test_a_gate_that_cannot_judge_or_record_never_answers_a_monitoring_hook_with_a_2xx(
    tmp_path: Path, policy_copy: Callable[[], Path]
) -> None:
    """A policy set that lost a file denies (fail closed): Flagger waits at a confirm hook and
    counts a failed check at rollout, and the rollback hook hears "no rollback", which is as
    closed as that hook can be. A service that cannot record answers 503, not a decision."""
    policies = policy_copy()
    (policies / "monitoring" / "max_hold.rego").unlink()
    (policies / "monitoring" / "max_hold_test.rego").unlink()
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.env").write_text(f"MLGATE_POLICY_DIR={policies}\n")
    with serving(home) as live:
        token = add_token(Settings(home=home).resolved_tokens_file, FLAGGER_ID, "gate")
        body = {"name": "fraud-detector", "namespace": "models", "phase": "Progressing"}
        body |= {"checksum": CHECKSUM, "metadata": {"model": "a", "version": "7", "token": token}}

        def ask_each_hook() -> dict[str, httpx.Response]:
            return {
                hook: httpx.post(f"{live.url}/v1/flagger/{hook}", json=body, timeout=60)
                for hook in MONITORING_ANSWERS
            }

        denied = ask_each_hook()
        Settings(home=home).resolved_signing_key.unlink()
        unrecorded = ask_each_hook()

    for hook, response in denied.items():
        assert response.status_code == REFUSED, (hook, response.text)
        assert response.json()["outcome"] == "deny"
        codes = [r["code"] for r in response.json()["reasons"]]
        assert "MONITORING_POLICY_FILES_MISSING" in codes, codes
    for hook, response in unrecorded.items():
        assert response.status_code == 503, (hook, response.text)
        assert response.json()["error"] == "audit_key_missing"
        assert "outcome" not in response.json()


def test_a_promotion_hook_on_a_service_without_a_registry_says_it_needs_one(
    tmp_path: Path,
) -> None:
    with in_process(tmp_path, fast_path=True) as api:
        body = {"name": "fraud-detector", "namespace": "models", "phase": "Initialized"}
        body |= {"checksum": CHECKSUM, "metadata": {"model": "a", "version": "7"}}
        body["metadata"]["token"] = api.tokens["gate"]

        response = api.client.post("/v1/flagger/confirm-rollout", json=body)

    assert response.status_code == 422, response.text
    assert response.json()["field"] == "metadata.model"
    assert "model registry" in response.json()["message"]
