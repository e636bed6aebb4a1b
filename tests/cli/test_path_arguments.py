"""Every path argument of `mlgate` that must already exist is refused at once when it does not
(exit 2), naming the argument, what it expected and what is there: never counted as a problem
of the policies, never a traceback, never another check's complaint first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from service.cli.main import main
from service.settings import PROJECT_ROOT, get_settings
from tests.conftest import POLICY_DIR

MISSING = "no-such-thing"

# The command line with {path} where the path argument goes, and the argument's name.
COMMANDS = {
    "check DIR": (["check", "--no-opa", "{path}"], "argument dir"),
    "check --opa": (["check", "--opa", "{path}", str(POLICY_DIR)], "argument --opa"),
    "test DIR": (["test", "{path}"], "argument dir"),
    "test DATA": (["test", str(POLICY_DIR), "{path}"], "argument data"),
    "bundle build DIR": (["bundle", "build", "{path}"], "argument dir"),
    "policies push DIR": (["policies", "push", "{path}"], "argument dir"),
    "replay --policy-dir": (["replay", "--policy-dir", "{path}"], "argument --policy-dir"),
    "decide --evidence": (
        ["decide", "promotion", "--to", "staging", "--evidence", "{path}"],
        "argument --evidence",
    ),
    "audit verify --file": (["audit", "verify", "--file", "{path}"], "argument --file"),
}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int | str | None, str]:
    capsys.readouterr()
    try:
        code: int | str | None = main(argv)
    except SystemExit as exc:  # argparse refuses an argument by exiting
        code = exc.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("entry", COMMANDS)
def test_a_path_that_does_not_exist_is_a_usage_error_naming_the_argument(
    entry: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MLGATE_HOME", str(tmp_path / "home"))
    template, argument = COMMANDS[entry]
    missing = tmp_path / MISSING
    argv = [part.replace("{path}", str(missing)) for part in template]

    code, err = run(argv, capsys)

    assert code == 2, err
    assert f"{argument}: expected " in err, err
    assert f"{missing} does not exist" in err, err
    assert not missing.exists()


def test_a_file_where_a_directory_is_expected_is_named_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "policies.rego"
    file.write_text("package x\n")

    code, err = run(["check", "--no-opa", str(file)], capsys)

    assert code == 2, err
    assert f"argument dir: expected a directory; {file} is a file" in err, err


def test_check_of_a_folder_that_does_not_exist_is_exit_2_not_a_problem_count(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "nonexistent"

    run = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "check", str(missing)],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_ROOT,
    )

    assert run.returncode == 2, run.stdout + run.stderr
    assert "problem(s)" not in run.stdout
    assert f"argument dir: expected a directory; {missing} does not exist" in run.stderr
    assert "Traceback" not in run.stderr


def test_check_of_a_configured_policy_dir_that_does_not_exist_names_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MLGATE_POLICY_DIR", str(tmp_path / "gone"))
    get_settings.cache_clear()
    try:
        code, err = run(["check", "--no-opa"], capsys)
    finally:
        get_settings.cache_clear()

    assert code == 2, err
    assert f"MLGATE_POLICY_DIR: expected the policy directory; {tmp_path / 'gone'}" in err


def test_check_with_an_opa_tool_that_is_not_there_is_exit_2_not_a_traceback(
    tmp_path: Path,
) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "check", "--opa", str(tmp_path / "opa")],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_ROOT,
    )

    assert run.returncode == 2, run.stderr
    assert "argument --opa: expected an executable program" in run.stderr
    assert "Traceback" not in run.stderr
