"""The HTTP decision service under load: 16 concurrent clients against `mlgate serve`.

The server runs in its own process (its decision workers in theirs) with the durable SQLite
ledger; this process drives it over one keep-alive connection per client, in two phases of
20 s: (1) each client sends its next request as soon as the previous one is answered, which
gives the flat-out throughput; (2) the clients offer half of that rate in all, evenly, which
gives the latency at that load (in phase 1 latency is mostly the clients' own queue: 16 /
throughput); with --rate R, phase 2 offers R instead (a fixed rate, to compare across hosts).
The targets are ratios to the in-process baseline measured in the same run, so a slower host
does not fail them through no fault of the code: the flat-out rate at least MIN_RATE_RATIO
times the in-process rate, and the p99 at the offered load at most MAX_P99_RATIO times the
in-process p99 (and no more than TARGET_P99_MS when --rate fixes the load); the decision
workers' CPU per request at most MAX_WORKER_CPU_RATIO times the engine's evaluation of the same
input, and all of the server's CPU per answered request at most MAX_CPU_RATIO times the
in-process CPU per decision.
Before the server starts, the in-process decide rate (evaluate + durable record, one thread)
is measured as the baseline, and again after it stops, to show how much the host's own speed
moved meanwhile. For phase 1 it also prints where the CPU went, per answered request: the
server's event loop, its decision workers, its ledger writer and this load generator (from
/proc, so on Linux); and the resident memory of the event loop and the ledger writer at the
start, middle and end of each phase, which must not grow by more than MAX_LATE_GROWTH over a
phase's second half (a leak keeps growing; a longer --seconds shows it). Afterwards the ledger
must verify, with exactly one record per answered request, and /metrics tells how many
records each commit carried.
With --auditor, a third phase offers the same load as phase 2 while an auditor asks for
GET /v1/audit/verify back to back over the whole (growing) ledger: what a reviewer's
verification costs the pipelines asking for decisions at the same time.
With --opa-url URL, decisions (baseline and server) go to that OPA server, which must serve
this policy directory's bundle (`make run-opa` starts one on 127.0.0.1:8181).
Exit status 1 when a target is missed.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and the file's name would then
# shadow the standard library's http package, which the service and its libraries import.
_here = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

from service.api.auth import add_token  # noqa: E402
from service.audit.keys import KeyFiles, load_keyring  # noqa: E402
from service.audit.ledger import open_ledger  # noqa: E402
from service.compose import local_judge  # noqa: E402
from service.evidence.base import RECORDED_ONLY  # noqa: E402
from service.evidence.files import read_evidence_dir  # noqa: E402
from service.evidence.inputdoc import assemble  # noqa: E402
from service.execution.inline import record_inline  # noqa: E402
from service.settings import PROJECT_ROOT, Settings  # noqa: E402

EVIDENCE = PROJECT_ROOT / "fixtures" / "evidence" / "approved"
# HTTP with its decision workers and ledger writer against one in-process thread (which reads
# no evidence from the ledger): on 2 cores the second core should buy at least 1.6x.
MIN_RATE_RATIO = 1.6
# Parsing, queueing and a worker hop on top of the in-process decision, at half the flat-out
# rate.
MAX_P99_RATIO = 4.0
# A decision worker's CPU per request (unpickling, gathering the recorded evidence, validation,
# the evaluation, the canonical bytes, handing them to the writer) against the evaluation alone.
MAX_WORKER_CPU_RATIO = 1.5
# All of the server's CPU per answered request (event loop, workers, writer) against one
# in-process decision (evaluate + durable record).
MAX_CPU_RATIO = 2.0
TARGET_P99_MS = 50.0  # only when --rate gives a fixed offered load
# Resident memory of the event loop and the ledger writer may grow over the second half of a
# phase by at most this fraction: a leak grows for as long as requests come, while an allocator
# filling its arenas grows early and then stops (in phases of 45 s on 2 cores, the event loop's
# traced Python memory stayed at 45 MB while its resident memory rose 30 MB once, then held).
MAX_LATE_GROWTH = 0.03


@dataclass
class Load:
    latencies_ms: list[float] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.seqs) / self.seconds if self.seconds else 0.0


def percentile(values: list[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


@dataclass
class Baseline:
    """One thread judging and recording in-process: decisions/s, p50 and p99 ms, CPU ms per
    decision, and CPU ms per evaluation of the engine alone on the same input."""

    rate: float
    p50: float
    p99: float
    cpu_ms: float
    evaluation_cpu_ms: float


def baseline(home: Path, seconds: float) -> Baseline:
    """Decisions per second, p50 and p99 ms of judging and recording in one thread, with the
    durable ledger; then the engine's evaluation alone on the same input for a fifth as long."""
    settings = Settings(home=home)
    judge = local_judge(settings)
    ledger = open_ledger(settings)
    evidence = read_evidence_dir(EVIDENCE)
    caller = {"id": "bench", "role": "gate"}
    times: list[float] = []
    start = time.perf_counter()
    cpu_start = time.process_time()
    while time.perf_counter() - start < seconds:
        began = time.perf_counter()
        doc = assemble("promotion", evidence, caller=caller, target={"stage": "production"})
        judged = judge.judge(doc)
        record_inline(ledger, judged)
        decision = judged.decision
        times.append((time.perf_counter() - began) * 1000)
        assert decision.outcome == "allow", "the approved fixture must allow"
    elapsed = time.perf_counter() - start
    cpu_ms = (time.process_time() - cpu_start) * 1000 / len(times)
    doc = assemble("promotion", evidence, caller=caller, target={"stage": "production"})
    evaluations = 0
    eval_start, eval_cpu_start = time.perf_counter(), time.process_time()
    while time.perf_counter() - eval_start < seconds / 5:
        judge.engine.evaluate("promotion", doc)
        evaluations += 1
    evaluation_cpu_ms = (time.process_time() - eval_cpu_start) * 1000 / evaluations
    ledger.close()
    return Baseline(
        len(times) / elapsed,
        percentile(times, 50),
        percentile(times, 99),
        cpu_ms,
        evaluation_cpu_ms,
    )


def recorded_kinds(home: Path) -> dict[str, int]:
    """How many records of each kind the ledger under `home` holds (verified here)."""
    settings = Settings(home=home)
    with open_ledger(settings, create=False) as ledger:
        return ledger.verify(load_keyring(KeyFiles.from_settings(settings).keyring)).kinds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Connection:
    """A minimal HTTP/1.1 keep-alive client: the load generator must cost less than the server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def request(
        self, method: str, path: str, token: str, body: bytes = b""
    ) -> tuple[int, bytes]:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        header = await self.reader.readuntil(b"\r\n\r\n")
        lines = header.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = next(
            int(line.split(":", 1)[1])
            for line in lines
            if line.lower().startswith("content-length:")
        )
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def client(
    port: int,
    token: str,
    body: bytes,
    stop_at: float,
    load: Load,
    interval: float | None,
    offset: float,
) -> None:
    """Send the next request when the previous one is answered, or, with `interval`, on a fixed
    schedule; latency then counts from the scheduled time, so a stall is not hidden by the
    requests it delayed (coordinated omission)."""
    conn = await Connection.open(port)
    due = time.perf_counter() + offset
    while time.perf_counter() < stop_at:
        if interval is not None:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
        began = due if interval is not None else time.perf_counter()
        due += interval or 0.0
        try:
            status, payload = await conn.request("POST", "/v1/decisions/promotion", token, body)
        except (OSError, asyncio.IncompleteReadError, ValueError, StopIteration) as exc:
            load.errors.append(f"{type(exc).__name__}: {exc}")
            conn.close()
            conn = await Connection.open(port)
            continue
        load.latencies_ms.append((time.perf_counter() - began) * 1000)
        if status != 200:
            load.errors.append(f"HTTP {status}: {payload[:200]!r}")
            continue
        decision = json.loads(payload)
        if decision.get("outcome") != "allow":
            load.errors.append(f"outcome {decision.get('outcome')}: {decision.get('reasons')}")
        load.seqs.append(int(decision["audit"]["seq"]))
    conn.close()


async def drive(
    port: int, token: str, body: bytes, clients: int, seconds: float, rate: float | None = None
) -> Load:
    load = Load()
    started = time.perf_counter()
    stop_at = started + seconds
    interval = clients / rate if rate else None
    # Paced clients start staggered, so the offered load arrives evenly and not in bursts.
    offsets = [i * interval / clients if interval else 0.0 for i in range(clients)]
    await asyncio.gather(
        *(client(port, token, body, stop_at, load, interval, offset) for offset in offsets)
    )
    load.seconds = time.perf_counter() - started
    return load


async def verify_repeatedly(port: int, token: str, seconds: float) -> Load:
    """GET /v1/audit/verify, each as soon as the previous one is answered, for `seconds`;
    a verification that is not 200 and ok is an error."""
    verifies = Load()
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        began = time.perf_counter()
        status, raw = await get(port, "/v1/audit/verify", token)
        verifies.latencies_ms.append((time.perf_counter() - began) * 1000)
        verified = json.loads(raw) if status == 200 else {}
        if not verified.get("ok"):
            verifies.errors.append(f"verify: HTTP {status}: {raw[:200]!r}")
        verifies.seqs.append(int(verified.get("records", 0)))
    verifies.seconds = time.perf_counter() - started
    return verifies


async def audited(
    port: int, tokens: tuple[str, str], body: bytes, clients: int, seconds: float, rate: float
) -> tuple[Load, Load]:
    """Paced decisions (gate token) while an auditor verifies the ledger back to back."""
    gate_token, auditor_token = tokens
    decisions, verifies = await asyncio.gather(
        drive(port, gate_token, body, clients, seconds, rate),
        verify_repeatedly(port, auditor_token, seconds),
    )
    return decisions, verifies


async def get(port: int, path: str, token: str) -> tuple[int, bytes]:
    conn = await Connection.open(port)
    try:
        return await conn.request("GET", path, token)
    finally:
        conn.close()


def start_server(
    home: Path, port: int, log: Path, workers: int | None, fast_path: bool = True
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MLGATE_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env["MLGATE_FAST_PATH"] = "true" if fast_path else "false"
    command = [sys.executable, "-m", "service.cli.main", "serve", "--port", str(port)]
    if workers:
        command += ["--workers", str(workers)]
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=out)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}; see {log}")
        try:
            status, _ = asyncio.run(get(port, "/readyz", ""))
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit(f"the server was not ready within 120 s; see {log}")


class CpuMeter:
    """CPU seconds of the server and each of its child processes, and of this process."""

    def __init__(self, server: int) -> None:
        self.server = server
        self.start: dict[int, float] = {}
        self.own_start = 0.0

    @staticmethod
    def _cpu(pid: int) -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _processes(self) -> dict[int, str]:
        """pid -> what it is: the server, its decision workers (OPA loaded) and its writer."""
        roles = {self.server: "event loop (server process)"}
        for entry in Path("/proc").iterdir():
            try:
                if not entry.name.isdigit():
                    continue
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if parent != self.server:
                    continue
                command = (entry / "cmdline").read_bytes()
                if b"resource_tracker" in command:
                    continue
                loaded_opa = "libopabridge" in (entry / "maps").read_text()
                roles[int(entry.name)] = "decision workers" if loaded_opa else "ledger writer"
            except (OSError, ValueError, IndexError):
                continue
        return roles

    def begin(self) -> None:
        self.start = {pid: self._cpu(pid) for pid in self._processes()}
        self.own_start = time.process_time()

    def memory_mb(self) -> dict[str, list[int]]:
        """Resident memory of each server process, by role (MB)."""
        found: dict[str, list[int]] = {}
        for pid, role in sorted(self._processes().items()):
            with contextlib.suppress(OSError, StopIteration):
                status = Path(f"/proc/{pid}/status").read_text().splitlines()
                kb = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
                found.setdefault(role, []).append(kb // 1024)
        return found

    def per_request_ms(self, requests: int) -> dict[str, float]:
        """CPU ms per request since begin(), by role; empty where /proc cannot tell."""
        if not requests or not self.start:
            return {}
        used: dict[str, float] = {}
        for pid, role in self._processes().items():
            if pid in self.start:
                spent = self._cpu(pid) - self.start[pid]
                used[role] = used.get(role, 0.0) + spent * 1000 / requests
        used["load generator (this process)"] = (
            (time.process_time() - self.own_start) * 1000 / requests
        )
        return used


class WorkerKiller:
    """SIGKILLs one decision worker of the server every `every` seconds, on a thread of its own,
    until stop(); the pids it killed."""

    def __init__(self, meter: CpuMeter, every: float) -> None:
        self.meter, self.every = meter, every
        self.killed: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            workers = [p for p, r in self.meter._processes().items() if r == "decision workers"]
            if workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(workers[0], signal.SIGKILL)
                    self.killed.append(workers[0])

    def stop(self) -> list[int]:
        self._stop.set()
        self._thread.join()
        return self.killed


class MemoryWatch:
    """Samples the resident memory (MB) of the event loop and the ledger writer every `every`
    seconds on a thread of its own, labelled with the phase set in `phase`, until stop()."""

    ROLES = ("event loop (server process)", "ledger writer")

    def __init__(self, meter: CpuMeter, every: float) -> None:
        self.meter, self.every = meter, every
        self.phase = ""
        self.samples: list[tuple[str, dict[str, int]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            with contextlib.suppress(OSError):
                found = self.meter.memory_mb()
                self.samples.append(
                    (self.phase, {r: max(found[r]) for r in self.ROLES if r in found})
                )

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def by_phase(self) -> dict[str, dict[str, tuple[int, int, int]]]:
        """phase -> role -> (first, middle, last) sample, each the median of three."""
        table: dict[str, dict[str, tuple[int, int, int]]] = {}
        for phase in dict.fromkeys(p for p, _ in self.samples):
            rows = [sample for p, sample in self.samples if p == phase]
            if len(rows) < 6:  # too short a phase to tell growth from noise
                continue
            for role in self.ROLES:
                values = [row[role] for row in rows if role in row]
                if len(values) < 6:
                    continue
                mid = len(values) // 2

                def median3(i: int, values: list[int] = values) -> int:
                    return int(statistics.median(values[i : i + 3]))

                table.setdefault(phase, {})[role] = (
                    median3(0),
                    median3(mid - 1),
                    median3(len(values) - 3),
                )
        return table


def report(label: str, load: Load, baseline_rate: float) -> tuple[float, float]:
    p50, p99 = percentile(load.latencies_ms, 50), percentile(load.latencies_ms, 99)
    print(label)
    print(
        f"  {load.rate:8.1f} decisions/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   "
        f"errors {len(load.errors)}   ({load.rate / baseline_rate:.0%} of the in-process rate)"
    )
    for error in load.errors[:5]:
        print(f"    {error}")
    return p50, p99


def metric(exposition: bytes, name: str) -> float:
    for line in exposition.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each phase")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--rate",
        type=float,
        help="offered load of phase 2, requests/s (default: half of phase 1's measured rate)",
    )
    parser.add_argument("--warmup", type=float, default=3.0, help="load before measuring")
    parser.add_argument("--baseline-seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, help="the server's decision worker processes")
    parser.add_argument(
        "--route-only",
        action="store_true",
        help="serve every request through the FastAPI route (MLGATE_FAST_PATH=false), to compare",
    )
    parser.add_argument(
        "--auditor",
        action="store_true",
        help="a third phase: phase 2's load while an auditor verifies the ledger back to back",
    )
    parser.add_argument(
        "--opa-url",
        metavar="URL",
        help="decide through this OPA server (the server backend) instead of the embedded engine",
    )
    parser.add_argument(
        "--kill-every",
        type=float,
        metavar="SECONDS",
        help="SIGKILL one decision worker this often after the warm-up (a soak: the service "
        "must replace it and judge its requests again elsewhere, with no error)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if args.opa_url:
        # Read by the Settings of the baseline here and of the server process it starts.
        os.environ["MLGATE_OPA_URL"] = args.opa_url
        print(f"engine: the OPA server at {args.opa_url}")

    work = Path(tempfile.mkdtemp(prefix="mlgate-bench-"))
    print(f"work directory {work}; machine: {os.cpu_count()} CPUs")
    print(
        "baseline: in-process decide (evaluate + durable record), one thread, "
        f"{args.baseline_seconds:g} s"
    )
    base = baseline(work / "baseline", args.baseline_seconds)
    rate0, p99_0 = base.rate, base.p99
    print(
        f"  {rate0:8.1f} decisions/s   p50 {base.p50:6.2f} ms   p99 {p99_0:6.2f} ms   "
        f"CPU {base.cpu_ms:.2f} ms per decision, {base.evaluation_cpu_ms:.2f} ms per "
        "evaluation of the engine alone"
    )

    home = work / "server"
    tokens = Settings(home=home).resolved_tokens_file
    gate_token = add_token(tokens, "bench-client", "gate")
    auditor_token = add_token(tokens, "bench-auditor", "auditor")
    # Sign-offs and history come only from the service's own records, never a request (422).
    evidence = {k: v for k, v in read_evidence_dir(EVIDENCE).items() if k not in RECORDED_ONLY}
    body = json.dumps({"target": {"stage": "staging"}, "evidence": evidence}).encode()
    port = free_port()
    server = start_server(home, port, work / "server.log", args.workers, not args.route_only)
    try:
        warm = asyncio.run(drive(port, gate_token, body, args.clients, args.warmup))
        meter = CpuMeter(server.pid)
        watch: MemoryWatch | None = None
        with contextlib.suppress(OSError):  # no /proc here: CPU and memory figures are left out
            meter.begin()
            watch = MemoryWatch(meter, max(1.0, args.seconds / 60))
        killer = WorkerKiller(meter, args.kill_every) if args.kill_every else None
        if watch:
            watch.phase = "1. flat out"
        saturated = asyncio.run(drive(port, gate_token, body, args.clients, args.seconds))
        cpu = meter.per_request_ms(len(saturated.seqs))
        offered = args.rate or max(1.0, saturated.rate / 2)
        if watch:
            watch.phase = "2. offered load"
        paced = asyncio.run(drive(port, gate_token, body, args.clients, args.seconds, offered))
        both = (gate_token, auditor_token)
        if watch:
            watch.phase = "3. with an auditor"
        paced_audited, verifies = (
            asyncio.run(audited(port, both, body, args.clients, args.seconds, offered))
            if args.auditor
            else (Load(), Load())
        )
        kills = killer.stop() if killer else []
        if watch:
            watch.stop()
        status, raw = asyncio.run(get(port, "/v1/audit/verify", auditor_token))
        _, exposition = asyncio.run(get(port, "/metrics", ""))
    finally:
        server.terminate()
        server.wait(timeout=60)
    # Again afterwards: how much the host's own speed moved while the server was measured.
    rate_after = baseline(work / "baseline", args.baseline_seconds).rate

    print(
        f"HTTP: POST /v1/decisions/promotion from {args.clients} clients, after "
        f"{len(warm.seqs)} warm-up requests; served by "
        + ("the FastAPI route (--route-only)" if args.route_only else "the fast path")
    )
    report(f"1. each client as fast as it is answered, {args.seconds:g} s", saturated, rate0)
    if cpu:
        print(f"  CPU per answered request ({os.cpu_count()} CPUs: {os.cpu_count()} s/s in all)")
        for role, ms in cpu.items():
            print(f"    {role:<32}{ms:6.2f} ms")
        total = sum(cpu.values())
        ceiling = 1000 * (os.cpu_count() or 1) / total
        print(f"    {'all':<32}{total:6.2f} ms   (the CPUs allow at most {ceiling:.0f}/s)")
    _, paced_p99 = report(
        f"2. offered {offered:.0f} requests/s in all "
        + ("(--rate)" if args.rate else "(half of 1's)")
        + f", evenly, {args.seconds:g} s "
        "(latency from each request's scheduled time)",
        paced,
        rate0,
    )

    if args.auditor:
        report(
            f"3. offered {offered:.0f} requests/s as in 2, while an auditor verifies the "
            "ledger back to back",
            paced_audited,
            rate0,
        )
        audited_ratio = percentile(paced_audited.latencies_ms, 99) / paced_p99
        print(f"  p99 {audited_ratio:.1f}x phase 2's")
        print(
            f"  {len(verifies.seqs)} verifications of {min(verifies.seqs, default=0)} to "
            f"{max(verifies.seqs, default=0)} records, "
            f"{percentile(verifies.latencies_ms, 50) / 1000:.1f} s each (median), "
            f"errors {len(verifies.errors)}"
        )
        for error in verifies.errors[:5]:
            print(f"    {error}")

    if args.kill_every:
        print(
            f"decision workers killed: {len(kills)}, one every {args.kill_every:g} s; "
            f"errors in all phases: {len(saturated.errors + paced.errors + paced_audited.errors)}"
        )
    memory = watch.by_phase() if watch else {}
    late_growth: list[float] = []
    if memory:
        print("resident memory (MB) at the start, middle and end of each phase")
        for phase, roles in memory.items():
            for role, (first, mid, last) in roles.items():
                late_growth.append((last - mid) / mid)
                print(
                    f"    {phase:<22}{role:<30}{first:6} {mid:6} {last:6}   "
                    f"second half {late_growth[-1]:+.1%}"
                )

    verified: dict[str, Any] = json.loads(raw) if status == 200 else {}
    answered = sorted(warm.seqs + saturated.seqs + paced.seqs + paced_audited.seqs)
    # The policy revision the service decides under is on record too, before any decision.
    decisions_recorded = recorded_kinds(home).get("decision", 0)
    one_each = len(set(answered)) == len(answered) and decisions_recorded == len(answered)
    print(f"ledger: {verified.get('summary', f'verify answered HTTP {status}')}")
    commits, records = (
        metric(exposition, "mlgate_ledger_commits_total"),
        metric(exposition, "mlgate_ledger_records_total"),
    )
    if commits:
        print(
            f"  {records:.0f} records in {commits:.0f} commits: {records / commits:.2f} per fsync"
        )
    print(
        f"  {len(answered)} requests answered, {decisions_recorded} decisions recorded; "
        f"one record per request: {'yes' if one_each else 'NO'}"
    )
    print(
        f"host: the in-process rate was {rate0:.1f}/s before the HTTP phases and "
        f"{rate_after:.1f}/s after ({rate_after / rate0:.0%}); figures taken while the host "
        "runs slower are slower too"
    )

    loads = (warm, saturated, paced, paced_audited, verifies)
    errors = sum(len(load.errors) for load in loads)
    rate_ratio, p99_ratio = saturated.rate / rate0, paced_p99 / p99_0
    print(
        f"ratios: flat-out {rate_ratio:.2f}x the in-process rate; p99 at {offered:.0f}/s "
        f"{p99_ratio:.2f}x the in-process p99"
    )
    cpu_checks = []
    if args.kill_every:  # a killed worker's CPU, and its replacement's, escape the meter
        print("  CPU ratios not measured: decision workers were killed and replaced (--kill-every)")
    elif cpu and "decision workers" in cpu:
        workers_ratio = cpu.get("decision workers", 0.0) / base.evaluation_cpu_ms
        served = sum(v for role, v in cpu.items() if not role.startswith("load generator"))
        cpu_ratio = served / base.cpu_ms
        print(
            f"  decision workers' CPU per request {workers_ratio:.2f}x the engine's evaluation; "
            f"the server's CPU per answered request {cpu_ratio:.2f}x the in-process CPU per "
            "decision"
        )
        cpu_checks = [
            (
                f"decision workers' CPU per request <= {MAX_WORKER_CPU_RATIO:g}x the evaluation",
                workers_ratio <= MAX_WORKER_CPU_RATIO,
            ),
            (
                f"server CPU per answered request <= {MAX_CPU_RATIO:g}x the in-process decision",
                cpu_ratio <= MAX_CPU_RATIO,
            ),
        ]
    checks = [
        (
            f"flat-out rate >= {MIN_RATE_RATIO:g}x the in-process rate (phase 1)",
            rate_ratio >= MIN_RATE_RATIO,
        ),
        (
            f"p99 <= {MAX_P99_RATIO:g}x the in-process p99 at {offered:.0f} requests/s (phase 2)",
            p99_ratio <= MAX_P99_RATIO and paced.rate >= 0.98 * offered,
        ),
        *(
            [
                (
                    f"p99 <= {TARGET_P99_MS:g} ms at {args.rate:g} requests/s",
                    paced_p99 <= TARGET_P99_MS,
                )
            ]
            if args.rate
            else []
        ),
        *cpu_checks,
        ("0 errors", errors == 0),
        *(
            [
                (
                    f"memory flat: at most {MAX_LATE_GROWTH:.0%} growth over the second half "
                    "of each phase (event loop, ledger writer)",
                    max(late_growth) <= MAX_LATE_GROWTH,
                )
            ]
            if late_growth
            else []
        ),
        ("ledger verifies", bool(verified.get("ok"))),
        ("one record per request", one_each),
    ]
    for label, passed in checks:
        print(f"  {'PASS' if passed else 'FAIL'}  {label}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(passed for _, passed in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
