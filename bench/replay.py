"""Replay throughput (`mlgate replay`) against the single-decision rate, in one run.

A SQLite ledger under a temporary MLGATE_HOME is filled with --decisions recorded decisions:
the evidence fixtures under fixtures/evidence at staging and production, each judged once and
recorded again and again under new decision ids (recording is not what is measured). Then:

1. the baseline: one thread judging the same inputs one after another (the judge step of the
   decision path, as replay runs it: validation, OPA, the decision check), decisions a second;
2. the replay: every recorded decision read back (signatures checked), its stored input
   checked against its digest and judged under a changed policy set (the high tier's
   production AUC floor raised), on one spawned worker per core (--workers), from start to
   report, worker start-up included.

Goal (issue: replay uses every core): the replay's rate at least MIN_RATIO times the baseline
rate times the workers. With --workers 1 the same run shows what the pool adds. Exit 1 when the
goal is missed. Some 15 s for building 20,000 decisions, then about 4 ms of CPU per decision.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/http.py would then shadow the
# standard library's http package, which the service's dependencies import.
_here = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]

import argparse  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from functools import partial  # noqa: E402

from service.audit.ledger import open_ledger, open_ledger_reader  # noqa: E402
from service.compose import local_judge, policy_judge  # noqa: E402
from service.decision.recording import pending_decision  # noqa: E402
from service.evidence.files import read_evidence_dir  # noqa: E402
from service.evidence.inputdoc import assemble  # noqa: E402
from service.record_ids import new_record_id  # noqa: E402
from service.review.replay import ReplayFilter, replay, selected  # noqa: E402
from service.review.revisions import keep_revision  # noqa: E402
from service.settings import PROJECT_ROOT, get_settings  # noqa: E402

MIN_RATIO = 0.8
FIXTURES = PROJECT_ROOT / "fixtures" / "evidence"
BASELINE_DECISIONS = 400


def inputs() -> list[dict[str, object]]:
    """Each fixture at staging and at production, as local mode assembles it."""
    return [
        assemble(
            "promotion",
            read_evidence_dir(directory),
            caller={"id": "bench", "role": "gate"},
            target={"stage": stage},
            requested_at="2026-11-21T12:00:00.000Z",
        )
        for directory in sorted(FIXTURES.iterdir())
        for stage in ("staging", "production")
    ]


def fill(count: int) -> None:
    """`count` decisions in the ledger under MLGATE_HOME, with their policy revision."""
    judge = local_judge(get_settings())
    judged = [(doc, judge.evaluate(doc)) for doc in inputs()]
    with open_ledger(get_settings()) as ledger:
        keep_revision(ledger, judge.engine.policy_set)
        for start in range(0, count, 500):
            batch = []
            for i in range(start, min(count, start + 500)):
                doc, decision = judged[i % len(judged)]
                fresh = decision.model_copy(update={"decision_id": new_record_id()})
                batch.append(pending_decision(fresh, doc))
            ledger.record_batch(batch)


def raised_floor(directory: Path) -> Path:
    policies = directory / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", policies)
    config = policies / "data" / "promotion.yaml"
    before = "      production:\n        floors: {auc: 0.90,"
    config.write_text(config.read_text().replace(before, before.replace("0.90", "0.99")))
    return policies


def baseline_rate(policies: Path) -> float:
    """Decisions a second, one thread, judging the fixtures' inputs round after round."""
    judge = policy_judge(policies)
    docs = inputs()
    for doc in docs:  # warm-up
        judge.evaluate(doc)
    start = time.perf_counter()
    for i in range(BASELINE_DECISIONS):
        judge.evaluate(docs[i % len(docs)])
    return BASELINE_DECISIONS / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlgate-bench-replay-") as directory:
        os.environ["MLGATE_HOME"] = str(Path(directory) / "home")
        for name in ("MLGATE_LEDGER_URL", "MLGATE_SIGNING_KEY", "MLGATE_KEYRING"):
            os.environ.pop(name, None)
        get_settings.cache_clear()
        started = time.perf_counter()
        fill(args.decisions)
        print(f"ledger: {args.decisions} decisions in {time.perf_counter() - started:.1f} s")
        policies = raised_floor(Path(directory))
        single = baseline_rate(policies)
        print(f"baseline: one thread, {single:.0f} decisions/s")
        started = time.perf_counter()
        with open_ledger(get_settings(), create=False) as ledger:
            records = selected(ledger, ReplayFilter())
            report = replay(
                ledger,
                records,
                partial(policy_judge, policies),
                reader=partial(open_ledger_reader, get_settings()),
                workers=args.workers,
            )
        elapsed = time.perf_counter() - started
        baseline_again = baseline_rate(policies)
    rate = len(report.replayed) / elapsed
    target = MIN_RATIO * single * args.workers
    ratio = rate / (single * args.workers)
    print(
        f"replay: {len(report.replayed)} decisions, {len(report.flips)} flips, "
        f"{args.workers} workers, {elapsed:.1f} s from start to report"
    )
    print()
    print(f"{'figure':<44}{'value':>12}")
    print(f"{'single-decision rate (one thread), /s':<44}{single:>12.0f}")
    print(f"{'  again after the replay, /s':<44}{baseline_again:>12.0f}")
    print(f"{'replay rate, /s':<44}{rate:>12.0f}")
    print(f"{'replay / (single x workers)':<44}{ratio:>12.2f}")
    print(f"{'goal':<44}{'>= ' + str(MIN_RATIO):>12}")
    if rate < target:
        print(
            f"MISSED: {rate:.0f}/s is below {MIN_RATIO} x {single:.0f}/s x {args.workers} "
            f"workers = {target:.0f}/s",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
