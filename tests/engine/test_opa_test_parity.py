"""`mlgate test` and OPA's own `opa test` on our policies: the same tests, the same pass/fail,
the same per-file coverage."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from service.regotest import run_rego_tests
from service.settings import PROJECT_ROOT


def opa_test(opa: Path, *flags: str) -> Any:
    done = subprocess.run(
        [str(opa), "test", "--format", "json", *flags, "policies"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return json.loads(done.stdout)


def test_mlgate_test_agrees_with_opa_test(opa_path: Path) -> None:
    report = run_rego_tests(PROJECT_ROOT / "policies")
    ours = {r.name: r.passed for r in report.results}
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


def test_mlgate_test_coverage_agrees_with_opa_test(opa_path: Path) -> None:
    report = run_rego_tests(PROJECT_ROOT / "policies")
    ours = {c.file: (c.covered, c.not_covered) for c in report.coverage}
    files = opa_test(opa_path, "--coverage")["files"]
    theirs = {
        file: (info.get("covered_lines", 0), info.get("not_covered_lines", 0))
        for file, info in files.items()
        if not file.endswith("_test.rego")
    }
    assert ours == theirs
