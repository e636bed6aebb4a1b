"""`mlgate test` runs any Rego library's tests in one evaluation and judges coverage."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from service.regotest import run_rego_tests
from tests.conftest import POLICY_DIR

LIBRARY = {
    "authz/authz.rego": (
        'package authz\n\nallow if input.user == "admin"\n\nrole := "ops" if input.user == "bob"\n'
    ),
    "authz/authz_test.rego": (
        "package authz_test\n\nimport data.authz\n\n"
        'test_admin_allowed if authz.allow with input as {"user": "admin"}\n\n'
        'test_guest_denied if not authz.allow with input as {"user": "guest"}\n'
    ),
    "authz/data.json": '{"roles": ["admin"]}',
}


def write_library(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def mlgate_test(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", "test", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_our_policies_pass_with_full_coverage() -> None:
    report = run_rego_tests(POLICY_DIR)

    assert report.failed == 0
    assert report.passed >= 40
    assert report.coverage_percent >= 90


def test_generic_library_passes_and_reports_uncovered_lines(tmp_path: Path) -> None:
    report = run_rego_tests(write_library(tmp_path / "lib", LIBRARY))

    assert [(r.name, r.passed) for r in report.results] == [
        ("authz_test.test_admin_allowed", True),
        ("authz_test.test_guest_denied", True),
    ]
    [coverage] = report.coverage
    assert coverage.file == "lib/authz/authz.rego"
    assert coverage.missed_lines == (5,)


def test_failing_test_fails_the_run_and_is_named(tmp_path: Path) -> None:
    files = dict(LIBRARY)
    files["authz/more_test.rego"] = (
        "package authz.more_test\n\nimport data.authz\n\n"
        'test_bob_is_admin if authz.allow with input as {"user": "bob"}\n'
    )
    root = write_library(tmp_path / "lib", files)

    run = mlgate_test(str(root), "--threshold", "0")

    assert run.returncode == 1
    assert "FAIL  authz.more_test.test_bob_is_admin  lib/authz/more_test.rego" in run.stdout
    assert run.stdout.strip().splitlines()[-1].startswith("2 passed, 1 failed")


def test_test_that_errors_is_reported_and_the_others_still_run(tmp_path: Path) -> None:
    files = dict(LIBRARY)
    files["authz/boom_test.rego"] = (
        "package boom_test\n\ntest_divides if {\n\tx := count([])\n\t1 / x > 0\n}\n"
    )
    report = run_rego_tests(write_library(tmp_path / "lib", files))

    outcomes = {r.name: (r.passed, r.detail) for r in report.results}
    assert outcomes["authz_test.test_admin_allowed"] == (True, "")
    passed, detail = outcomes["boom_test.test_divides"]
    assert not passed
    assert "divide by zero" in detail
    assert report.coverage  # measured without the erroring test


def test_table_test_cases_are_judged_one_by_one(tmp_path: Path) -> None:
    files = {
        "t/t_test.rego": (
            "package t_test\n\n"
            "test_cases[note] := passed if {\n"
            '\tsome note, n in {"one": 1, "two": 2}\n'
            "\tpassed := n < 2\n}\n"
        )
    }
    report = run_rego_tests(write_library(tmp_path / "lib", files))

    assert [(r.name, r.passed) for r in report.results] == [
        ('t_test.test_cases["one"]', True),
        ('t_test.test_cases["two"]', False),
    ]


def test_no_tests_fails(tmp_path: Path) -> None:
    root = write_library(tmp_path / "lib", {"a/a.rego": "package a\n\nx := 1\n"})

    run = mlgate_test(str(root))

    assert run.returncode == 1
    assert "no test ran" in run.stdout


def test_coverage_under_threshold_fails(tmp_path: Path) -> None:
    root = write_library(tmp_path / "lib", LIBRARY)

    run = mlgate_test(str(root), "--threshold", "95", "--format", "json")

    assert run.returncode == 1
    result = json.loads(run.stdout)
    assert result["passed"] == 2
    assert result["coverage"] < 95
    assert result["problems"] == [f"coverage {result['coverage']:.1f}% is under 95%"]


def test_syntax_error_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    root = write_library(tmp_path / "lib", {"a/a.rego": "package a\n\nx := \n"})

    run = mlgate_test(str(root))

    assert run.returncode == 2
    assert "lib/a/a.rego:" in run.stderr
    assert "Traceback" not in run.stderr
