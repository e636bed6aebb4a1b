"""Raw OPA evaluation of the promotion decision against the full in-process decide path.

Full decide = input validation + OPA evaluation + decision check + the decision object with its
digests; evidence files are read once, before timing. Prints median, mean and p99 of each and
their ratio (target: full decide at most 2x the raw evaluation).

Then the Go collector's setting: the same evaluations in fresh processes with Go's default
GOGC=100 and with the GOGC=800 the engine sets (service/engine/embedded.py), CPU per
evaluation and peak memory of each.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
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


def approved_input() -> dict[str, Any]:
    evidence = read_evidence_dir(PROJECT_ROOT / "fixtures" / "evidence" / "approved")
    return assemble(
        "promotion",
        evidence,
        caller={"id": "bench", "role": "gate"},
        target={"stage": "production"},
    )


def measure_gc(runs: int) -> None:
    """In a fresh process (GOGC is read when the engine loads): CPU per evaluation, peak RSS."""
    gatekeeper = local_gatekeeper(get_settings(), audited=False)
    doc = approved_input()
    sample(lambda: gatekeeper.engine.evaluate("promotion", doc), min(200, runs))
    started = time.process_time()
    for _ in range(runs):
        gatekeeper.engine.evaluate("promotion", doc)
    cpu_us = (time.process_time() - started) / runs * 1e6
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"cpu_us": cpu_us, "rss_mb": rss_mb}))


def gc_row(gogc: str, runs: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--measure-gc", "--runs", str(runs)],
        env={**os.environ, "GOGC": gogc},
        capture_output=True,
        text=True,
        check=True,
    )
    row: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--measure-gc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_gc:
        measure_gc(args.runs)
        return 0

    gatekeeper = local_gatekeeper(get_settings(), audited=False)
    doc = approved_input()
    assert gatekeeper.evaluate(doc).outcome == "allow", "the approved fixture must allow"

    raw = sample(lambda: gatekeeper.engine.evaluate("promotion", doc), args.runs)
    full = sample(lambda: gatekeeper.evaluate(doc), args.runs)

    rows = [("raw OPA evaluation", raw), ("full decide (in-process)", full)]
    print(f"promotion decision on fixtures/evidence/approved, {args.runs} runs each")
    print(f"{'':<26}{'median µs':>12}{'mean µs':>12}{'p99 µs':>12}")
    for label, values in rows:
        print(
            f"{label:<26}{statistics.median(values):>12.1f}{statistics.fmean(values):>12.1f}"
            f"{p99(values):>12.1f}"
        )
    median_ratio = statistics.median(full) / statistics.median(raw)
    mean_ratio = statistics.fmean(full) / statistics.fmean(raw)
    p99_ratio = p99(full) / p99(raw)
    print(
        f"{'ratio full / raw':<26}{median_ratio:>11.2f}x{mean_ratio:>11.2f}x{p99_ratio:>11.2f}x"
        "   (target <= 2x)"
    )

    print(f"Go collector, raw evaluation in a fresh process, {args.runs} runs each")
    print(f"{'':<26}{'CPU µs/eval':>12}{'peak RSS MB':>12}")
    measured = {gogc: gc_row(gogc, args.runs) for gogc in ("100", "800")}
    for gogc, row in measured.items():
        label = f"GOGC={gogc}" + (" (Go default)" if gogc == "100" else " (mlgate)")
        print(f"{label:<26}{row['cpu_us']:>12.1f}{row['rss_mb']:>12.1f}")
    speedup = measured["100"]["cpu_us"] / measured["800"]["cpu_us"]
    print(f"{'speed-up':<26}{speedup:>11.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
