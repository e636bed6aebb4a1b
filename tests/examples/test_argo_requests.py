"""The request examples/argo/analysis-template.yaml makes, sent as Argo Rollouts sends it to a
real `mlgate serve` over HTTP, and the template's conditions judged on the real answers: a
healthy canary is a Successful measurement, one still warming up Inconclusive, one whose
errors spiked Failed, and a refused token an Error.

The request is built as Argo Rollouts v1.10.1 builds it: the Rollout's analysis-step args
(utils/analysis/factory.go, BuildArgumentsForRolloutAnalysisRun and extractValueFromRollout:
a spec.* fieldPath split at dots and brackets), the template's own args and its Secret;
every `{{args.NAME}}` in the metric replaced by the value escaped for JSON
(utils/template/template.go, ResolveQuotedArgs; an argument without a value, or a tag that
names none, is an error); then metricproviders/webmetric/webmetric.go, Run: the method, the
URL, each header, jsonBody marshalled with Content-Type application/json."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import yaml

from service.settings import PROJECT_ROOT
from tests.api.conftest import LiveServer, serving
from tests.examples.conftest import EXAMPLES

ARGO = EXAMPLES / "argo"
SNAPSHOTS = PROJECT_ROOT / "fixtures" / "snapshots"
# A snapshot series of fixtures/snapshots/ -> the canary version it is reported for here, and
# the measurement phase the template must record for mlgate's answer on it.
CASES = {
    "healthy-canary": ("7", "Successful"),
    "warming-up": ("8", "Inconclusive"),
    "error-spike": ("9", "Failed"),
}


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ARGO / name).read_text())
    return document


@pytest.fixture(scope="module")
def monitoring_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`mlgate serve` with each case's snapshots reported for its own canary version."""
    with serving(tmp_path_factory.mktemp("argo-home")) as server:
        for series, (version, _) in CASES.items():
            for path in sorted((SNAPSHOTS / series).glob("0*.json")):
                snapshot = json.loads(path.read_text())
                snapshot["deployment"]["version"] = version
                posted = httpx.post(
                    f"{server.url}/v1/snapshots",
                    json=snapshot,
                    headers={"Authorization": f"Bearer {server.tokens['reporter']}"},
                    timeout=60,
                )
                assert posted.status_code == 201, posted.text
        yield server


def from_rollout(rollout: dict[str, Any], path: str) -> str:
    """extractValueFromRollout: the primitive value at a spec.* fieldPath."""
    value: Any = rollout
    for section in filter(None, re.split(r"[.\[\]]+", path)):
        value = value[int(section)] if isinstance(value, list) else value[section]
    assert not isinstance(value, dict | list), f"{path} must end in a primitive value"
    return str(value)


def analysis_args(
    rollout: dict[str, Any], template: dict[str, Any], secrets: dict[tuple[str, str], str]
) -> dict[str, str]:
    """The AnalysisRun's arguments: the template's, with the Rollout step's over them, and
    secretKeyRef values read from `secrets` ((name, key) -> value)."""
    steps = rollout["spec"]["strategy"]["canary"]["steps"]
    (step,) = [s["analysis"] for s in steps if "analysis" in s]
    given = {}
    for arg in step.get("args", []):
        source = arg.get("valueFrom", {})
        given[arg["name"]] = (
            from_rollout(rollout, source["fieldRef"]["fieldPath"]) if source else arg["value"]
        )
    args = {}
    for arg in template["spec"]["args"]:
        name = arg["name"]
        secret = arg.get("valueFrom", {}).get("secretKeyRef")
        if secret:
            args[name] = secrets[(secret["name"], secret["key"])]
        elif name in given:
            args[name] = given.pop(name)
        else:
            assert "value" in arg, f'argument "{name}" was not supplied'
            args[name] = arg["value"]
    assert not given, f"the Rollout passes arguments the template lacks: {sorted(given)}"
    return args


def resolve(metric: dict[str, Any], args: dict[str, str]) -> dict[str, Any]:
    """ResolveQuotedArgs on the metric's JSON."""

    def value(tag: re.Match[str]) -> str:
        name = tag.group(1).strip()
        assert name.startswith("args.") and name[5:] in args, f"failed to resolve {{{{{name}}}}}"
        return json.dumps(args[name[5:]])[1:-1]

    resolved: dict[str, Any] = json.loads(re.sub(r"\{\{(.*?)\}\}", value, json.dumps(metric)))
    return resolved


def measure(
    metric: dict[str, Any], argo_measure: Callable[..., list[str]]
) -> tuple[str, httpx.Response]:
    """The Web provider's request for the resolved `metric`, sent; its measurement phase."""
    web = metric["provider"]["web"]
    headers = {h["key"]: h["value"] for h in web.get("headers", [])}
    body = None
    if "jsonBody" in web:
        headers["Content-Type"] = "application/json"
        body = json.dumps(web["jsonBody"], separators=(",", ":"))
    response = httpx.request(
        web.get("method", "GET"),
        web["url"],
        headers=headers,
        content=body,
        timeout=web.get("timeoutSeconds", 10),
    )
    query = {
        "status": response.status_code,
        "body": response.text,
        "jsonPath": web.get("jsonPath", ""),
        "successCondition": metric.get("successCondition", ""),
        "failureCondition": metric.get("failureCondition", ""),
    }
    (phase,) = argo_measure([query])
    return phase, response


def request_for(server: LiveServer, version: str, token: str) -> dict[str, Any]:
    """The template's metric resolved as the AnalysisRun of the Rollout at `version` gets it,
    the Secret holding `token` and the service at `server`'s URL."""
    template = load("analysis-template.yaml")
    rollout = copy.deepcopy(load("rollout.yaml"))
    rollout["spec"]["template"]["metadata"]["labels"]["model-version"] = version
    secret = load("secret.yaml")
    (key,) = secret["stringData"]
    args = analysis_args(rollout, template, {(secret["metadata"]["name"], key): token})
    args["mlgate-url"] = server.url  # the template's default names the in-cluster service
    (metric,) = template["spec"]["metrics"]
    return resolve(metric, args)


@pytest.mark.parametrize("series", CASES)
def test_the_templates_request_gets_each_outcome_its_measurement_phase(
    monitoring_service: LiveServer, argo_measure: Callable[..., list[str]], series: str
) -> None:
    version, expected = CASES[series]
    metric = request_for(monitoring_service, version, monitoring_service.tokens["gate"])

    phase, response = measure(metric, argo_measure)

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["gate"] == "monitoring"
    assert answer["model"]["name"] == "fraud-detector" and answer["model"]["version"] == version
    assert (answer["outcome"], phase) in {
        ("allow", "Successful"),
        ("hold", "Inconclusive"),
        ("rollback", "Failed"),
    }
    assert phase == expected, answer["reasons"]


def test_the_request_is_the_one_the_template_describes(monitoring_service: LiveServer) -> None:
    metric = request_for(monitoring_service, "7", "mlg_token")
    web = metric["provider"]["web"]

    assert (web["method"], web["url"]) == (
        "POST",
        f"{monitoring_service.url}/v1/decisions/monitoring",
    )
    assert web["headers"] == [{"key": "Authorization", "value": "Bearer mlg_token"}]
    assert web["jsonBody"] == {
        "model": {"name": "fraud-detector", "version": "7"},
        "stage": "canary",
    }


def test_a_refused_token_is_an_error_measurement(
    monitoring_service: LiveServer, argo_measure: Callable[..., list[str]]
) -> None:
    metric = request_for(monitoring_service, "7", "mlg_not-a-token")

    phase, response = measure(metric, argo_measure)

    assert response.status_code == 401
    assert phase == "Error"


def test_a_reporter_token_is_refused_too(
    monitoring_service: LiveServer, argo_measure: Callable[..., list[str]]
) -> None:
    # The AnalysisTemplate's token is the gated party's: it may ask, never report.
    metric = request_for(monitoring_service, "7", monitoring_service.tokens["reporter"])

    phase, response = measure(metric, argo_measure)

    assert response.status_code == 403
    assert phase == "Error"


def test_the_secret_example_holds_no_token() -> None:
    secret = load("secret.yaml")

    assert secret["kind"] == "Secret"
    assert not any(re.match(r"mlg_", v) for v in secret["stringData"].values())
