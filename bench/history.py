"""Evidence reads against history: the CPU of gathering one promotion's recorded evidence (its
sign-offs, history, requesters, tier of record, champion of record, rollbacks) for a model with
10, 10,000 and 100,000 earlier records, on SQLite and PostgreSQL, in one run.

The earlier records are what a model's life leaves in the ledger: for each older version its
staging, canary and production decisions and alias moves, an approval, a monitoring decision,
every fifth one rolled back, and between them the CI's retried production denies of the version
now asked about. Then, the same at every size, the newest records: the champion's installation,
the version's staging and canary allows and its approval. So the evidence gathered is the same
at every size, and only what the reads must pass over grows.

CPU per gather is this process's (time.process_time) plus, on PostgreSQL, the CPU of the
server process serving its connection (/proc/<pid>/stat, so the server must run on this
machine): a read that scans where it should seek shows on either side. The ratio printed is
the highest CPU per gather over the lowest, across the sizes; the exit status is 1 when it
exceeds --max-ratio (1.2) on a store. The ledgers are built through the ledger's own batched
append (signed, chained, verifiable records, checkpoints included): about 3 minutes for both
stores on 2 cores.

    python bench/history.py                    # 10, 10,000, 100,000 on both stores
    python bench/history.py --sizes 10,2000    # a quick run
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

_here = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]

import psycopg  # noqa: E402

from service.audit.keys import KeyFiles, KeySource, init_keys  # noqa: E402
from service.audit.ledger import Ledger, pending_event  # noqa: E402
from service.audit.records import PendingRecord  # noqa: E402
from service.audit.stores.base import Store  # noqa: E402
from service.audit.stores.postgres import PostgresStore  # noqa: E402
from service.audit.stores.sqlite import SqliteStore  # noqa: E402
from service.canonical import canonical_json, document_digest  # noqa: E402
from service.decision.model import Decision  # noqa: E402
from service.decision.recording import decision_record  # noqa: E402
from service.decision.request import GateRequest  # noqa: E402
from service.evidence.base import EVIDENCE_FILE  # noqa: E402
from service.evidence.context import EvidenceContext  # noqa: E402
from service.evidence.files import read_evidence_dir  # noqa: E402
from service.execution.inline import LocalPath  # noqa: E402
from service.record_ids import new_record_id  # noqa: E402
from service.settings import PROJECT_ROOT, Settings  # noqa: E402

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
EVIDENCE = PROJECT_ROOT / "fixtures" / "evidence" / "approved"
MODEL = "fraud-detector"
VERSION = "7"  # the version asked about, and its artifact: the fixture's
ARTIFACT = "sha256:9b2f6e1c4d8a7b3e5f0c2d9a6b1e4f7c8d3a5b0e2f9c6d1a4b7e0f3c8d5a2b6e"
CHAMPION = "5"
APPROVER = ("m.okafor@example.com", "model-risk-officer")
BATCH = 500
RECORDS_PER_VERSION = 10


def older_digest(version: str) -> str:
    return document_digest({"artifact of": version})


def decision(
    version: str, gate: str, stage: str, outcome: str, *, digest: str, metrics: Any = None
) -> PendingRecord:
    """A decision record as the gate writes it, on a small input document of its own."""
    doc = {
        "gate": gate,
        "requested_at": "2026-11-21T12:00:00.000Z",
        "caller": {"id": "ci-pipeline", "role": "gate"},
        "model": {"name": MODEL, "version": version, "artifact_digest": digest},
        "target": {"stage": stage},
        "metrics": metrics or {"auc": 0.93, "n": uuid.uuid4().hex},
    }
    judged = Decision.model_validate(
        {
            "decision_id": new_record_id(),
            "gate": gate,
            "outcome": outcome,
            "reasons": []
            if outcome == "allow"
            else [
                {
                    "rule": "Metric floors are met",
                    "code": "METRIC_BELOW_FLOOR",
                    "severity": "high",
                    "message": "auc 0.71 is below the high-risk floor 0.80",
                    "controls": ["SR 11-7 III.B"],
                }
            ],
            "model": {
                "name": MODEL,
                "version": version,
                "artifact_digest": digest,
                "risk_tier": "high",
                "records_tier": True,
            },
            "target": {"stage": stage},
            "caller": {"id": "ci-pipeline", "role": "gate"},
            "requested_at": doc["requested_at"],
            "policy_revision": "sha256:" + "7f38" * 16,
            "input_digest": document_digest(doc),
            "evidence_digests": {"metrics": document_digest(doc["metrics"])},
        }
    )
    return decision_record(judged, canonical_json(doc))


def alias_move(
    version: str,
    alias: str,
    digest: str,
    *,
    back_from: str | None = None,
    decision_id: str | None = None,
) -> PendingRecord:
    move_id = new_record_id()
    move: dict[str, Any] = {
        "id": move_id,
        "model": MODEL,
        "version": version,
        "artifact_digest": digest,
        "alias": alias,
        "from_version": back_from,
        "to_version": version,
        "moved": True,
        "outcome": "moved",
        "error": None,
        "decision_id": decision_id or new_record_id(),
        "decision_seq": 1,
        "requested_by": "ci-pipeline",
        "moved_at": "2026-11-21T12:00:00Z",
    }
    if back_from is not None:
        move["move"] = "roll-back"
        move["rolled_back_version"] = back_from
    return pending_event(
        "alias_move",
        move_id,
        move,
        model=(MODEL, version, digest),
        outcome="moved",
        by="ci-pipeline",
    )


def approval(version: str, digest: str) -> PendingRecord:
    given = {
        "id": new_record_id(),
        "model": MODEL,
        "version": version,
        "artifact_digest": digest,
        "approver": APPROVER[0],
        "role": APPROVER[1],
        "status": "approved",
        "decided_at": "2026-11-20T16:48:55Z",
    }
    return pending_event(
        "approval",
        given["id"],
        given,
        model=(MODEL, version, digest),
        outcome="approved",
        by=APPROVER[0],
    )


def earlier_records(count: int) -> Iterator[PendingRecord]:
    """`count` records of the model's older life (see the module docstring)."""
    made = 0
    n = 0
    while made < count:
        n += 1
        version, previous = str(1000 + n), str(999 + n)
        digest = older_digest(version)
        cycle = [
            decision(version, "promotion", "staging", "allow", digest=digest),
            alias_move(version, "staging", digest),
            decision(version, "promotion", "canary", "allow", digest=digest),
            alias_move(version, "canary", digest),
            approval(version, digest),
            decision(version, "promotion", "production", "allow", digest=digest),
            alias_move(version, "champion", digest),
            decision(VERSION, "promotion", "production", "deny", digest=ARTIFACT),
            decision(version, "monitoring", "production", "allow", digest=digest),
            alias_move(previous, "champion", older_digest(previous), back_from=version)
            if n % 5 == 0
            else decision(VERSION, "promotion", "production", "deny", digest=ARTIFACT),
        ]
        for record in cycle[: count - made]:
            yield record
            made += 1


def newest_records() -> list[PendingRecord]:
    """The same at every size: what the gathered evidence is made of."""
    baseline = read_evidence_dir(EVIDENCE)["baseline"]
    champion_digest = older_digest(CHAMPION)
    installed = decision(
        CHAMPION,
        "promotion",
        "production",
        "allow",
        digest=champion_digest,
        metrics=baseline["metrics"],
    )
    return [
        installed,
        alias_move(CHAMPION, "champion", champion_digest, decision_id=installed.record_id),
        decision(VERSION, "promotion", "staging", "allow", digest=ARTIFACT),
        decision(VERSION, "promotion", "canary", "allow", digest=ARTIFACT),
        approval(VERSION, ARTIFACT),
    ]


def build(ledger: Ledger, count: int) -> float:
    """Record `count` earlier records and the newest ones, BATCH per transaction; seconds."""
    started = time.perf_counter()
    batch: list[PendingRecord] = []
    for record in [*earlier_records(count), *newest_records()]:
        batch.append(record)
        if len(batch) == BATCH:
            _append(ledger, batch)
            batch = []
    if batch:
        _append(ledger, batch)
    return time.perf_counter() - started


def _append(ledger: Ledger, batch: list[PendingRecord]) -> None:
    failed = [r for r in ledger.record_batch(batch) if isinstance(r, Exception)]
    if failed:
        raise SystemExit(f"an append failed: {failed[0]}")


def request() -> GateRequest:
    evidence = read_evidence_dir(EVIDENCE)
    for recorded in ("approvals", "history", "baseline"):
        evidence.pop(recorded, None)  # the ledger's, not the files'
    return GateRequest(
        gate="promotion",
        caller={"id": "ci-pipeline", "role": "gate"},
        evidence=evidence,
        source=EVIDENCE_FILE,
        target={"stage": "production"},
        requested_at="2026-11-21T12:00:00.000Z",
        trusted=True,
    )


def server_cpu(store: Store) -> Callable[[], float]:
    """CPU seconds used so far by the PostgreSQL server process serving `store` (0 for SQLite)."""
    if not isinstance(store, PostgresStore):
        return lambda: 0.0
    (pid,) = store._read("SELECT pg_backend_pid()")[0]
    ticks = os.sysconf("SC_CLK_TCK")

    def used() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime

    return used


def cpu_per_gather(paths: list[LocalPath], runs: int, rounds: int) -> list[float]:
    """The median over `rounds` of the CPU ms per gather on each path, `runs` gathers a round.
    The rounds go from one path to the next in turn, so a neighbour's burst on a shared machine
    falls on every size alike."""
    asked = request()
    servers = [server_cpu(path.ledger.store) for path in paths]
    per_round: list[list[float]] = [[] for _ in paths]
    for _ in range(rounds):
        for path, server, found in zip(paths, servers, per_round, strict=True):
            cpu0, server0 = time.process_time(), server()
            for _ in range(runs):
                path.gather(asked)
            used = (time.process_time() - cpu0) + (server() - server0)
            found.append(used / runs * 1000)
    return [statistics.median(found) for found in per_round]


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    """The gathered evidence without what differs by construction (ids, seqs, times)."""
    found = {}
    for key in ("approvals", "history", "requesters", "recorded_risk_tier", "baseline"):
        value = document.get(key)
        found[key] = _shape(value)
    return found


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _shape(v)
            for k, v in value.items()
            if k not in {"id", "decision_id", "record", "seq", "decided_at", "move"}
        }
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return value


def open_store(kind: str, where: str) -> Store:
    return SqliteStore(Path(where)) if kind == "sqlite" else PostgresStore(where)


def postgres_schema(url: str) -> str | None:
    schema = f"mlgate_bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.Error as exc:
        print(f"postgresql: skipped, {url} is unreachable ({str(exc).strip()[:100]})")
        return None
    return schema


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="10,10000,100000", help="earlier records, comma-separated"
    )
    parser.add_argument("--runs", type=int, default=50, help="gathers per round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--max-ratio", type=float, default=1.2)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--stores", default="sqlite,postgresql")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="mlgate-bench-history-"))
    files = KeyFiles.in_dir(work / "keys")
    init_keys(files)
    settings = Settings(home=work / "home", signing_key=files.private_key, keyring=files.keyring)
    from service.compose import local_judge

    judge = local_judge(settings)
    results: dict[str, list[tuple[int, float, float]]] = {}
    failed = False
    for kind in args.stores.split(","):
        schemas: list[str] = []
        paths: list[LocalPath] = []
        built: list[float] = []
        for size in sizes:
            if kind == "sqlite":
                where = str(work / f"ledger-{size}.sqlite3")
            else:
                schema = postgres_schema(args.postgres_url)
                if schema is None:
                    break
                schemas.append(schema)
                where = f"{args.postgres_url}?options=-csearch_path%3D{schema}"
            ledger = Ledger(open_store(kind, where), KeySource(files))
            print(f"{kind}: building {size} earlier records ...", file=sys.stderr, flush=True)
            built.append(build(ledger, size))
            if kind != "sqlite":
                with psycopg.connect(where, autocommit=True) as conn:
                    conn.execute("ANALYZE records")  # as autovacuum would by now
            paths.append(LocalPath(judge, ledger, EvidenceContext(ledger, settings)))
        if len(paths) == len(sizes):
            shapes = [comparable(path.gather(request())) for path in paths]
            if any(shape != shapes[0] for shape in shapes):
                print(f"{kind}: the gathered evidence differs between sizes; the bench is wrong")
                failed = True
            cpu = cpu_per_gather(paths, args.runs, args.rounds)
            results[kind] = list(zip(sizes, built, cpu, strict=True))
        for path in paths:
            path.ledger.close()
        for schema in schemas:
            with psycopg.connect(args.postgres_url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
    judge.engine.close()  # type: ignore[attr-defined]
    shutil.rmtree(work, ignore_errors=True)

    print(
        f"\nCPU per gather of a promotion's recorded evidence ({args.rounds} rounds of "
        f"{args.runs}, median; PostgreSQL: client + server process)"
    )
    print(
        f"{'store':<12}{'earlier records':>16}{'built in s':>12}{'CPU ms/gather':>15}{'ratio':>8}"
    )
    for kind, rows in results.items():
        base = rows[0][2]
        for size, seconds, cpu_ms in rows:
            print(f"{kind:<12}{size:>16,}{seconds:>12.1f}{cpu_ms:>15.3f}{cpu_ms / base:>7.2f}x")
        cpus = [cpu for _, _, cpu in rows]
        ratio = max(cpus) / min(cpus)
        met = "met" if ratio <= args.max_ratio else "NOT met"
        print(f"{kind}: highest/lowest CPU {ratio:.2f}x (target <= {args.max_ratio:.2f}x: {met})")
        failed = failed or ratio > args.max_ratio
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
