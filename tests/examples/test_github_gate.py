"""The GitHub Actions gate (examples/github/): its `Ask mlgate` step, read from the composite
action's YAML, run as the runner runs it (the step's env from the action's inputs, a step
summary file, an output file) under sh -e, bash -e and bash -eo pipefail, against a real
`mlgate serve` reading a real MLflow registry. A deny, a hold and every way of getting no
decision fail the step in each shell, with the reasons in the log and in the summary; an allow
passes; one decision is recorded per run."""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.api.conftest import LiveServer
from tests.conftest import free_port
from tests.examples.conftest import EXAMPLES, SHELLS, ScriptRun, run_script

ACTION = EXAMPLES / "github" / "mlgate-gate" / "action.yml"
WORKFLOW = EXAMPLES / "github" / "gate.yml"
CLIENT = "git+https://git.example.com/platform/mlgate@4f1c2a9"
INPUT = re.compile(r"^\$\{\{ inputs\.([a-z0-9-]+) \}\}$")
# The report formats the action writes by default come from a newer CLI than some; where the
# CLI lacks them, the runs that must pass ask for no report files.


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return document


def gate_step() -> dict[str, Any]:
    (step,) = [s for s in load(ACTION)["runs"]["steps"] if s.get("id") == "decide"]
    return step


def inputs_with(**given: str) -> dict[str, str]:
    """The action's inputs as the runner resolves them: the defaults, then what `with:` gives;
    a required input must be given."""
    declared = load(ACTION)["inputs"]
    names = {name.replace("-", "_"): name for name in declared}
    assert set(given) <= set(names), set(given) - set(names)
    resolved = {name: str(spec.get("default", "")) for name, spec in declared.items()}
    resolved.update({names[key]: value for key, value in given.items()})
    missing = [n for n, spec in declared.items() if spec.get("required") and not resolved[n]]
    assert not missing, f"required inputs not given: {missing}"
    return resolved


def step_env(inputs: dict[str, str]) -> dict[str, str]:
    """The step's `env:`, each value an input (`${{ inputs.NAME }}`, nothing else)."""
    env = {}
    for name, value in gate_step()["env"].items():
        matched = INPUT.match(str(value))
        assert matched, f"env {name} is {value!r}: only ${{{{ inputs.NAME }}}} is expected"
        env[name] = inputs[matched.group(1)]
    return env


@pytest.fixture
def run_gate(tmp_path: Path, client_bin: Path) -> Any:
    def run(
        shell: str, summary_path: Path | None = None, label: str = "", **given: str
    ) -> tuple[ScriptRun, str]:
        workspace = tmp_path / (label or shell.replace(" ", "_"))
        workspace.mkdir()
        summary = summary_path or workspace / "step_summary.md"
        if summary_path is None:
            summary.write_text("")
        (workspace / "output.txt").write_text("")
        runner = {
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_OUTPUT": str(workspace / "output.txt"),
            "GITHUB_WORKSPACE": str(workspace),
            "RUNNER_TEMP": str(tmp_path),
        }
        env = {**step_env(inputs_with(**given)), **runner}
        done = run_script(gate_step()["run"], shell, env, workspace, client_bin)
        return done, summary.read_text() if summary.is_file() else ""

    return run


def outputs(run_dir: Path) -> dict[str, str]:
    lines = (run_dir / "output.txt").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


def recorded(server: LiveServer, version: str) -> int:
    response = httpx.get(
        f"{server.url}/v1/audit?kind=decision&model=fraud-detector&version={version}&limit=500",
        headers={"Authorization": f"Bearer {server.tokens['auditor']}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return len(response.json()["records"])


def ask(server: LiveServer, version: str, stage: str, **more: str) -> dict[str, str]:
    return {
        "url": server.url,
        "token": server.tokens["gate"],
        "model": "fraud-detector",
        "version": version,
        "stage": stage,
        "pip_requirement": CLIENT,  # read by the install step, which these runs replace
        **more,
    }


def test_the_client_is_never_installed_by_a_bare_name() -> None:
    """mlgate is not on PyPI: a default of `mlgate` would install whatever someone else
    publishes under the name, and give it the token. The workflow names this repository."""
    spec = load(ACTION)["inputs"]["pip-requirement"]
    assert spec.get("required") is True and "default" not in spec
    (gate,) = [s for s in load(WORKFLOW)["jobs"]["gate"]["steps"] if s.get("id") == "gate"]
    assert gate["with"]["pip-requirement"].startswith("git+${{ github.server_url }}/")


def test_the_gate_step_reads_its_inputs_through_env_only() -> None:
    step = gate_step()

    assert step["shell"] == "sh"
    assert "${{" not in step["run"]  # an input pasted into the script could inject commands
    given = {"url": "u", "token": "t", "model": "m", "version": "1", "pip_requirement": CLIENT}
    assert step_env(inputs_with(**given))["MLGATE_TOKEN"] == "t"


@pytest.mark.parametrize("shell", SHELLS)
def test_a_deny_fails_the_step_with_its_reasons_in_the_log_and_the_summary(
    gate_service: LiveServer, run_gate: Any, shell: str, tmp_path: Path
) -> None:
    before = recorded(gate_service, "3")

    done, summary = run_gate(shell, **ask(gate_service, "3", "production"))

    assert done.code == 1, done.stdout + done.stderr
    decision = json.loads(
        (tmp_path / shell.replace(" ", "_") / "mlgate-reports" / "decision.json").read_text()
    )
    assert decision["outcome"] == "deny"
    assert "DENY  promotion of fraud-detector v3 to production" in done.stdout
    assert summary.startswith("### ⛔ DENY: promotion of fraud-detector v3 to production")
    for reason in decision["reasons"]:
        assert f"{reason['code']}: {reason['message']}" in done.stdout
        assert f"::error title={reason['code']}::" in done.stdout  # an annotation each
        assert f"`{reason['code']}`" in summary
    # Asked once: the log, the summary and the file show one decision, the one recorded.
    assert set(re.findall(r"decision `?([0-9a-f-]{36})", done.stdout + summary)) == {
        decision["decision_id"]
    }
    assert recorded(gate_service, "3") == before + 1
    kept = outputs(tmp_path / shell.replace(" ", "_"))
    assert (kept["outcome"], kept["exit-code"]) == ("deny", "1")


@pytest.mark.parametrize("shell", SHELLS)
def test_a_hold_fails_the_step(gate_service: LiveServer, run_gate: Any, shell: str) -> None:
    # Production needs an earlier allow at staging (else a deny), then waits for an approval.
    staged = httpx.post(
        f"{gate_service.url}/v1/decisions/promotion",
        json={"model": {"name": "fraud-detector", "version": "2"}, "target": {"stage": "staging"}},
        headers={"Authorization": f"Bearer {gate_service.tokens['gate']}"},
        timeout=60,
    )
    assert staged.json()["outcome"] == "allow", staged.text

    done, summary = run_gate(shell, **ask(gate_service, "2", "production"))

    assert done.code == 4, done.stdout + done.stderr
    assert "APPROVAL_PENDING" in done.stdout and "APPROVAL_PENDING" in summary
    assert summary.startswith("### ⏸️ HOLD")


@pytest.mark.parametrize("shell", SHELLS)
def test_an_allow_passes_the_step(
    gate_service: LiveServer, run_gate: Any, shell: str, tmp_path: Path
) -> None:

    done, summary = run_gate(shell, **ask(gate_service, "2", "staging"))

    assert done.code == 0, done.stdout + done.stderr
    assert "ALLOW  promotion of fraud-detector v2 to staging" in done.stdout
    assert summary.startswith("### ✅ ALLOW: promotion of fraud-detector v2 to staging")
    assert outputs(tmp_path / shell.replace(" ", "_"))["outcome"] == "allow"


@pytest.mark.parametrize("shell", SHELLS)
def test_a_refused_token_fails_the_step_saying_so(
    gate_service: LiveServer, run_gate: Any, shell: str
) -> None:
    done, summary = run_gate(shell, **ask(gate_service, "2", "staging", token="mlg_not-a-token"))

    assert done.code == 8, done.stdout + done.stderr
    assert "no decision (exit 8: the token is missing, wrong, or lacks the gate role)" in summary
    assert "answered 401" in summary  # the CLI's own message, kept for the reader
    assert "::error title=mlgate::no decision (exit 8" in done.stdout


@pytest.mark.parametrize("shell", SHELLS)
def test_an_unreachable_service_fails_the_step_saying_so(run_gate: Any, shell: str) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"

    done, summary = run_gate(
        shell,
        url=nowhere,
        token="t",
        model="fraud-detector",
        version="2",
        stage="staging",
        pip_requirement=CLIENT,
    )

    assert done.code == 7, done.stdout + done.stderr
    assert "no decision (exit 7: nothing answered at the service's URL)" in summary


@pytest.mark.parametrize("shell", SHELLS)
def test_a_summary_that_cannot_be_written_never_turns_a_deny_or_an_allow_into_a_pass(
    gate_service: LiveServer, run_gate: Any, shell: str, tmp_path: Path
) -> None:
    directory = tmp_path / "summary-is-a-directory"
    directory.mkdir()

    denied, _ = run_gate(shell, directory, "deny", **ask(gate_service, "3", "production"))
    allowed, _ = run_gate(shell, directory, "allow", **ask(gate_service, "2", "staging"))

    assert denied.code == 1, denied.stdout + denied.stderr
    assert allowed.code == 2, allowed.stdout + allowed.stderr
    assert "could not write: summary (the decision's exit code was 0)" in allowed.stdout


# What the step avoids: the README's first idea, a pipe to tee, passes a deny under sh -e and
# under GitHub's default bash -e; only pipefail catches it. The same harness that runs the
# step tells them apart, so its passes above are not the harness's doing.
NAIVE = """mlgate decide promotion --url "$MLGATE_URL" --model "$MLGATE_MODEL" \\
  --version "$MLGATE_VERSION" --stage "$MLGATE_STAGE" --format markdown \\
  | tee -a "$GITHUB_STEP_SUMMARY"
"""


@pytest.mark.parametrize(
    ("shell", "passes"), [("sh -e", True), ("bash -e", True), ("bash -eo pipefail", False)]
)
def test_a_pipe_to_tee_would_pass_a_deny_where_the_step_fails_it(
    gate_service: LiveServer, client_bin: Path, tmp_path: Path, shell: str, passes: bool
) -> None:
    summary = tmp_path / "summary.md"
    env = {
        **step_env(inputs_with(**ask(gate_service, "3", "production"))),
        "GITHUB_STEP_SUMMARY": str(summary),
    }

    done = run_script(NAIVE, shell, env, tmp_path, client_bin)

    assert "DENY" in summary.read_text()
    assert (done.code == 0) is passes, done.code


def test_the_junit_and_sarif_files_come_from_the_one_decision(
    gate_service: LiveServer, run_gate: Any, tmp_path: Path
) -> None:
    done, _ = run_gate("sh -e", **ask(gate_service, "3", "production"))

    reports = tmp_path / "sh_-e" / "mlgate-reports"
    decision = json.loads((reports / "decision.json").read_text())
    codes = {reason["code"] for reason in decision["reasons"]}
    junit = ET.parse(reports / "decision.junit.xml").getroot()
    failing = [
        " ".join([case.get("name", ""), *(f"{f.get('message', '')} {f.text or ''}" for f in fs)])
        for case in junit.iter("testcase")
        if (fs := case.findall("failure"))
    ]
    assert all(any(code in text for text in failing) for code in codes), failing
    sarif = json.loads((reports / "decision.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    warned = {warning["code"] for warning in decision.get("warnings", [])}
    assert {r["ruleId"] for run in sarif["runs"] for r in run["results"]} == codes | warned
    assert done.code == 1


def test_the_workflow_gates_the_deploy_job_on_the_action() -> None:
    workflow = load(WORKFLOW)
    steps = workflow["jobs"]["gate"]["steps"]
    (gate,) = [s for s in steps if s.get("uses") == "./examples/github/mlgate-gate"]
    declared = load(ACTION)["inputs"]

    assert set(gate["with"]) <= set(declared)
    assert {n for n, spec in declared.items() if spec.get("required")} <= set(gate["with"])
    assert gate["with"]["token"] == "${{ secrets.MLGATE_TOKEN }}"
    # The reports are kept and uploaded whatever the outcome: after a failed gate step too.
    after = steps[steps.index(gate) + 1 :]
    assert after and all("!cancelled()" in s["if"] for s in after)
    assert workflow["jobs"]["deploy"]["needs"] == "gate"
    assert "if" not in workflow["jobs"]["deploy"]  # no always(): only a passed gate deploys


@pytest.mark.parametrize(
    "step",
    [s for s in load(ACTION)["runs"]["steps"] if "run" in s],
    ids=lambda s: str(s.get("name")),
)
def test_each_script_of_the_action_passes_shellcheck(
    shellcheck: Path, step: dict[str, Any], tmp_path: Path
) -> None:
    script = tmp_path / "step.sh"
    script.write_text(step["run"])

    checked = subprocess.run(
        [str(shellcheck), "--shell", step["shell"], "--severity", "style", str(script)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert checked.returncode == 0, checked.stdout
