"""Evidence gathering from the MLflow registry per decision: cold (nothing cached: the model
version, its run and logged model read, its artifacts downloaded and hashed, its card parsed)
against cached (the version's evidence from the cache; the version and the champion alias
still read fresh), next to the policy's evaluation of the same input, in one run.

The store is the demo's (service/cli/demo_registry.py: a scikit-learn model, four versions) in
a temporary folder; the evaluation is the embedded engine's. Ratios hold on a noisy machine,
absolute times do not.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_here = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]

from service.cli.demo_registry import MODEL, build_demo_registry  # noqa: E402
from service.compose import local_path  # noqa: E402
from service.decision.request import GateRequest  # noqa: E402
from service.settings import Settings  # noqa: E402


def sample(fn: Callable[[], Any], runs: int) -> list[float]:
    """Milliseconds per call of `fn`, `runs` times."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlgate-bench-evidence-") as tmp:
        home = Path(tmp)
        store = f"sqlite:///{home / 'mlflow.db'}"
        print(f"building the demo registry in {store} ...", file=sys.stderr, flush=True)
        build_demo_registry(store)
        settings = Settings(home=home, mlflow_tracking_uri=store)
        pipeline = local_path(settings)
        registry = pipeline.context.registry
        request = GateRequest(
            gate="promotion",
            caller={"id": "bench", "role": "cli"},
            evidence={},
            target={"stage": "canary"},  # production and --enact never read the cache
            model={"name": MODEL, "version": "2"},
            trusted=True,
            registry=True,
        )
        cold_dirs = iter(range(10**6))

        def cold() -> None:
            registry.cache_dir = home / "cold" / str(next(cold_dirs))
            pipeline.gather(request)

        registry.cache_dir = home / "warm"
        pipeline.gather(request)  # fill the cache
        doc = pipeline.gather(request)

        def cached() -> None:
            registry.cache_dir = home / "warm"
            pipeline.gather(request)

        production = dataclasses.replace(request, target={"stage": "production"})
        rows = {
            "gather, cold (no cache)": sample(cold, max(3, args.runs // 5)),
            "gather, production (fresh)": sample(
                lambda: pipeline.gather(production), max(3, args.runs // 5)
            ),
            "gather, cached version": sample(cached, args.runs),
            "policy evaluation": sample(lambda: pipeline.judge.evaluate(doc), args.runs),
        }
    print(f"evidence for {MODEL} v2 (to canary; production read fresh) from a local MLflow store")
    print(f"{'':<28}{'runs':>6}{'median ms':>12}{'mean ms':>12}")
    for label, values in rows.items():
        print(
            f"{label:<28}{len(values):>6}{statistics.median(values):>12.2f}"
            f"{statistics.fmean(values):>12.2f}"
        )
    cold_ms, _, cached_ms, policy_ms = (statistics.median(v) for v in rows.values())
    print(f"{'cold / cached':<28}{'':>6}{cold_ms / cached_ms:>11.1f}x")
    print(f"{'cached / policy evaluation':<28}{'':>6}{cached_ms / policy_ms:>11.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
