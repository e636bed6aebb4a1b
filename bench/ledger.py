"""Audit ledger benchmark: durable appends (SQLite, PostgreSQL; SQLite also with group commit)
and verification vs raw Ed25519."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cryptography
import psycopg

from service.audit.envelope import open_envelope
from service.audit.keys import KeyFiles, KeySource, init_keys, load_keyring
from service.audit.ledger import Ledger
from service.audit.stores.base import Store
from service.audit.stores.postgres import PostgresStore
from service.audit.stores.sqlite import SqliteStore
from service.canonical import canonical_json, document_digest
from service.decision.model import Decision
from service.decision.recording import decision_record, pending_decision

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
            "decision_id": str(uuid.uuid4()),
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appends", type=int, default=5000, help="appends per store")
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

    records, verify_rate, raw_rate = bench_verify(sqlite_path, files)
    ratio = verify_rate / raw_rate
    print()
    print(f"{'verification':<40}{'per second':>12}")
    print(f"{f'ledger verify ({records} records)':<40}{verify_rate:>12.0f}")
    print(f"{'raw Ed25519 verify (same bytes)':<40}{raw_rate:>12.0f}")
    met = "met" if ratio >= VERIFY_RATIO_TARGET else "NOT met"
    print(f"ratio verify/raw: {ratio:.0%} (target >= {VERIFY_RATIO_TARGET:.0%}: {met})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
