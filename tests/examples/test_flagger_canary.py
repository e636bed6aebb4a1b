"""examples/flagger/canary.yaml: valid for the Canary CRD of the pinned Flagger, each webhook
pointed at the endpoint of its own type with metadata mlgate reads, and, posted as Flagger
builds each webhook's payload from it (the Canary's name and namespace, the phase, the
webhook's metadata with the token templated in), answered through a canary's life by a real
`mlgate serve` with a real MLflow store."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
import yaml

from service.api.auth import add_token
from service.api.flagger import FLAGGER_VERSION, HOLD, HOOKS, METADATA_KEYS, PROCEED, REFUSED
from service.cli.demo_registry import build_demo_registry
from service.settings import PROJECT_ROOT, Settings
from tests.api.conftest import LiveServer, serving
from tests.monitoring.test_fixture_series import snapshot_files
from tests.upstream import crd_validator, module_files, problems

EXAMPLE = PROJECT_ROOT / "examples" / "flagger" / "canary.yaml"
PLACEHOLDER = "${MLGATE_FLAGGER_TOKEN}"
MODULE = f"github.com/fluxcd/flagger@{FLAGGER_VERSION}"


def canary(token: str | None = None) -> dict[str, Any]:
    """The example, with the token written in as the deploy tool would (envsubst)."""
    text = EXAMPLE.read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text.replace(PLACEHOLDER, token or PLACEHOLDER))
    return document


def webhooks(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The webhooks by type."""
    return {w["type"]: w for w in document["spec"]["analysis"]["webhooks"]}


@pytest.fixture(scope="module")
def validator() -> Any:
    (crd,) = module_files(MODULE, "artifacts/flagger/crd.yaml")
    return crd_validator(crd, "Canary", "flagger.app/v1beta1")


def test_the_canary_is_valid_for_flaggers_crd(validator: Any) -> None:
    assert problems(validator, canary()) == []
    assert problems(validator, canary("mlg_a-templated-token")) == []


@pytest.mark.parametrize(
    ("mistake", "found"),
    [
        (lambda c: c["spec"]["analysis"].update(webhook=c["spec"]["analysis"].pop("webhooks")), ""),
        (lambda c: c["spec"]["analysis"]["webhooks"][0]["metadata"].update(version=2), "2"),
        (lambda c: c["spec"]["analysis"]["webhooks"][0].update(type="confirm"), "confirm"),
        (lambda c: c["spec"]["analysis"].pop("threshold"), ""),
    ],
    ids=["misspelt-key", "metadata-number", "unknown-hook-type", "no-threshold"],
)
def test_the_crd_check_finds_the_mistakes_an_author_makes(
    validator: Any, mistake: Any, found: str
) -> None:
    broken = copy.deepcopy(canary())
    mistake(broken)

    found_problems = problems(validator, broken)

    assert found_problems, "the CRD's schema must refuse this"
    assert found in " ".join(found_problems)


def test_each_webhook_calls_the_endpoint_of_its_own_type() -> None:
    hooks = webhooks(canary())

    assert {"confirm-rollout", "confirm-promotion", "rollback"} <= set(hooks)
    assert {"confirm-traffic-increase", "rollout"} & set(hooks)
    for hook, webhook in hooks.items():
        assert hook in HOOKS
        assert urlparse(webhook["url"]).path == f"/v1/flagger/{hook}", webhook["url"]


def test_each_webhook_sends_only_metadata_mlgate_reads_and_a_templated_token() -> None:
    for hook, webhook in webhooks(canary()).items():
        metadata = webhook["metadata"]
        assert set(metadata) <= set(METADATA_KEYS), hook
        assert all(isinstance(v, str) for v in metadata.values()), hook
        assert metadata["token"] == PLACEHOLDER, hook
        assert metadata["model"] == "fraud-detector" and metadata["version"] == "2", hook


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    """A service with the demo registry (fraud-detector v1 the champion, v2 good) and the
    Canary's own gate token."""
    home = tmp_path_factory.mktemp("flagger-example-home")
    store = f"sqlite:///{home / 'mlflow.db'}"
    build_demo_registry(store)
    (home / "settings.env").write_text(f"MLGATE_MLFLOW_TRACKING_URI={store}\n")
    with serving(home) as live:
        yield live, add_token(Settings(home=home).resolved_tokens_file, "flagger-canary", "gate")


class Flagger:
    """Calls the example's webhooks as Flagger does (pkg/controller/webhook.go CallWebhook):
    POST {name, namespace, phase, checksum, metadata} to the webhook's URL."""

    def __init__(self, live: LiveServer, document: dict[str, Any]) -> None:
        self.live = live
        self.document = document
        self.hooks = webhooks(document)

    def call(self, hook: str, phase: str = "Progressing") -> dict[str, Any]:
        webhook = self.hooks[hook]
        payload = {
            "name": self.document["metadata"]["name"],
            "namespace": self.document["metadata"]["namespace"],
            "phase": phase,
            "checksum": "85d557f47b",
            "metadata": webhook["metadata"],
        }
        url = self.live.url + urlparse(webhook["url"]).path
        timeout = float(webhook.get("timeout", "10s").removesuffix("s"))
        response = httpx.post(url, json=payload, timeout=timeout)
        body: dict[str, Any] = response.json()
        return {"status": response.status_code, "outcome": body.get("outcome"), **body}

    def post(self, role: str, path: str, body: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.live.tokens[role]}"}
        response = httpx.post(self.live.url + path, json=body, headers=headers, timeout=60)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def report(self, series: str, later: timedelta = timedelta(0)) -> None:
        """A monitor reports a fixture series for the canary deployment, `later` than it was."""
        for path in snapshot_files(series):
            snapshot = json.loads(path.read_text())
            snapshot["deployment"] = {"model": "fraud-detector", "version": "2", "stage": "canary"}
            for end in ("start", "end"):
                moment = datetime.fromisoformat(snapshot["interval"][end]) + later
                snapshot["interval"][end] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
            self.post("reporter", "/v1/snapshots", snapshot)


def test_a_canarys_life_through_the_examples_webhooks(served: tuple[LiveServer, str]) -> None:
    live, token = served
    flagger = Flagger(live, canary(token))
    # Before Flagger: the pipeline got v2 through staging.
    staging = flagger.post(
        "gate",
        "/v1/decisions/promotion",
        {"model": {"name": "fraud-detector", "version": "2"}, "target": {"stage": "staging"}},
    )
    assert staging["outcome"] == "allow", staging["reasons"]

    # A new revision: may v2 go to canary?
    rollout = flagger.call("confirm-rollout", phase="Succeeded")
    assert (rollout["status"], rollout["outcome"]) == (PROCEED, "allow"), rollout
    # Progressing, before any snapshot: no rollback, no traffic increase.
    early = [flagger.call("rollback"), flagger.call("confirm-traffic-increase")]
    assert [(a["status"], a["outcome"]) for a in early] == [(HOLD, "hold")] * 2, early

    flagger.report("healthy-canary")
    healthy = [flagger.call("rollback"), flagger.call("confirm-traffic-increase")]
    assert [(a["status"], a["outcome"]) for a in healthy] == [
        (REFUSED, "allow"),
        (PROCEED, "allow"),
    ], healthy

    # At the last step: production needs the model risk officer's approval.
    pending = flagger.call("confirm-promotion")
    assert (pending["status"], pending["outcome"]) == (HOLD, "hold"), pending
    flagger.post(
        "approver",
        "/v1/approvals",
        {
            "model": "fraud-detector",
            "version": "2",
            "artifact_digest": rollout["model"]["artifact_digest"],
            "role": "model-risk-officer",
            "status": "approved",
            "comment": "canary reviewed",
        },
    )
    promoted = flagger.call("confirm-promotion")
    assert (promoted["status"], promoted["outcome"]) == (PROCEED, "allow"), promoted

    # Later intervals go bad: the rollback hook aborts the canary, and traffic stops growing.
    flagger.report("error-spike", later=timedelta(hours=1))
    bad = [
        flagger.call("rollback", phase="WaitingPromotion"),
        flagger.call("confirm-traffic-increase"),
    ]
    assert [(a["status"], a["outcome"]) for a in bad] == [
        (PROCEED, "rollback"),
        (REFUSED, "rollback"),
    ], bad

    answers = [rollout, *early, *healthy, pending, promoted, *bad]
    assert {a["caller"]["id"] for a in answers} == {"flagger-canary"}
    assert len({a["decision_id"] for a in answers}) == len(answers)
    verified = httpx.get(
        f"{live.url}/v1/audit/verify",
        headers={"Authorization": f"Bearer {live.tokens['auditor']}"},
        timeout=60,
    )
    assert verified.json()["ok"] is True
