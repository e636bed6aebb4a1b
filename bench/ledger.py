"""Audit ledger benchmark: durable appends (SQLite, PostgreSQL; SQLite also with group commit,
and with and without the head mark the service keeps outside the database) and verification vs
raw Ed25519, then, per store, a ledger of --records records (default
1,000,000) built through the ledger's own batched append, and on it:

- durable appends (one record, one commit and fsync each) against the same on an empty ledger
  (target: at least 90% of the empty ledger's rate);
- the audit listing filtered by model, as GET /v1/audit?model=M reads it (Ledger.find, 51
  records, each signature checked), at random pages of 20 models: p50 and p99 (target: p99
  under 50 ms);
- `verify --since-checkpoint` after a kept checkpoint and 1% more records: it reads only those;
- a full verify on every core (--workers) against raw Ed25519 verification of the same signed
  bytes on one core, times the cores (target: at least 70%).

A million records take about 10 minutes a store to build on 2 cores (signing is serial: each
record signs the hash of the one before), so the default run takes about 25 minutes;
`--records 20000` takes about a minute. Printed as a table; ratios, not absolute figures, are
what a shared machine's run shows. On a machine others share, the cores are not all this
run's: the verify is also given as CPU per record (its worker processes included) against the
CPU of one raw verification, which is the ratio an idle machine's wall clock would show.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cryptography
import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from service.audit.envelope import open_envelope
from service.audit.headmark import HeadMark
from service.audit.keys import KeyFiles, Keyring, KeySource, init_keys, load_keyring
from service.audit.ledger import Ledger
from service.audit.records import PendingRecord
from service.audit.stores.base import Store
from service.audit.stores.postgres import PostgresStore
from service.audit.stores.sqlite import SqliteStore
from service.canonical import canonical_json, document_digest, sha256_digest
from service.decision.model import Decision
from service.decision.recording import decision_predicate, decision_record, pending_decision
from service.record_ids import new_record_id

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
APPEND_P50_TARGET_MS = 1.0
VERIFY_RATIO_TARGET = 0.70
BATCH = 8


@dataclass
class AppendResult:
    store: str
    count: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def input_document(n: int) -> dict[str, Any]:
    """About the size of a real promotion input: a model card, metrics, lineage."""
    return {
        "gate": "promotion",
        "requested_at": "2026-11-21T12:00:00.000Z",
        "caller": {"id": "ci-pipeline", "role": "gate"},
        "model": {
            "name": "fraud-detector",
            "version": str(n),
            "risk_tier": "high",
            "artifact_digest": "sha256:" + "9b2f" * 16,
        },
        "target": {"stage": "production"},
        "metrics": {"auc": 0.9318, "ks": 0.41, "precision_at_1pct": 0.62, "n": n},
        "baseline": {"version": "5", "metrics": {"auc": 0.9357, "ks": 0.40}},
        "lineage": {
            "run_id": uuid.uuid4().hex,
            "git_commit": "4f1c2a9" * 5 + "abcde",
            "datasets": [
                {"name": "tx-2026q3", "digest": "sha256:" + "ab" * 32, "context": "training"}
            ],
        },
        "model_card": {"owner": "risk-ml", "intended_use": "card-not-present fraud scoring"},
    }


def decision_for(doc: dict[str, Any]) -> Decision:
    return Decision.model_validate(
        {
            "decision_id": new_record_id(),
            "gate": "promotion",
            "outcome": "deny",
            "reasons": [
                {
                    "rule": "Metric does not regress against the champion",
                    "code": "METRIC_REGRESSION_ABSOLUTE",
                    "severity": "high",
                    "message": "auc 0.9318 against the champion v5's 0.9357: change -0.0039",
                    "metric": "auc",
                    "actual": 0.9318,
                    "threshold": 0.9357,
                    "controls": ["SR 11-7 III.B", "NIST AI RMF MEASURE 2.13"],
                }
            ],
            "model": {
                "name": "fraud-detector",
                "version": doc["model"]["version"],
                "artifact_digest": doc["model"]["artifact_digest"],
            },
            "target": doc["target"],
            "caller": doc["caller"],
            "requested_at": doc["requested_at"],
            "policy_revision": "sha256:" + "7f38" * 16,
            "input_digest": document_digest(doc),
            "evidence_digests": {k: document_digest(doc[k]) for k in ("metrics", "lineage")},
        }
    )


def bench_appends(
    name: str, store: Store, keys: KeySource, count: int, batch: int = 1
) -> AppendResult:
    """`count` durable appends, one transaction each, or `batch` per transaction (group commit,
    as the service's ledger writer does); latencies are per transaction."""
    work = [(decision_for(doc), doc) for doc in map(input_document, range(count))]
    latencies = []
    with Ledger(store, keys) as ledger:
        ledger.record(pending_decision(*work[0]))  # warm-up: schema, key load, first page
        if batch == 1:
            started = time.perf_counter()
            for decision, doc in work[1:]:
                t0 = time.perf_counter()
                ledger.record(pending_decision(decision, doc))
                latencies.append(time.perf_counter() - t0)
        else:
            # The service's writer gets the bytes already encoded, by the decision workers.
            encoded = [(decision, canonical_json(doc)) for decision, doc in work[1:]]
            started = time.perf_counter()
            for i in range(0, len(encoded), batch):
                t0 = time.perf_counter()
                results = ledger.record_batch(
                    [decision_record(d, document) for d, document in encoded[i : i + batch]]
                )
                latencies.append(time.perf_counter() - t0)
                if any(isinstance(result, Exception) for result in results):
                    raise SystemExit(f"a batched append failed: {results}")
        seconds = time.perf_counter() - started
    return AppendResult(name, len(work) - 1, seconds, latencies)


def postgres_schema(url: str) -> str | None:
    """A fresh schema for the run, or None (with the reason printed) if PostgreSQL is away."""
    schema = f"mlgate_bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.Error as exc:
        print(f"postgresql: skipped, {url} is unreachable ({str(exc).strip()[:100]})")
        return None
    return schema


def drop_schema(url: str, schema: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def bench_verify(ledger_path: Path, files: KeyFiles) -> tuple[int, float, float]:
    """(records, ledger verify records/s, raw Ed25519 verifies/s over the same signed bytes).

    Both single-threaded, alternated and best of three, so a busy neighbour on a shared machine
    skews neither side of the ratio more than the other.
    """
    keyring = load_keyring(files.keyring)
    with Ledger(SqliteStore(ledger_path, create=False)) as ledger:
        envelopes = [open_envelope(raw) for raw in ledger.envelopes()]
        work = [(env.signatures[0].sig, env.signed_bytes()) for env in envelopes]
        public_key = next(iter(keyring.entries.values())).public_key
        verify_rates, raw_rates = [], []
        for _ in range(3):
            started = time.perf_counter()
            report = ledger.verify(keyring)
            verify_rates.append(report.records / (time.perf_counter() - started))
            if not report.ok:
                raise SystemExit(f"the benchmark ledger does not verify: {report.summary}")
            started = time.perf_counter()
            for signature, data in work:
                public_key.verify(signature, data)
            raw_rates.append(len(work) / (time.perf_counter() - started))
    return len(work), max(verify_rates), max(raw_rates)


MODELS = 20
BUILD_BATCH = 1000
LISTING_QUERIES = 300
LISTING_P99_TARGET_MS = 50.0
APPEND_RATIO_TARGET = 0.90
RAW_SAMPLE = 30_000


def head_mark_rates(path: Path, home: Path, keys: KeySource, count: int) -> tuple[float, float]:
    """Durable appends per second on one SQLite ledger without and with the head mark the
    service keeps (service/audit/headmark.py): APPEND_ROUNDS rounds, alternating."""
    store = SqliteStore(path)
    mark = HeadMark(home, store.description)
    per_round = max(count // APPEND_ROUNDS, 1)
    records = iter(scale_records(APPEND_ROUNDS * per_round + 1))
    seconds = {False: 0.0, True: 0.0}
    with Ledger(store, keys) as ledger:
        ledger.record(next(records))  # warm-up
        for round_ in range(APPEND_ROUNDS):
            marked = round_ % 2 == 1
            ledger.head_mark = mark if marked else None
            started = time.perf_counter()
            for _ in range(per_round):
                ledger.record(next(records))
            seconds[marked] += time.perf_counter() - started
    done = APPEND_ROUNDS * per_round / 2
    return done / seconds[False], done / seconds[True]


def scale_records(count: int, start: int = 0) -> Iterator[PendingRecord]:
    """`count` decision records over MODELS models (a version per 1,000 records of a model),
    each on an input document of its own: the predicate of `decision_for`, record by record."""
    template = decision_for(input_document(0))
    predicate = decision_predicate(template)
    for n in range(start, start + count):
        model = f"model-{n % MODELS:02d}"
        version = str(n // (MODELS * 1000) + 1)
        doc = input_document(n) | {"model": {**input_document(n)["model"], "name": model}}
        doc["model"]["version"] = version
        document = canonical_json(doc)
        digest = sha256_digest(document)
        decision_id = new_record_id()
        signed = {
            **predicate,
            "decision_id": decision_id,
            "model": {**predicate["model"], "name": model, "version": version},
            "input_digest": digest,
        }
        yield PendingRecord(
            kind="decision",
            record_id=decision_id,
            gate="promotion",
            outcome="deny",
            model_name=model,
            model_version=version,
            subject=[{"name": f"{model}@{version}", "digest": {"sha256": "9b2f" * 16}}],
            predicate=signed,
            document=document,
            digest=digest,
            caller_id=signed["caller"]["id"],
            artifact_digest=signed["model"]["artifact_digest"],
            stage="production",
        )


APPEND_ROUNDS = 20


def append_rates(empty: Ledger, full: Ledger, count: int) -> tuple[float, float]:
    """Durable appends per second, one record per transaction, on `empty` and on `full`:
    `count` each, in APPEND_ROUNDS rounds alternating which ledger goes first, so a slow
    spell of the disk (an fsync stalled by a neighbour) falls on both sides alike. The WAL
    checkpoints and page reads a larger ledger costs fall inside the rounds they occur in."""
    per_round = max(count // APPEND_ROUNDS, 1)
    records = iter(scale_records(2 * (APPEND_ROUNDS * per_round + 1), start=10**8))
    seconds = {id(empty): 0.0, id(full): 0.0}
    for ledger in (empty, full):
        ledger.record(next(records))  # warm-up: the key loaded, the tail page read
    for round_ in range(APPEND_ROUNDS):
        for ledger in (empty, full) if round_ % 2 == 0 else (full, empty):
            batch = [next(records) for _ in range(per_round)]
            started = time.perf_counter()
            for record in batch:
                ledger.record(record)
            seconds[id(ledger)] += time.perf_counter() - started
    done = APPEND_ROUNDS * per_round
    return done / seconds[id(empty)], done / seconds[id(full)]


def build(ledger: Ledger, count: int, start: int = 0) -> float:
    """`count` records in transactions of BUILD_BATCH; seconds."""
    started = time.perf_counter()
    batch: list[PendingRecord] = []
    done = 0
    for record in scale_records(count, start):
        batch.append(record)
        if len(batch) == BUILD_BATCH:
            _append_batch(ledger, batch)
            done += len(batch)
            batch = []
            if done % 100_000 == 0:
                print(
                    f"  {done:,} records ({time.perf_counter() - started:.0f} s)", file=sys.stderr
                )
    if batch:
        _append_batch(ledger, batch)
    return time.perf_counter() - started


def _append_batch(ledger: Ledger, batch: list[PendingRecord]) -> None:
    failed = [r for r in ledger.record_batch(batch) if isinstance(r, Exception)]
    if failed:
        raise SystemExit(f"a batched append failed: {failed[0]}")


def listing_ms(ledger: Ledger, records: int) -> tuple[list[float], list[float]]:
    """Milliseconds (wall, and this process's CPU) of LISTING_QUERIES model-filtered listings
    of 51 records at random pages: most records read are read for the first time."""
    chooser = random.Random(7)
    times, cpu = [], []
    for _ in range(LISTING_QUERIES):
        model = f"model-{chooser.randrange(MODELS):02d}"
        before = chooser.randrange(1000, records + 1)
        started, cpu0 = time.perf_counter(), time.process_time()
        found = ledger.find(model=model, before_seq=before, limit=51)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu0) * 1000)
        if len(found) != 51:
            raise SystemExit(f"the listing of {model} before {before} found {len(found)} records")
    return times, cpu


def raw_rates(ledger: Ledger, keyring: Keyring, workers: int) -> tuple[float, float, float]:
    """Raw Ed25519 verifications per second over the signed bytes of the first RAW_SAMPLE
    records: on one core (best of two), and in `workers` processes at once (each verifying
    the sample; the rate every core gives now, on a machine others share); and the CPU
    seconds of one verification."""
    work = []
    for raw in ledger.envelopes():
        envelope = open_envelope(raw)
        work.append((envelope.signatures[0].sig, envelope.signed_bytes()))
        if len(work) == RAW_SAMPLE:
            break
    public_pem = next(iter(keyring.entries.values())).public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    cpu0 = time.process_time()
    one = max(_raw_verify(public_pem, work) for _ in range(2))
    per_signature = (time.process_time() - cpu0) / (2 * len(work))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        list(pool.map(_raw_verify, [public_pem] * workers, [work[:100]] * workers))  # start
        started = time.perf_counter()
        list(pool.map(_raw_verify, [public_pem] * workers, [work] * workers))
        every = workers * len(work) / (time.perf_counter() - started)
    return one, every, per_signature


def _cpu_with_children() -> float:
    """CPU seconds of this process and of its children that have ended."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _raw_verify(public_pem: bytes, work: list[tuple[bytes, bytes]]) -> float:
    """Verifications per second of `work` (signature, signed bytes) with the key."""
    key = serialization.load_pem_public_key(public_pem)
    assert isinstance(key, Ed25519PublicKey)
    started = time.perf_counter()
    for signature, data in work:
        key.verify(signature, data)
    return len(work) / (time.perf_counter() - started)


@dataclass
class ScaleResult:
    store: str
    records: int
    built_s: float
    empty_rate: float
    full_rate: float
    listing: list[float]
    listing_cpu: list[float]
    since_records: int
    since_s: float
    verify_records: int
    verify_s: float
    workers: int
    raw_rate: float
    raw_every: float  # raw verifies/s in `workers` processes at once
    verify_cpu: float  # CPU seconds of the full verify, its worker processes included
    raw_cpu: float  # CPU seconds of one raw Ed25519 verification


def bench_scale(
    name: str, empty: Store, store: Store, files: KeyFiles, records: int, appends: int
) -> ScaleResult:
    keyring = load_keyring(files.keyring)
    ledger = Ledger(store, KeySource(files))
    print(f"{name}: building {records:,} records ...", file=sys.stderr, flush=True)
    built_s = build(ledger, records)
    if isinstance(store, PostgresStore):
        with psycopg.connect(store.url, autocommit=True) as conn:
            conn.execute("ANALYZE records")  # as autovacuum would by now
    empty_ledger = Ledger(empty, KeySource(files))
    empty_rate, full_rate = append_rates(empty_ledger, ledger, appends)
    empty_ledger.close()
    listing, listing_cpu = listing_ms(Ledger(store, KeySource(files)), records)
    kept = ledger.checkpoint()
    more = max(records // 100, 1)
    build(ledger, more, start=records)
    started = time.perf_counter()
    since = ledger.verify(keyring, checkpoints=[kept], since_kept=True)
    since_s = time.perf_counter() - started
    workers = os.cpu_count() or 1
    print(f"{name}: verifying on {workers} cores ...", file=sys.stderr, flush=True)
    cpu0 = _cpu_with_children()
    started = time.perf_counter()
    full = ledger.verify(keyring, workers=workers)
    verify_s = time.perf_counter() - started
    verify_cpu = _cpu_with_children() - cpu0  # the workers have ended: their CPU is counted
    for report in (since, full):
        if not report.ok:
            raise SystemExit(f"the benchmark ledger does not verify: {report.summary}")
    raw, raw_every, raw_cpu = raw_rates(ledger, keyring, workers)
    ledger.close()
    return ScaleResult(
        name,
        records,
        built_s,
        empty_rate,
        full_rate,
        listing,
        listing_cpu,
        since.records,
        since_s,
        full.records,
        verify_s,
        workers,
        raw,
        raw_every,
        verify_cpu,
        raw_cpu,
    )


def print_scale(results: list[ScaleResult]) -> None:
    print()
    print(f"{'at scale':<14}{'':>38}", "  ".join(r.store for r in results))
    rows: list[tuple[str, list[str]]] = [
        ("records built", [f"{r.records:,} in {r.built_s:.0f} s" for r in results]),
        ("appends/s on an empty ledger", [f"{r.empty_rate:.0f}" for r in results]),
        ("appends/s on the full ledger", [f"{r.full_rate:.0f}" for r in results]),
        ("  full / empty (target >= 90%)", [f"{r.full_rate / r.empty_rate:.0%}" for r in results]),
        ("listing by model, p50 ms", [f"{_pct(r.listing, 0.5):.2f}" for r in results]),
        ("listing by model, p99 ms (< 50)", [f"{_pct(r.listing, 0.99):.2f}" for r in results]),
        ("  its CPU, p50 / p99 ms", [_cpu(r) for r in results]),
        (
            "verify --since-checkpoint",
            [f"{r.since_records:,} records, {r.since_s:.2f} s" for r in results],
        ),
        (
            "full verify",
            [f"{r.verify_records:,} records, {r.verify_s:.1f} s" for r in results],
        ),
        ("  records/s, all cores", [f"{r.verify_records / r.verify_s:.0f}" for r in results]),
        ("raw Ed25519 verifies/s, one core", [f"{r.raw_rate:.0f}" for r in results]),
        (
            "  verify / (raw x cores) (>= 70%)",
            [f"{r.verify_records / r.verify_s / (r.raw_rate * r.workers):.0%}" for r in results],
        ),
        ("raw verifies/s, all cores at once", [f"{r.raw_every:.0f}" for r in results]),
        (
            "  verify / raw on all cores",
            [f"{r.verify_records / r.verify_s / r.raw_every:.0%}" for r in results],
        ),
        (
            "full verify CPU us/record (all procs)",
            [f"{r.verify_cpu / r.verify_records * 1e6:.0f}" for r in results],
        ),
        ("raw Ed25519 CPU us/verification", [f"{r.raw_cpu * 1e6:.0f}" for r in results]),
        (
            "  raw / verify CPU (idle-machine ratio)",
            [f"{r.raw_cpu / (r.verify_cpu / r.verify_records):.0%}" for r in results],
        ),
    ]
    for label, values in rows:
        print(f"{label:<36}" + "".join(f"{v:>26}" for v in values))
    for r in results:
        verdicts = [
            ("appends", r.full_rate / r.empty_rate >= APPEND_RATIO_TARGET),
            ("listing p99", _pct(r.listing, 0.99) < LISTING_P99_TARGET_MS),
            (
                "verify",
                r.verify_records / r.verify_s >= VERIFY_RATIO_TARGET * r.raw_rate * r.workers,
            ),
        ]
        said = ", ".join(f"{what} {'met' if ok else 'NOT met'}" for what, ok in verdicts)
        print(f"{r.store}: {said}")


def _cpu(result: ScaleResult) -> str:
    return f"{_pct(result.listing_cpu, 0.5):.2f} / {_pct(result.listing_cpu, 0.99):.2f}"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appends", type=int, default=2000, help="appends per store")
    parser.add_argument(
        "--records", type=int, default=1_000_000, help="records of the ledger at scale (0: none)"
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    args = parser.parse_args()

    print(
        f"mlgate audit ledger benchmark: {os.cpu_count()} CPUs, Python {platform.python_version()}"
        f", cryptography {cryptography.__version__}, one writer per store, every append durable"
    )
    work_dir = Path(tempfile.mkdtemp(prefix="mlgate-bench-"))
    files = KeyFiles.in_dir(work_dir / "keys")
    init_keys(files)
    sqlite_path = work_dir / "ledger.sqlite3"
    results = [
        bench_appends("sqlite", SqliteStore(sqlite_path), KeySource(files), args.appends),
        bench_appends(
            f"sqlite, {BATCH} per commit",
            SqliteStore(work_dir / "batched.sqlite3"),
            KeySource(files),
            args.appends,
            BATCH,
        ),
    ]
    schema = postgres_schema(args.postgres_url)
    if schema is not None:
        url = f"{args.postgres_url}?options=-csearch_path%3D{schema}"
        try:
            store = PostgresStore(url)
            results.append(bench_appends("postgresql", store, KeySource(files), args.appends))
        finally:
            drop_schema(args.postgres_url, schema)

    print()
    print(f"{'store':<22}{'appends':>9}{'appends/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}")
    for r in results:
        mean = statistics.fmean(r.latencies) * 1000
        print(
            f"{r.store:<22}{r.count:>9}{r.rate:>11.0f}{r.percentile_ms(0.50):>9.3f}"
            f"{r.percentile_ms(0.99):>9.3f}{mean:>9.3f}"
        )
    print(f"(latencies are per transaction; the batched row's are of {BATCH} records)")
    sqlite_p50 = results[0].percentile_ms(0.50)
    met = "met" if sqlite_p50 <= APPEND_P50_TARGET_MS else "NOT met"
    print(f"target: SQLite append p50 <= {APPEND_P50_TARGET_MS:.0f} ms: {met}")

    unmarked, marked = head_mark_rates(
        work_dir / "marked.sqlite3", work_dir / "home", KeySource(files), args.appends
    )
    print(
        f"sqlite appends/s without the head mark {unmarked:.0f}, with it {marked:.0f}: "
        f"{marked / unmarked:.1%} (alternating rounds)"
    )

    records, verify_rate, raw_rate = bench_verify(sqlite_path, files)
    ratio = verify_rate / raw_rate
    print()
    print(f"{'verification':<40}{'per second':>12}")
    print(f"{f'ledger verify ({records} records)':<40}{verify_rate:>12.0f}")
    print(f"{'raw Ed25519 verify (same bytes)':<40}{raw_rate:>12.0f}")
    met = "met" if ratio >= VERIFY_RATIO_TARGET else "NOT met"
    print(f"ratio verify/raw, one process: {ratio:.0%}")

    if args.records:
        scale = [
            bench_scale(
                "sqlite",
                SqliteStore(work_dir / "empty.sqlite3"),
                SqliteStore(work_dir / "scale.sqlite3"),
                files,
                args.records,
                args.appends,
            )
        ]
        empty_schema, schema = (
            postgres_schema(args.postgres_url),
            postgres_schema(args.postgres_url),
        )
        if empty_schema is not None and schema is not None:
            try:
                scale.append(
                    bench_scale(
                        "postgresql",
                        PostgresStore(
                            f"{args.postgres_url}?options=-csearch_path%3D{empty_schema}"
                        ),
                        PostgresStore(f"{args.postgres_url}?options=-csearch_path%3D{schema}"),
                        files,
                        args.records,
                        args.appends,
                    )
                )
            finally:
                drop_schema(args.postgres_url, empty_schema)
                drop_schema(args.postgres_url, schema)
        print_scale(scale)
    shutil.rmtree(work_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
