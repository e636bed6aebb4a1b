"""`mlgate test` runs any Rego library's tests in one evaluation and judges coverage."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from service.regotest.run import RunOptions, run_rego_tests
from tests.conftest import POLICY_DIR, PROJECT_ROOT

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


def test_a_table_case_whose_body_fails_is_a_failure_not_a_missing_key(tmp_path: Path) -> None:
    # The rule's value has keys only for the cases that held; "two" must not vanish (opa test
    # reports it as failed too).
    files = {
        "t/t_test.rego": (
            "package t_test\n\ntest_cases[note] if {\n"
            '\tsome note, n in {"one": 1, "two": 2, "three": 3}\n'
            "\tn != 2\n}\n"
        )
    }
    report = run_rego_tests(write_library(tmp_path / "lib", files))

    assert sorted((r.name, r.passed) for r in report.results) == [
        ('t_test.test_cases["one"]', True),
        ('t_test.test_cases["three"]', True),
        ('t_test.test_cases["two"]', False),
    ]
    assert report.failed == 1


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
    [file] = result["files"]
    assert result["problems"] == [
        f"coverage {result['coverage']:.1f}% is under 95%",
        f"coverage of lib/authz/authz.rego {file['coverage']:.1f}% is under 95% (lines 5: no "
        "test reaches them)",
    ]


def test_syntax_error_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    root = write_library(tmp_path / "lib", {"a/a.rego": "package a\n\nx := \n"})

    run = mlgate_test(str(root))

    assert run.returncode == 2
    assert "lib/a/a.rego:" in run.stderr
    assert "Traceback" not in run.stderr


V0_LIBRARY = {
    "k8s/pods.rego": (
        "package k8s.pods\n\n"
        "deny[msg] {\n"
        '\tinput.kind == "Pod"\n'
        "\tnot input.labels.owner\n"
        '\tmsg := sprintf("pod %v has no owner", [input.name])\n'
        "}\n\n"
        "allow {\n\tcount(deny) == 0\n}\n"
    ),
    "k8s/pods_test.rego": (
        "package k8s.pods_test\n\nimport data.k8s.pods\n\n"
        "test_pod_without_owner_denied {\n"
        '\tpods.deny["pod web has no owner"] with input as {"kind": "Pod", "name": "web"}\n'
        "}\n\n"
        "test_pod_with_owner_allowed {\n"
        '\tpods.allow with input as {"kind": "Pod", "labels": {"owner": "ml"}}\n'
        "}\n"
    ),
}


def test_v0_library_without_the_flag_says_to_use_it(tmp_path: Path) -> None:
    root = write_library(tmp_path / "lib", V0_LIBRARY)

    run = mlgate_test(str(root))

    assert run.returncode == 2
    assert "lib/k8s/pods.rego:3:" in run.stderr
    assert "run `mlgate test --v0-compatible`" in run.stderr


def test_v0_library_passes_with_v0_compatible(tmp_path: Path) -> None:
    root = write_library(tmp_path / "lib", V0_LIBRARY)

    report = run_rego_tests(root, RunOptions(v0_compatible=True))

    assert [(r.name, r.passed) for r in report.results] == [
        ("k8s.pods_test.test_pod_without_owner_denied", True),
        ("k8s.pods_test.test_pod_with_owner_allowed", True),
    ]
    [coverage] = report.coverage
    assert (coverage.file, coverage.not_covered) == ("lib/k8s/pods.rego", 0)


DATA_LIBRARY = {
    "quota/quota.rego": (
        "package quota\n\nover_quota if input.gpus > data.limits.gpus[input.team]\n"
    ),
    "quota/quota_test.rego": (
        "package quota_test\n\nimport data.quota\n\n"
        'test_team_over_its_gpu_limit if quota.over_quota with input as {"team": "vision", '
        '"gpus": 9}\n'
    ),
}


def test_library_needing_a_data_file_fails_without_and_passes_with_it(tmp_path: Path) -> None:
    root = write_library(tmp_path / "lib", DATA_LIBRARY)
    limits = tmp_path / "limits.yaml"
    limits.write_text("limits:\n  gpus:\n    vision: 8\n")

    without = run_rego_tests(root)
    with_file = run_rego_tests(root, RunOptions(data_paths=(limits,)))

    assert [r.passed for r in without.results] == [False]
    assert [r.passed for r in with_file.results] == [True]


def test_data_directory_is_loaded_at_each_folder_path(tmp_path: Path) -> None:
    root = write_library(tmp_path / "lib", DATA_LIBRARY)
    extra = write_library(tmp_path / "extra", {"limits/gpus.json": '{"gpus": {"vision": 8}}'})

    run = mlgate_test(str(root), str(extra), "--threshold", "0")

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().splitlines()[-1].startswith("1 passed, 0 failed")


def test_var_values_show_the_failing_expression_and_its_variables(tmp_path: Path) -> None:
    files = {
        "s/s_test.rego": (
            "package s_test\n\ntest_sum if {\n\tx := 1 + 2\n\ty := [1, 2]\n\tcount(y) == x\n}\n"
        )
    }
    root = write_library(tmp_path / "lib", files)

    run = mlgate_test(str(root), "--var-values", "--threshold", "0")

    assert run.returncode == 1
    assert (
        "FAIL  s_test.test_sum  lib/s/s_test.rego  (undefined: a condition did not hold)\n"
        "    lib/s/s_test.rego:6: count(y) == x\n"
        "      x = 3\n"
        "      y = [1, 2]\n"
    ) in run.stdout


def test_junit_document_is_read_by_a_junit_parser(tmp_path: Path) -> None:
    files = dict(LIBRARY)
    files["authz/more_test.rego"] = (
        "package authz.more_test\n\nimport data.authz\n\n"
        'test_bob_is_admin if authz.allow with input as {"user": "bob"}\n'
    )
    root = write_library(tmp_path / "lib", files)

    run = mlgate_test(str(root), "--format", "junit", "--threshold", "0")

    assert run.returncode == 1
    suites = ElementTree.fromstring(run.stdout)
    assert suites.tag == "testsuites"
    assert (suites.get("tests"), suites.get("failures"), suites.get("errors")) == ("3", "1", "0")
    cases = {(c.get("classname"), c.get("name")): c for c in suites.iter("testcase")}
    assert set(cases) == {
        ("data.authz_test", "test_admin_allowed"),
        ("data.authz_test", "test_guest_denied"),
        ("data.authz.more_test", "test_bob_is_admin"),
    }
    failure = cases[("data.authz.more_test", "test_bob_is_admin")].find("failure")
    assert failure is not None
    assert failure.get("message") == "undefined: a condition did not hold"
    assert all(float(c.get("time", "x")) >= 0 for c in cases.values())


def test_run_selects_tests_by_regex_and_json_has_timings(tmp_path: Path) -> None:
    root = write_library(tmp_path / "lib", LIBRARY)

    run = mlgate_test(str(root), "--run", "guest", "--format", "json", "--threshold", "0")

    assert run.returncode == 0, run.stderr
    [test] = json.loads(run.stdout)["tests"]
    assert (test["name"], test["passed"], test["row"]) == ("authz_test.test_guest_denied", True, 7)
    assert test["duration_ns"] > 0


def test_run_matching_nothing_fails_unless_no_fail_on_empty(tmp_path: Path) -> None:
    root = write_library(tmp_path / "lib", LIBRARY)

    empty = mlgate_test(str(root), "-r", "nothing-matches", "--fail-on-empty")
    allowed = mlgate_test(str(root), "-r", "nothing-matches", "--no-fail-on-empty")

    assert empty.returncode == 1
    assert "no test ran" in empty.stdout
    assert allowed.returncode == 0
    assert allowed.stdout.strip().splitlines()[-1].startswith("0 passed, 0 failed")


def test_test_past_its_timeout_fails_and_the_others_still_run(tmp_path: Path) -> None:
    files = dict(LIBRARY)
    files["slow/slow_test.rego"] = (
        "package slow_test\n\n"
        "test_slow if {\n"
        "\tevery a in numbers.range(1, 1500) {\n"
        "\t\tevery b in numbers.range(1, 1500) {\n\t\t\ta + b > 0\n\t\t}\n\t}\n}\n"
    )
    root = write_library(tmp_path / "lib", files)

    report = run_rego_tests(root, RunOptions(timeout=0.05))

    outcomes = {r.name: (r.passed, r.detail) for r in report.results}
    assert outcomes["slow_test.test_slow"] == (False, "timed out after 0.05s")
    assert outcomes["authz_test.test_admin_allowed"] == (True, "")
    assert outcomes["authz_test.test_guest_denied"] == (True, "")


# A library whose total stays above 90% when one small untested file joins it.
WELL_TESTED = {
    "big/big.rego": "package big\n\n"
    + "".join(f"r{i} := {i} if input.n == {i}\n\n" for i in range(30)),
    "big/big_test.rego": "package big_test\n\nimport data.big\n\n"
    + "".join(f"test_r{i} if big.r{i} == {i} with input.n as {i}\n\n" for i in range(30)),
}


def test_a_file_no_test_reaches_fails_though_the_total_passes(tmp_path: Path) -> None:
    files = {**WELL_TESTED, "fresh/fresh.rego": "package fresh\n\nallow if input.ok\n"}
    root = write_library(tmp_path / "lib", files)

    run = mlgate_test(str(root), "--format", "json")

    result = json.loads(run.stdout)
    assert result["coverage"] >= 90
    assert run.returncode == 1
    assert result["problems"] == [
        "coverage of lib/fresh/fresh.rego 0.0% is under 90% (lines 3: no test reaches them)"
    ]


def test_a_file_threshold_by_glob_overrides_the_default(tmp_path: Path) -> None:
    files = {**WELL_TESTED, "fresh/fresh.rego": "package fresh\n\nallow if input.ok\n"}
    root = write_library(tmp_path / "lib", files)

    run = mlgate_test(str(root), "--file-threshold", "lib/fresh/*=0", "--format", "json")

    assert run.returncode == 0, run.stdout
    by_file = {f["file"]: f["threshold"] for f in json.loads(run.stdout)["files"]}
    assert by_file == {"lib/big/big.rego": 90.0, "lib/fresh/fresh.rego": 0.0}


def test_a_threshold_that_is_not_a_percentage_is_a_usage_error(tmp_path: Path) -> None:
    root = write_library(tmp_path / "lib", LIBRARY)

    run = mlgate_test(str(root), "--file-threshold", "lib/*=most")

    assert run.returncode == 2
    assert "--file-threshold 'lib/*=most': expected a percentage from 0 to 100, found 'most'" in (
        run.stderr
    )


def test_a_timeout_that_is_not_a_positive_number_of_seconds_is_a_usage_error(
    tmp_path: Path,
) -> None:
    """A timeout of 0 or below failed every test as `timed out`; NaN or inf was a traceback."""
    root = write_library(tmp_path / "lib", LIBRARY)

    for given in ("0", "-1", "nan", "inf"):
        run = mlgate_test(str(root), "--timeout", given)

        assert run.returncode == 2, (given, run.stdout, run.stderr)
        assert "--timeout: expected a number of seconds above 0; found" in run.stderr, given
        assert "Traceback" not in run.stderr
        assert run.stdout == ""


def test_a_filtered_run_is_not_failed_by_the_coverage_it_cannot_reach(tmp_path: Path) -> None:
    root = write_library(tmp_path / "lib", LIBRARY)

    filtered = mlgate_test(str(root), "-r", "guest")
    judged = mlgate_test(str(root), "-r", "guest", "--threshold", "90", "--format", "json")

    assert filtered.returncode == 0, filtered.stdout
    assert "coverage not judged: -r 'guest' ran part of the tests" in filtered.stdout
    assert judged.returncode == 1
    result = json.loads(judged.stdout)
    assert result["coverage_judged"] is True
    assert result["problems"][0] == f"coverage {result['coverage']:.1f}% is under 90%"


def test_an_erroring_test_is_printed_and_counted_once(tmp_path: Path) -> None:
    """The lines only the erroring test reaches are not a second, coverage, failure."""
    files = {
        "sums/sums.rego": "package sums\n\ntotal := sum(input.values)\n",
        "sums/sums_test.rego": "package sums_test\n\nimport data.sums\n\n"
        'test_total if sums.total == 1 with input.values as ["one"]\n',
    }
    root = write_library(tmp_path / "lib", files)

    run = mlgate_test(str(root))

    assert run.returncode == 1
    assert [line for line in run.stdout.splitlines() if "eval_type_error" in line] == [
        "FAIL  sums_test.test_total  lib/sums/sums_test.rego  (error: lib/sums/sums.rego:3: "
        "eval_type_error: sum: operand 1 must be array of numbers but got array containing "
        "string)"
    ]
    assert [line for line in run.stdout.splitlines() if line.startswith("FAILED")] == [
        "FAILED: 1 test(s) failed"
    ]


def _make_rego_test_arguments() -> list[str]:
    """The arguments `make test` runs `mlgate test` with (its rego-test target)."""
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    [line] = [ln for ln in makefile.splitlines() if "/mlgate test " in ln]
    return line.split("/mlgate test ", 1)[1].split()


def test_make_tests_coverage_fails_an_untested_rule_and_an_untested_file(tmp_path: Path) -> None:
    """A rule added to a fully tested file and a new file, neither tested, barely move the
    total: `make test` must fail on both, naming each."""
    root = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, root)
    with (root / "promotion" / "card.rego").open("a") as card:
        card.write("\n_card_has_summary if input.model_card.summary\n")
    (root / "lib" / "extra.rego").write_text(
        "package mlgate.lib.extra\n\nis_short(s) if count(s) < 3\n"
    )
    arguments = [str(root) if a == "policies" else a for a in _make_rego_test_arguments()]

    run = mlgate_test(*arguments, "--format", "json")

    result = json.loads(run.stdout)
    assert result["failed"] == 0 and result["coverage"] >= 90
    assert run.returncode == 1
    card_rows = len((root / "promotion" / "card.rego").read_text().splitlines())
    assert result["problems"] == [
        "coverage of policies/lib/extra.rego 0.0% is under 100% (lines 3: no test reaches them)",
        f"coverage of policies/promotion/card.rego {_percent_of(result, 'card.rego')} is under "
        f"100% (lines {card_rows}: no test reaches them)",
    ]


def _percent_of(result: dict[str, Any], name: str) -> str:
    [coverage] = [f["coverage"] for f in result["files"] if f["file"].endswith("/" + name)]
    return f"{coverage:.1f}%"
