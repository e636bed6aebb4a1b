"""`mlgate test` on our policies: every test passes, and OPA's own `opa test` agrees on the
same tests, the same pass/fail, the same per-file coverage."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from service.regotest.run import RunOptions, run_rego_tests
from service.regotest.run import TestReport as RegoReport
from service.settings import PROJECT_ROOT
from tests.test_regotest import V0_LIBRARY, write_library

DATA_LIBRARY_V0 = {
    "quota/quota.rego": (
        "package quota\n\nover_quota {\n\tinput.gpus > data.limits.gpus[input.team]\n}\n"
    ),
    "quota/quota_test.rego": (
        "package quota_test\n\nimport data.quota\n\n"
        "test_team_over_its_gpu_limit {\n"
        '\tquota.over_quota with input as {"team": "vision", "gpus": 9}\n}\n\n'
        "test_team_under_its_gpu_limit {\n"
        '\tquota.over_quota with input as {"team": "vision", "gpus": 2}\n}\n'
    ),
}


def opa_test(opa: Path, *flags: str) -> Any:
    # policies/data/ holds each gate's settings, which mlgate places at data.mlgate.config.<gate>;
    # opa test would merge every file at data.data, where two gates' keys (non_waivable)
    # collide. No test reads them there, so they are left out.
    done = subprocess.run(
        [str(opa), "test", "--format", "json", "--ignore", "data", *flags, "policies"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def our_report() -> RegoReport:
    """One `mlgate test` run of our policies (about 20 s) for every test here to read."""
    return run_rego_tests(PROJECT_ROOT / "policies")


def test_our_policies_pass_with_full_coverage(our_report: RegoReport) -> None:
    assert our_report.failed == 0
    assert our_report.passed >= 40
    assert our_report.coverage_percent == 100


def test_mlgate_test_agrees_with_opa_test(our_report: RegoReport, opa_path: Path) -> None:
    ours = {r.name: r.passed for r in our_report.results}
    theirs: dict[str, bool] = {}
    for result in opa_test(opa_path):
        name = result["package"].removeprefix("data.") + "." + result["name"]
        subs = result.get("sub_results")
        if subs:  # a table test: one result per case, as mlgate test reports them
            for case, sub in subs.items():
                theirs[f"{name}[{json.dumps(case)}]"] = not sub.get("fail") and not sub.get("error")
        else:
            theirs[name] = not result.get("fail") and not result.get("error")
    assert ours == theirs


def test_mlgate_test_coverage_agrees_with_opa_test(our_report: RegoReport, opa_path: Path) -> None:
    ours = {c.file: (c.covered, c.not_covered) for c in our_report.coverage}
    files = opa_test(opa_path, "--coverage")["files"]
    theirs = {
        file: (info.get("covered_lines", 0), info.get("not_covered_lines", 0))
        for file, info in files.items()
        if not file.endswith("_test.rego")
    }
    assert ours == theirs


def test_mlgate_test_agrees_with_opa_test_on_a_v0_library_with_a_data_file(
    opa_path: Path, tmp_path: Path
) -> None:
    """`--v0-compatible` and a data file, both ways: same tests, outcomes and file coverage."""
    root = write_library(tmp_path / "lib", V0_LIBRARY)
    root = write_library(root, DATA_LIBRARY_V0)
    limits = tmp_path / "limits.json"
    limits.write_text('{"limits": {"gpus": {"vision": 8}}}')

    report = run_rego_tests(root, RunOptions(data_paths=(limits,), v0_compatible=True))
    done = subprocess.run(
        [str(opa_path), "test", "--v0-compatible", "--format", "json", "lib", str(limits)],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    opa_outcomes = {
        r["package"].removeprefix("data.") + "." + r["name"]: not r.get("fail")
        for r in json.loads(done.stdout)
    }

    assert (
        {r.name: r.passed for r in report.results}
        == opa_outcomes
        == {
            "k8s.pods_test.test_pod_without_owner_denied": True,
            "k8s.pods_test.test_pod_with_owner_allowed": True,
            "quota_test.test_team_over_its_gpu_limit": True,
            "quota_test.test_team_under_its_gpu_limit": False,
        }
    )
    # opa test --coverage prints text, not JSON, when a test fails: coverage of the passing ones.
    passing = "pod|over"
    covered = run_rego_tests(
        root, RunOptions(data_paths=(limits,), v0_compatible=True, run=passing)
    )
    done = subprocess.run(
        [str(opa_path), "test", "--v0-compatible", "--coverage", "--format", "json",
         "--run", passing, "lib", str(limits)],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert {c.file: (c.covered, c.not_covered) for c in covered.coverage} == {
        file: (info.get("covered_lines", 0), info.get("not_covered_lines", 0))
        for file, info in json.loads(done.stdout)["files"].items()
        if not file.endswith("_test.rego")
    }
