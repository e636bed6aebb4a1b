"""How the monitoring gate's decision cost grows with the snapshots in its window.

For 10, 100 and 1000 snapshots of one deployment (each a signed ledger record in SQLite, as
`mlgate snapshot add` writes them), in one run: the time to gather the input (read and check
each snapshot record, the canary statistics) and judge it with the embedded engine, and the
time of the whole decision with its durable record. The 10-snapshot figures are the baseline;
the goal is linear growth, and a 100-snapshot decision within 3x a 10-snapshot one. "gather" is
reading and checking the snapshot records and the statistics; the rest of "gather+judge" is
the schema check and the policy's evaluation (every rule over every judged interval).

    python bench/monitoring.py [--runs 30] [--json]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/http.py would then shadow the
# standard library's http package.
_here = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

from service.compose import local_path  # noqa: E402
from service.decision.request import GateRequest  # noqa: E402
from service.monitoring.book import SnapshotBook  # noqa: E402
from service.monitoring.snapshot import parse_snapshot  # noqa: E402
from service.schemas import default_schemas  # noqa: E402
from service.settings import Settings  # noqa: E402

SIZES = (10, 100, 1000)
MODEL, VERSION, STAGE = "fraud-detector", "7", "canary"
FEATURES = ("amount", "merchant_category", "hour_of_day", "card_age_days", "country")


def snapshots(count: int) -> list[dict[str, Any]]:
    """`count` healthy five-minute intervals ending an hour ago (canary and baseline figures
    interleave, as a healthy canary's do)."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5 * count + 60)
    made = []
    for i in range(count):
        begin = start + timedelta(minutes=5 * i)
        made.append(
            {
                "deployment": {"model": MODEL, "version": VERSION, "stage": STAGE},
                "interval": {
                    "start": begin.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "end": (begin + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
                "sample_count": 1800,
                "operational": {
                    "latency_p99_ms": 180.0 + (i * 7919 % 11) - 5,
                    "error_rate": 0.004 + (i * 104729 % 7) / 10_000,
                },
                "drift": {
                    "features": [
                        {
                            "name": FEATURES[n],
                            "score": 0.4,
                            "method": "ks",
                            "threshold": 0.05,
                            "drifted": False,
                        }
                        for n in range(5)
                    ]
                },
                "baseline": {
                    "version": "6",
                    "operational": {
                        "latency_p99_ms": 180.0 + (i * 6007 % 11) - 5,
                        "error_rate": 0.004 + (i * 7877 % 7) / 10_000,
                    },
                },
            }
        )
    return made


def sample(fn: Callable[[], Any], runs: int) -> list[float]:
    fn()  # warm-up: prepared query, validators, caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure(count: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mlgate-bench-monitoring-") as home:
        settings = Settings(home=Path(home))
        path = local_path(settings)
        book = SnapshotBook(path.ledger)
        schemas = default_schemas()
        for document in snapshots(count):
            book.add(parse_snapshot(document, schemas), "bench")
        request = GateRequest(
            gate="monitoring",
            caller={"id": "bench", "role": "gate"},
            evidence={},
            target={"stage": STAGE},
            model={"name": MODEL, "version": VERSION},
        )
        outcome = path.decide(request).outcome
        gathered = sample(lambda: path.gather(request), runs)
        judged = sample(lambda: path.judge.judge(path.gather(request)), runs)
        decided = sample(lambda: path.decide(request), runs)
        path.ledger.close()
    return {
        "snapshots": count,
        "outcome": outcome,
        "gather_ms": statistics.median(gathered),
        "judge_ms": statistics.median(judged),
        "decide_ms": statistics.median(decided),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", action="store_true", help="one JSON document, for machines")
    args = parser.parse_args()
    rows = []
    for count in SIZES:
        print(f"measuring {count} snapshots ...", file=sys.stderr, flush=True)
        rows.append(measure(count, args.runs))
    base = rows[0]
    for row in rows:
        row["judge_ratio"] = row["judge_ms"] / base["judge_ms"]
        row["decide_ratio"] = row["decide_ms"] / base["decide_ms"]
        extra = row["snapshots"] - base["snapshots"]
        row["ms_per_extra_snapshot"] = (
            (row["judge_ms"] - base["judge_ms"]) / extra if extra else 0.0
        )
    hundred = next(r for r in rows if r["snapshots"] == 100)
    verdict = {
        "goal_100_within_3x_of_10": hundred["judge_ratio"] <= 3.0,
        "linear": _linear(rows),
    }
    if args.json:
        print(json.dumps({"rows": rows, **verdict}, indent=2))
        return
    print(
        f"{'snapshots':>9} {'outcome':>8} {'gather ms':>10} {'gather+judge ms':>16} {'ratio':>6} "
        f"{'decide ms':>10} {'ratio':>6} {'ms/extra snapshot':>18}"
    )
    for r in rows:
        print(
            f"{r['snapshots']:>9} {r['outcome']:>8} {r['gather_ms']:>10.2f} {r['judge_ms']:>16.2f} "
            f"{r['judge_ratio']:>6.2f} {r['decide_ms']:>10.2f} {r['decide_ratio']:>6.2f} "
            f"{r['ms_per_extra_snapshot']:>18.4f}"
        )
    print(
        f"100 snapshots within 3x of 10: {'yes' if verdict['goal_100_within_3x_of_10'] else 'NO'}; "
        f"growth linear (per-snapshot cost 10->100 and 10->1000 within 2x): "
        f"{'yes' if verdict['linear'] else 'NO'}"
    )


def _linear(rows: list[dict[str, Any]]) -> bool:
    """The cost of one more snapshot measured 10->100 and 10->1000 agree within 2x."""
    slopes = [r["ms_per_extra_snapshot"] for r in rows[1:]]
    return max(slopes) <= 2 * min(slopes) if min(slopes) > 0 else False


if __name__ == "__main__":
    main()
