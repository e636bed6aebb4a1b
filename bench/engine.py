"""Raw OPA evaluation of the promotion decision against the full in-process decide path.

Full decide = input validation + OPA evaluation + decision check + the decision object with its
digests; evidence files are read once, before timing. Prints median and p99 of each and their
ratio (target: full decide at most 2x the raw evaluation).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from service.evidence.files import read_evidence_dir
from service.inputdoc import assemble
from service.settings import PROJECT_ROOT, get_settings
from service.wiring import local_gatekeeper


def sample(fn: Callable[[], Any], runs: int) -> list[float]:
    for _ in range(min(100, runs)):  # warm-up: prepared-query cache, validators
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        fn()
        times.append((time.perf_counter_ns() - start) / 1000)
    return times


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()

    gatekeeper = local_gatekeeper(get_settings(), audited=False)
    evidence = read_evidence_dir(PROJECT_ROOT / "fixtures" / "evidence" / "approved")
    doc = assemble(
        "promotion",
        evidence,
        caller={"id": "bench", "role": "gate"},
        target={"stage": "production"},
    )
    assert gatekeeper.evaluate(doc).outcome == "allow", "the approved fixture must allow"

    raw = sample(lambda: gatekeeper.engine.evaluate("promotion", doc), args.runs)
    full = sample(lambda: gatekeeper.evaluate(doc), args.runs)

    rows = [("raw OPA evaluation", raw), ("full decide (in-process)", full)]
    print(f"promotion decision on fixtures/evidence/approved, {args.runs} runs each")
    print(f"{'':<26}{'median µs':>12}{'p99 µs':>12}")
    for label, values in rows:
        print(f"{label:<26}{statistics.median(values):>12.1f}{p99(values):>12.1f}")
    median_ratio = statistics.median(full) / statistics.median(raw)
    p99_ratio = p99(full) / p99(raw)
    print(f"{'ratio full / raw':<26}{median_ratio:>11.2f}x{p99_ratio:>11.2f}x   (target <= 2x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
