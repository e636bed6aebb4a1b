"""`mlgate decide --format junit|sarif` run as a CI job runs it, locally with the embedded engine
and against `mlgate serve`: the JUnit read back by a JUnit parser, the SARIF validated against
the official SARIF 2.1.0 schema, each from the one decision --output keeps."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from junitparser import Failure, JUnitXml, Skipped

from service.cli.demo_registry import MODEL, build_demo_registry
from service.decision.service_rules import SERVICE_RULES
from service.engine.catalogue import RuleEntry, rule_catalogue
from service.engine.policyset import load_policy_set
from tests.api.conftest import LiveServer, serving
from tests.cli.test_local_mode import mlgate
from tests.conftest import EVIDENCE_DIR, POLICY_DIR

POLICIES = load_policy_set(POLICY_DIR)
SARIF_BASE = {"POLICIES": {"uri": POLICY_DIR.resolve().as_uri() + "/"}}
REGRESSION = (
    "auc 0.9318 against the champion v5's 0.9357: the change -0.0039 misses "
    "min_absolute_change 0, so it needs at least 0.9357"
)
REGRESSION_CONTROLS = ["SR 11-7 III.B", "NIST AI RMF MEASURE 2.13"]
WAIVER_REASON = (
    "Champion v5 is evaluated on a holdout that overlaps its own training window; the "
    "regression is within the overlap bias. Re-evaluate on the 2026Q4 holdout."
)


def gate_rules(gate: str) -> list[RuleEntry]:
    """The oracle: the catalogued rules of the gate's package, then the service's own."""
    package = f"mlgate.{gate}"
    return [e for e in rule_catalogue(POLICIES) if e.package == package] + list(SERVICE_RULES)


def case_name(entry: RuleEntry) -> str:
    return f"{entry.code}: {entry.title}"


def rule(code: str) -> RuleEntry:
    return next(e for e in rule_catalogue(POLICIES) if e.code == code)


def decide(
    home: Path, fixture: str, fmt: str, *args: str, stage: str = "production", **env: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """The decision printed in `fmt`, and the JSON --output kept of it."""
    kept = home.parent / f"{home.name}-{fmt}.json"
    evidence = ["--evidence", str(EVIDENCE_DIR / fixture)] if fixture else []
    run = mlgate(
        home, "decide", "promotion", *evidence, "--to", stage, "--format", fmt,
        "--output", str(kept), *args, **env,
    )  # fmt: skip
    assert run.stdout, run.stderr
    return run, json.loads(kept.read_text())


def junit_cases(xml: str) -> tuple[dict[str, str], dict[str, tuple[str, str, Any]]]:
    """The one suite's properties, and each case by name: (classname, state, what it says)."""
    [suite] = JUnitXml.fromstring(xml)
    properties = {p.name: p.value for p in suite.properties()}
    cases: dict[str, tuple[str, str, Any]] = {}
    for case in suite:
        failures = [(r.type, r.message) for r in case.result if isinstance(r, Failure)]
        skipped = [r.message for r in case.result if isinstance(r, Skipped)]
        if failures:
            cases[case.name] = (case.classname, "failed", failures)
        elif skipped:
            cases[case.name] = (case.classname, "skipped", (skipped, case.system_out))
        else:
            cases[case.name] = (case.classname, "passed", case.system_out)
    return properties, cases


def all_passing(gate: str) -> dict[str, tuple[str, str, Any]]:
    return {
        case_name(e): (f"data.{e.package}" if e.package else "mlgate.service", "passed", None)
        for e in gate_rules(gate)
    }


def facts(decision: dict[str, Any], **more: str) -> dict[str, str]:
    return {
        "decision_id": decision["decision_id"],
        "gate": decision["gate"],
        "outcome": decision["outcome"],
        "model": f"{decision['model']['name']} v{decision['model']['version']}",
        "policy_revision": decision["policy_revision"],
        "audit_seq": str(decision["audit"]["seq"]),
        "catalogue_revision": decision["policy_revision"],
        **more,
    }


def located(entry: RuleEntry) -> list[dict[str, Any]]:
    return [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": entry.file, "uriBaseId": "POLICIES"},
                "region": {"startLine": entry.line},
            },
            "logicalLocations": [{"fullyQualifiedName": entry.rule, "kind": "member"}],
        }
    ]


def sarif_run(log: dict[str, Any], sarif_schema: Any) -> dict[str, Any]:
    """The one run of a log that the SARIF 2.1.0 schema accepts, its results' ruleIndex checked
    against the rules and dropped."""
    errors = [error.message for error in sarif_schema.iter_errors(log)]
    assert errors == []
    [run] = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result.pop("ruleIndex")]["id"] == result["ruleId"]
    return dict(run)


def ledger_records(home: Path) -> str:
    return mlgate(home, "audit", "verify").stdout


def test_a_deny_fails_the_case_of_the_rule_that_denied(tmp_path: Path) -> None:
    home = tmp_path / "home"

    run, decision = decide(home, "regressed", "junit")

    assert run.returncode == 1, run.stderr
    properties, cases = junit_cases(run.stdout)
    assert properties == facts(decision)  # --output kept the very decision reported
    failed = f"{REGRESSION}  [{', '.join(REGRESSION_CONTROLS)}]"
    regression = case_name(rule("METRIC_REGRESSION_ABSOLUTE"))
    assert cases == {
        **all_passing("promotion"),
        regression: (
            "data.mlgate.promotion",
            "failed",
            [("METRIC_REGRESSION_ABSOLUTE", failed)],
        ),
    }
    assert "2/2 records valid (1 policy revision, 1 decision)" in ledger_records(home)


def test_a_hold_fails_the_case_of_the_approval_awaited(tmp_path: Path) -> None:
    run, decision = decide(tmp_path / "home", "high-risk-pending-approval", "junit")

    assert run.returncode == 4, run.stderr
    properties, cases = junit_cases(run.stdout)
    assert properties == facts(decision)
    pending = (
        "v7 to production awaits approval by a model-risk-officer (pending)  "
        "[SR 11-7 IV, EU AI Act Art. 14]"
    )
    assert cases == {
        **all_passing("promotion"),
        case_name(rule("APPROVAL_PENDING")): (
            "data.mlgate.promotion",
            "failed",
            [("APPROVAL_PENDING", pending)],
        ),
    }


def test_a_waived_reason_is_a_skipped_case_with_the_waiver(tmp_path: Path) -> None:
    run, decision = decide(tmp_path / "home", "waived", "junit")

    assert run.returncode == 0, run.stderr
    properties, cases = junit_cases(run.stdout)
    assert properties == facts(decision)
    waiver = f"waived by c.lindqvist@example.com until 2030-12-31T00:00:00Z: {WAIVER_REASON}"
    controls = f"  [{', '.join(REGRESSION_CONTROLS)}]"
    assert cases == {
        **all_passing("promotion"),
        case_name(rule("METRIC_REGRESSION_ABSOLUTE")): (
            "data.mlgate.promotion",
            "skipped",
            ([waiver], f"waived METRIC_REGRESSION_ABSOLUTE: {REGRESSION}{controls} ({waiver})"),
        ),
    }


def test_sarif_of_a_deny_locates_the_reason_at_its_rule(tmp_path: Path, sarif_schema: Any) -> None:
    home = tmp_path / "home"

    run, decision = decide(home, "regressed", "sarif")

    assert run.returncode == 1, run.stderr
    log = json.loads(run.stdout)
    assert log["version"] == "2.1.0"
    sarif = sarif_run(log, sarif_schema)
    entry = rule("METRIC_REGRESSION_ABSOLUTE")
    assert [r["id"] for r in sarif["tool"]["driver"]["rules"]] == [
        e.code for e in gate_rules("promotion")
    ]
    assert sarif["results"] == [
        {
            "ruleId": "METRIC_REGRESSION_ABSOLUTE",
            "level": "error",
            "message": {"text": f"{REGRESSION}  [{', '.join(REGRESSION_CONTROLS)}]"},
            "locations": located(entry),
            "properties": {
                "rule": entry.title,
                "severity": "high",
                "controls": REGRESSION_CONTROLS,
                "metric": "auc",
                "actual": 0.9318,
                "threshold": 0.9357,
                "baseline": 0.9357,
            },
        }
    ]
    assert sarif["properties"] == facts(decision)
    assert sarif["invocations"] == [{"executionSuccessful": True}]
    assert sarif["automationDetails"] == {"id": f"mlgate/promotion/{decision['decision_id']}"}
    assert sarif["originalUriBaseIds"]["POLICIES"]["uri"] == SARIF_BASE["POLICIES"]["uri"]
    assert "2/2 records valid (1 policy revision, 1 decision)" in ledger_records(home)


def test_sarif_of_a_hold_and_of_a_waiver(tmp_path: Path, sarif_schema: Any) -> None:
    held, held_decision = decide(tmp_path / "held", "high-risk-pending-approval", "sarif")
    waived, waived_decision = decide(tmp_path / "waived", "waived", "sarif")

    assert (held.returncode, waived.returncode) == (4, 0)
    [pending] = sarif_run(json.loads(held.stdout), sarif_schema)["results"]
    assert (pending["ruleId"], pending["level"]) == ("APPROVAL_PENDING", "error")
    assert pending["locations"] == located(rule("APPROVAL_PENDING"))
    waived_run = sarif_run(json.loads(waived.stdout), sarif_schema)
    [warning] = waived_run["results"]
    assert (warning["ruleId"], warning["level"]) == ("METRIC_REGRESSION_ABSOLUTE", "warning")
    assert warning["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": WAIVER_REASON,
            "properties": {
                "approved_by": "c.lindqvist@example.com",
                "expires_at": "2030-12-31T00:00:00Z",
                "role": "model-risk-officer",
            },
        }
    ]
    assert waived_run["properties"] == facts(waived_decision)
    assert held_decision["outcome"] == "hold"


@pytest.fixture(scope="module")
def registry_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose local MLflow store (<home>/mlflow.db) holds the demo model's versions."""
    home = tmp_path_factory.mktemp("registry")
    build_demo_registry(f"sqlite:///{(home / 'mlflow.db').resolve()}")
    return home


@pytest.mark.parametrize("fmt", ["junit", "sarif"])
def test_an_enacted_allow_carries_the_enact_line(
    registry_home: Path, fmt: str, tmp_path: Path, sarif_schema: Any
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "mlflow.db").write_bytes((registry_home / "mlflow.db").read_bytes())
    model = ["--model", MODEL, "--version", "2", "--enact"]

    run, decision = decide(home, "", fmt, *model, stage="staging")

    assert run.returncode == 0, run.stderr
    enactment = decision["enactment"]
    assert enactment["moved"] is True
    enact = f"{enactment['note']}  (seq {enactment['record']})"
    if fmt == "junit":
        properties, cases = junit_cases(run.stdout)
        assert properties == facts(decision, enact=enact)
        assert cases == all_passing("promotion")
    else:
        sarif = sarif_run(json.loads(run.stdout), sarif_schema)
        assert sarif["results"] == []
        assert sarif["properties"] == facts(decision, enact=enact)
        assert sarif["invocations"] == [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [{"level": "note", "message": {"text": enact}}],
            }
        ]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serving(tmp_path_factory.mktemp("served")) as server:
        yield server


def recorded(server: LiveServer) -> list[str]:
    """The ids of the decisions the service has recorded, newest first."""
    audit = httpx.get(
        f"{server.url}/v1/audit",
        headers={"Authorization": f"Bearer {server.tokens['auditor']}"},
        timeout=30,
    )
    assert audit.status_code == 200, audit.text
    return [r["decision_id"] for r in audit.json()["records"] if r["kind"] == "decision"]


def over_http(
    server: LiveServer, home: Path, fixture: str, fmt: str, role: str = "gate"
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    return decide(home, fixture, fmt, "--url", server.url, MLGATE_TOKEN=server.tokens[role])


def test_over_http_the_report_describes_the_services_rules(
    served: LiveServer, tmp_path: Path
) -> None:
    before = recorded(served)

    run, decision = over_http(served, tmp_path / "home", "regressed", "junit")

    assert run.returncode == 1, run.stderr
    properties, cases = junit_cases(run.stdout)
    assert properties == facts(decision)
    # The service takes no history or approvals from the caller: stage order and approval too.
    failed = {
        "STAGE_ORDER": "v7 has no earlier allow at staging or canary, which production requires"
        "  [SR 11-7 IV, NIST AI RMF MANAGE 1.1]",
        "APPROVAL_PENDING": "v7 to production awaits approval by a model-risk-officer (none "
        "requested)  [SR 11-7 IV, EU AI Act Art. 14]",
        "METRIC_REGRESSION_ABSOLUTE": f"{REGRESSION}  [{', '.join(REGRESSION_CONTROLS)}]",
    }
    assert cases == {
        **all_passing("promotion"),
        **{
            case_name(rule(code)): ("data.mlgate.promotion", "failed", [(code, message)])
            for code, message in failed.items()
        },
    }
    assert recorded(served) == [decision["decision_id"], *before]  # one decision, recorded once


def test_over_http_a_recorded_waiver_is_a_suppression(
    served: LiveServer, tmp_path: Path, sarif_schema: Any
) -> None:
    waiver = json.loads((EVIDENCE_DIR / "waived" / "waivers.json").read_text())[0]
    del waiver["approved_by"]  # the approver is whoever the token names
    waiver["expires_at"] = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    posted = httpx.post(
        f"{served.url}/v1/waivers",
        json=waiver,
        headers={"Authorization": f"Bearer {served.tokens['approver']}"},
        timeout=30,
    )
    assert posted.status_code == 201, posted.text

    run, decision = over_http(served, tmp_path / "home", "waived", "sarif")

    assert run.returncode == 1, run.stderr  # no history or approval on record: see above
    sarif = sarif_run(json.loads(run.stdout), sarif_schema)
    *errors, warning = sarif["results"]
    assert [(e["ruleId"], e["level"]) for e in errors] == [
        ("STAGE_ORDER", "error"),
        ("APPROVAL_PENDING", "error"),
    ]
    assert (warning["ruleId"], warning["level"]) == ("METRIC_REGRESSION_ABSOLUTE", "warning")
    [suppression] = warning["suppressions"]
    assert (suppression["kind"], suppression["justification"]) == ("external", WAIVER_REASON)
    assert suppression["properties"]["approved_by"] == "local-approver"
    assert sarif["properties"] == facts(decision)
    assert sarif["originalUriBaseIds"] == {
        "POLICIES": {"description": {"text": f"The policy directory: GET {served.url}/v1/policies"}}
    }


def test_over_http_a_refused_token_stops_before_any_decision(
    served: LiveServer, tmp_path: Path
) -> None:
    before = recorded(served)

    run = mlgate(
        tmp_path / "home", "decide", "promotion", "--evidence", str(EVIDENCE_DIR / "regressed"),
        "--to", "staging", "--url", served.url, "--format", "junit",
        MLGATE_TOKEN="mlg_not_a_token",
    )  # fmt: skip

    assert run.returncode == 8
    assert f"{served.url}/v1/policies answered 401" in run.stderr
    assert run.stdout == ""
    assert recorded(served) == before
