"""Raw OPA evaluation of the promotion decision against the full in-process decide path.

Full decide = input validation + OPA evaluation + decision check + the decision object with its
digests; evidence files are read once, before timing. Prints median, mean and p99 of each and
their ratio (target: full decide at most 2x the raw evaluation).

Then the three ways OPA decides the promotion, in one run: natively (`opa bench` on the same
bundle and input, OPA's own timer of the query evaluation), embedded (opa-golib-python-bindings:
the engine mlgate runs, which hands the bridge orjson's encoding of the input, and the bindings'
own `eval_document`, which encodes it with json.dumps) and the OPA server backend (`opa run
--server` on loopback, through opa-python-client), with their ratios (target: embedded at most
1.5x native) and the OPA version of each (the bindings' wheel on the index is built against an
older OPA; `make install` rebuilds it against the pinned one, scripts/opa_bindings.sh).
Skipped, saying so, without the opa binary (`make opa`).

Then the Go collector's setting: the same evaluations in fresh processes with Go's default
GOGC=100 and with the GOGC=800 the engine sets (service/engine/embedded.py), CPU per
evaluation and peak memory of each.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/http.py would then shadow the
# standard library's http package, which requests (the OPA server backend) imports.
_here = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from service.compose import local_judge  # noqa: E402
from service.engine.bindings import bridge_library  # noqa: E402
from service.engine.bundle import write_bundle  # noqa: E402
from service.engine.embedded import EmbeddedEngine  # noqa: E402
from service.engine.server import ServerEngine, ServerOptions  # noqa: E402
from service.evidence.files import read_evidence_dir  # noqa: E402
from service.evidence.inputdoc import assemble  # noqa: E402
from service.settings import PROJECT_ROOT, get_settings  # noqa: E402


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
    judge = local_judge(get_settings())
    doc = approved_input()
    sample(lambda: judge.engine.evaluate("promotion", doc), min(200, runs))
    started = time.process_time()
    for _ in range(runs):
        judge.engine.evaluate("promotion", doc)
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


DECISION = "data.mlgate.promotion.decision"


def opa_binary() -> Path | None:
    built = PROJECT_ROOT / ".tools" / "bin" / "opa"
    found = built if built.exists() else shutil.which("opa")
    return Path(found) if found else None


def native_us(opa: Path, bundle: Path, doc: dict[str, Any], workdir: Path) -> list[float]:
    """`opa bench`: OPA's own timer of the query evaluation, median/mean/p99 in µs."""
    input_file = workdir / "input.json"
    input_file.write_text(json.dumps(doc))
    done = subprocess.run(
        [str(opa), "bench", "-b", str(bundle), "-i", str(input_file), "--format=json", DECISION],
        capture_output=True,
        text=True,
        check=True,
    )
    extra = json.loads(done.stdout)["Extra"]
    key = "histogram_timer_rego_query_eval_ns_"
    return [extra[key + stat] / 1000 for stat in ("median", "mean", "99%")]


def served_us(opa: Path, bundle: Path, doc: dict[str, Any], runs: int) -> list[float]:
    """The server backend per decision: `opa run --server` on a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [str(opa), "run", "-s", "-a", f"127.0.0.1:{port}", "-b", str(bundle), "-l", "error"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        policy_set = local_judge(get_settings()).engine.policy_set
        engine = ServerEngine(policy_set, ServerOptions(f"http://127.0.0.1:{port}"))
        engine.check()
        times = sample(lambda: engine.evaluate("promotion", doc), runs)
        engine.close()
    finally:
        server.terminate()
        server.wait()
    return [statistics.median(times), statistics.fmean(times), p99(times)]


def opa_versions(opa: Path) -> str:
    """The OPA version of the `opa` binary and the one the embedded engine's bridge was built
    with (`go version -m`; "?" without Go)."""
    shown = subprocess.run([str(opa), "version"], capture_output=True, text=True)
    native = re.search(r"^Version: (\S+)$", shown.stdout, re.MULTILINE)
    embedded = None
    if go := shutil.which(os.environ.get("GO", "go")):
        built = subprocess.run(
            [go, "version", "-m", str(bridge_library())], capture_output=True, text=True
        )
        embedded = re.search(r"\sdep\s+github\.com/open-policy-agent/opa\s+v(\S+)", built.stdout)
    return (
        f"native OPA {native.group(1) if native else '?'}, "
        f"embedded OPA {embedded.group(1) if embedded else '?'}"
    )


ROUNDS = 3  # embedded and native alternate, so that a host slowing down meanwhile hits both


def compare_backends(engine: EmbeddedEngine, doc: dict[str, Any], runs: int) -> None:
    opa = opa_binary()
    if opa is None:
        print("native and server backend: skipped, no opa binary (`make opa` builds it)")
        return
    pooled: list[float] = []
    pooled_library: list[float] = []
    natives: list[list[float]] = []
    policy_set = engine.policy_set
    # The bindings' own call on the same OPA instance (a second instance would double the Go
    # heap its collector marks, and slow both), which encodes the input with json.dumps.
    library = engine.bindings
    path = DECISION.removeprefix("data.")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        bundle = write_bundle(policy_set, workdir / "bundle.tar.gz")
        for _ in range(ROUNDS):
            pooled += sample(lambda: engine.evaluate("promotion", doc), max(1, runs // ROUNDS))
            pooled_library += sample(
                lambda: library.eval_document(path, doc), max(1, runs // ROUNDS)
            )
            natives.append(native_us(opa, bundle, doc, workdir))
        served = served_us(opa, bundle, doc, runs)
    embedded = [statistics.median(pooled), statistics.fmean(pooled), p99(pooled)]
    through_library = [
        statistics.median(pooled_library),
        statistics.fmean(pooled_library),
        p99(pooled_library),
    ]
    native = [statistics.median(column) for column in zip(*natives, strict=True)]
    print(
        f"the promotion decision three ways ({opa}; {opa_versions(opa)}; embedded and native in "
        f"{ROUNDS} alternating rounds, native the median of their figures; {runs} server runs)"
    )
    print(f"{'':<38}{'median µs':>12}{'mean µs':>12}{'p99 µs':>12}")
    for label, row in (
        ("native (opa bench, query eval)", native),
        ("embedded (mlgate's engine)", embedded),
        ("embedded (bindings' eval_document)", through_library),
        ("server (loopback, opa-python-client)", served),
    ):
        print(f"{label:<38}" + "".join(f"{v:>12.1f}" for v in row))
    for label, top, bottom in (
        ("ratio embedded / native (target 1.5x)", embedded, native),
        ("ratio eval_document / native", through_library, native),
        ("ratio server / native", served, native),
        ("ratio server / embedded", served, embedded),
    ):
        print(
            f"{label:<38}" + "".join(f"{a / b:>11.2f}x" for a, b in zip(top, bottom, strict=True))
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--measure-gc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_gc:
        measure_gc(args.runs)
        return 0

    judge = local_judge(get_settings())
    doc = approved_input()
    assert judge.evaluate(doc).outcome == "allow", "the approved fixture must allow"

    raw = sample(lambda: judge.engine.evaluate("promotion", doc), args.runs)
    full = sample(lambda: judge.evaluate(doc), args.runs)

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

    assert isinstance(judge.engine, EmbeddedEngine), "the local judge runs the embedded engine"
    compare_backends(judge.engine, doc, args.runs)

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
