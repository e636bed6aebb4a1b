"""Canary-versus-baseline statistics over one window (service/monitoring/analysis.py
`compare_window`): milliseconds for 1000 snapshots and two metrics, an operational one and a
quality one, for values as monitors report them: continuous, rounded to tenths or to
thousandths (ties, and differences that are not the floats of their decimals), integers, and
mostly zeros. The baseline, in the same run: partitioning all m * n pairwise differences of the
two metrics for the same three ranks (what the selection avoids). Ratios hold on a noisy
machine, absolute times do not. Run: .venv/bin/python bench/monitoring.py [--snapshots N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

_here = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
sys.path.insert(0, str(_here.parent))

from service.monitoring.analysis import compare_window  # noqa: E402

STATISTICS = {
    "confidence": 0.95,
    "metrics": {
        "latency_p95_ms": {"source": "operational", "direction": "increase"},
        "auc": {"source": "quality", "direction": "decrease", "critical": True},
    },
}
Draw = Callable[[np.random.Generator, int], Any]
KINDS: dict[str, Draw] = {
    "continuous": lambda rng, n: rng.lognormal(4, 0.3, n),
    "tenths": lambda rng, n: rng.lognormal(4, 0.3, n).round(1),
    "thousandths": lambda rng, n: rng.beta(1, 100, n).round(3),
    "integers": lambda rng, n: rng.lognormal(4, 0.3, n).round(),
    "mostly zeros": lambda rng, n: (rng.random(n) < 0.1) * rng.random(n),
}


def window(draw: Draw, size: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """`size` snapshots whose canary latency runs 3% above the baseline's."""
    latency, base_latency = draw(rng, size) * 1.03, draw(rng, size)
    auc, base_auc = rng.normal(0.85, 0.01, size), rng.normal(0.851, 0.01, size)
    return [
        {
            "interval": {"start": "2026-11-21T10:00:00Z", "end": "2026-11-21T10:01:00Z"},
            "sample_count": 100,
            "operational": {"latency_p95_ms": float(latency[i])},
            "quality": {"metrics": {"auc": float(auc[i])}},
            "baseline": {
                "version": "3",
                "operational": {"latency_p95_ms": float(base_latency[i])},
                "quality": {"metrics": {"auc": float(base_auc[i])}},
            },
        }
        for i in range(size)
    ]


def sample(fn: Callable[[], Any], runs: int) -> list[float]:
    """Milliseconds per call of `fn`, `runs` times."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def every_difference(snapshots: list[dict[str, Any]]) -> None:
    """The two metrics' interval ends and median by partitioning every pairwise difference."""
    for part, name in (("operational", "latency_p95_ms"), ("quality", "auc")):
        canary, baseline = (
            np.array([_figure(doc, part, name) for doc in docs])
            for docs in (snapshots, [s["baseline"] for s in snapshots])
        )
        size = canary.size * baseline.size
        np.partition(
            np.subtract.outer(canary, baseline).ravel(), [size // 40, size // 2, size - size // 40]
        )


def _figure(doc: dict[str, Any], part: str, name: str) -> float:
    figures = doc[part]["metrics"] if part == "quality" else doc[part]
    return float(figures[name])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshots", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    print(f"compare_window, {args.snapshots} snapshots x 2 metrics, {args.runs} runs")
    print(f"{'values':<16}{'median ms':>12}{'p90 ms':>10}{'all m*n ms':>14}{'ratio':>8}")
    for kind, draw in KINDS.items():
        snapshots = window(draw, args.snapshots, rng)
        times = sample(partial(compare_window, snapshots, STATISTICS), args.runs)
        naive = statistics.median(sample(partial(every_difference, snapshots), 10))
        median, p90 = statistics.median(times), statistics.quantiles(times, n=10)[8]
        print(f"{kind:<16}{median:>12.2f}{p90:>10.2f}{naive:>14.2f}{naive / median:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
