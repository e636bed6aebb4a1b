"""`mlgate test` on a large public Rego library: seconds per 100 tests at 25%, 50% and 100% of
its test files, so time that grows faster than the number of tests shows as a rising figure.

The library is GOPAL, the policies shipped in the `aicertify` wheel on PyPI (843 tests),
downloaded once with pip into .tools/aicertify/. Every non-test module is loaded in each run;
only the test files are subset. Run: .venv/bin/python bench/regotest.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.regotest.run import run_rego_tests  # noqa: E402

WHEEL = "aicertify==0.8.1"
CACHE = ROOT / ".tools" / "aicertify"
LIBRARY = "aicertify/opa_policies/"
FRACTIONS = (0.25, 0.5, 1.0)


def library() -> Path:
    """The .rego files of the wheel's policy library, downloaded and extracted once."""
    extracted = CACHE / "opa_policies"
    if extracted.is_dir():
        return extracted
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", WHEEL, "--no-deps", "--only-binary=:all:",
         "--python-version", "3.12", "--dest", str(CACHE), "--quiet"],
        check=True,
    )  # fmt: skip
    [wheel] = CACHE.glob("aicertify-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith(LIBRARY) and name.endswith(".rego"):
                target = extracted / name.removeprefix(LIBRARY)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(name))
    return extracted


def subset(source: Path, fraction: float, into: Path) -> Path:
    """Every module of `source` and the first `fraction` of its test files (sorted by path)."""
    files = sorted(p for p in source.rglob("*.rego"))
    tests = [p for p in files if p.name.endswith("_test.rego")]
    keep = set(tests[: max(1, round(len(tests) * fraction))])
    root = into / "opa_policies"
    for path in files:
        if path in keep or path not in tests:
            target = root / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    return root


def main() -> int:
    source = library()
    figures = []
    print(f"{'files':>6} {'tests':>6} {'seconds':>8} {'s/100 tests':>12} {'cpu s/100':>10}")
    for fraction in FRACTIONS:
        with tempfile.TemporaryDirectory() as tmp:
            root = subset(source, fraction, Path(tmp))
            wall, cpu = time.perf_counter(), time.process_time()
            report = run_rego_tests(root)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        tests = len(report.results)
        per_100 = 100 * wall / tests
        figures.append((wall, per_100))
        print(
            f"{fraction:>6.0%} {tests:>6} {wall:>8.2f} {per_100:>12.3f} {100 * cpu / tests:>10.3f}"
            f"   {report.passed} passed, {report.failed} failed,"
            f" coverage {report.coverage_percent:.1f}%"
        )
    ratio = figures[-1][1] / figures[0][1]
    whole = figures[-1][0]
    print(f"s/100 tests at 100% over 25%: {ratio:.2f}x (goal: at most 1.3x)")
    print(f"whole library: {whole:.2f} s (goal: under 3 s)")
    return 0 if ratio <= 1.3 and whole < 3 else 1


if __name__ == "__main__":
    sys.exit(main())
