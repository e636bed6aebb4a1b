"""actionlint (built by `make actionlint`, ShellCheck from the dev extra) over the example
workflow, laid out as a repository would hold it, so actionlint also reads the composite action
the workflow uses and checks the inputs given to it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.examples.conftest import EXAMPLES, TOOLS, required_tool


def lint(repository: Path, shellcheck: Path) -> subprocess.CompletedProcess[str]:
    actionlint = required_tool(TOOLS / "bin" / "actionlint", "`make actionlint` builds it with Go")
    return subprocess.run(
        [str(actionlint), "-shellcheck", str(shellcheck), "-no-color"],
        cwd=repository,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A git repository with the workflow in .github/workflows/ and the action where its
    `uses: ./examples/github/mlgate-gate` points (actionlint looks for a repository)."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(EXAMPLES / "github" / "gate.yml", tmp_path / ".github" / "workflows")
    shutil.copytree(EXAMPLES / "github" / "mlgate-gate", tmp_path / "examples/github/mlgate-gate")
    return tmp_path


def test_the_workflow_and_its_action_pass_actionlint(repository: Path, shellcheck: Path) -> None:
    linted = lint(repository, shellcheck)

    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert linted.stdout == ""


def test_actionlint_reads_the_action_a_misspelt_input_fails(
    repository: Path, shellcheck: Path
) -> None:
    workflow = repository / ".github" / "workflows" / "gate.yml"
    workflow.write_text(workflow.read_text().replace("stage: production", "stag: production"))

    linted = lint(repository, shellcheck)

    assert linted.returncode == 1
    assert 'input "stag" is not defined in action "mlgate gate"' in linted.stdout
