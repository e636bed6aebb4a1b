"""examples/sagemaker: a rollback outcome becomes the CloudWatch alarm SageMaker's
AutoRollbackConfiguration watches. The JSON files are checked against botocore's own models of
the SageMaker and CloudWatch APIs; the script asks a real `mlgate serve` with the client, and an
`aws` stand-in records the call it would make (AWS cannot be reached here), which is checked
against the same models and against the alarm's metric."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from tests.api.conftest import LiveServer
from tests.api.test_rollback_story import install, report_bad_intervals
from tests.api.test_rollback_story import registry_server as registry_server
from tests.evidence.test_registry_trust import copy_model

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sagemaker"
SESSION = botocore.session.get_session()


def _problems(service: str, operation: str, params: dict[str, Any]) -> str:
    shape = SESSION.get_service_model(service).operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    return report.generate_report() if report.has_errors() else ""


def _example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLE / name).read_text())
    return loaded


def test_the_endpoint_update_rolls_back_on_the_alarm() -> None:
    update = _example("update-endpoint.json")
    alarm = _example("alarm.json")
    assert _problems("sagemaker", "UpdateEndpoint", update) == ""
    assert _problems("cloudwatch", "PutMetricAlarm", alarm) == ""
    watched = update["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    assert watched == [{"AlarmName": alarm["AlarmName"]}]
    # Fails closed: no datapoint (the gate could not be asked) is a breach.
    assert alarm["TreatMissingData"] == "breaching"
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
        1,
        "GreaterThanOrEqualToThreshold",
    )


def _publish(
    tmp_path: Path, server_url: str, token: str, model: str, version: str
) -> tuple[subprocess.CompletedProcess[str], list[str] | None]:
    """Run publish-outcome.sh with the checkout's mlgate and an `aws` that records its argv."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    recorded = tmp_path / "aws-argv.json"
    recorded.unlink(missing_ok=True)
    aws = bin_dir / "aws"
    aws.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"open({str(recorded)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
    )
    aws.chmod(0o755)
    mlgate = bin_dir / "mlgate"
    mlgate.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m service.cli.main "$@"\n')
    mlgate.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLGATE_")}
    env |= {
        "PATH": f"{bin_dir}:{env['PATH']}",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "MLGATE_URL": server_url,
        "MLGATE_TOKEN": token,
        "MODEL": model,
        "VERSION": version,
        "ENDPOINT_NAME": "fraud-detector-prod",
    }
    done = subprocess.run(
        ["sh", str(EXAMPLE / "publish-outcome.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    argv = json.loads(recorded.read_text()) if recorded.exists() else None
    return done, argv


def _metric(argv: list[str]) -> dict[str, Any]:
    """The put-metric-data call the AWS CLI would make from `argv` (its shorthand syntax:
    --dimensions Name=Value,...)."""
    assert argv[:2] == ["cloudwatch", "put-metric-data"], argv
    options = dict(zip(argv[2::2], argv[3::2], strict=True))
    dimensions = [
        {"Name": name, "Value": value}
        for name, value in (pair.split("=", 1) for pair in options["--dimensions"].split(","))
    ]
    return {
        "Namespace": options["--namespace"],
        "MetricData": [
            {
                "MetricName": options["--metric-name"],
                "Dimensions": dimensions,
                "Value": float(options["--value"]),
                "Unit": options["--unit"],
            }
        ],
    }


def _in_alarm(metric: dict[str, Any]) -> bool:
    """Whether the datapoint puts alarm.json's alarm in ALARM: same metric, same dimensions
    (CloudWatch matches a metric by its full set of dimensions), at or over the threshold."""
    alarm = _example("alarm.json")
    datum = metric["MetricData"][0]
    assert (metric["Namespace"], datum["MetricName"]) == (alarm["Namespace"], alarm["MetricName"])
    assert datum["Dimensions"] == alarm["Dimensions"]
    assert datum["Unit"] == alarm["Unit"]
    return bool(datum["Value"] >= alarm["Threshold"])


def test_a_rollback_outcome_breaches_and_a_hold_does_not(
    registry_server: tuple[LiveServer, str],
    tmp_path: Path,
) -> None:
    server, store = registry_server
    name = copy_model(store, ["1", "2", "2"], champion="1")
    install(server, name, "2")
    install(server, name, "3")

    done, argv = _publish(tmp_path, server.url, server.tokens["gate"], name, "3")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"HOLD  monitoring of {name} v3 at production")
    assert argv is not None
    metric = _metric(argv)
    assert _problems("cloudwatch", "PutMetricData", metric) == ""
    assert not _in_alarm(metric)

    report_bad_intervals(server, name, "3")

    done, argv = _publish(tmp_path, server.url, server.tokens["gate"], name, "3")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"ROLLBACK  monitoring of {name} v3 at production")
    assert argv is not None
    metric = _metric(argv)
    assert _problems("cloudwatch", "PutMetricData", metric) == ""
    assert _in_alarm(metric)


@pytest.mark.parametrize("reachable", [False, True])
def test_no_outcome_publishes_nothing(
    registry_server: tuple[LiveServer, str],
    tmp_path: Path,
    reachable: bool,
) -> None:
    server, _ = registry_server
    url, token = (server.url, "mlg_not-a-token") if reachable else ("http://127.0.0.1:9", "x")
    done, argv = _publish(tmp_path, url, token, "fraud-detector", "3")
    assert done.returncode == (8 if reachable else 7), done.stderr
    assert argv is None
    assert "nothing published" in done.stderr
