"""Prometheus metrics of one app, in a registry of its own so that several apps never collide."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from service.decision.model import Decision

# Reasons the service gives when the engine failed or answered something that is not a decision.
ENGINE_ERROR_CODES = {"POLICY_ENGINE_ERROR": "engine_error", "POLICY_RESULT_INVALID": "bad_result"}
# Decisions take a few ms; the buckets resolve the 50 ms p99 target and the slow tail past it.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, ledger_counts: Callable[[], tuple[int, int]] | None = None) -> None:
        self.registry = CollectorRegistry()
        if ledger_counts is not None:
            self.registry.register(_LedgerCommits(ledger_counts))
        self.decisions = Counter(
            "mlgate_decisions",
            "Decisions answered, by gate and outcome.",
            ["gate", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "mlgate_decision_latency_seconds",
            "Time from a decision request's arrival to its recorded answer.",
            ["gate"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.engine_errors = Counter(
            "mlgate_engine_errors",
            "Decisions denied because the policy engine failed or gave no valid decision.",
            ["gate", "kind"],
            registry=self.registry,
        )
        self.ledger_errors = Counter(
            "mlgate_ledger_errors",
            "Decisions that could not be recorded in the audit ledger (none was answered).",
            ["gate"],
            registry=self.registry,
        )

    def observe(self, decision: Decision, seconds: float) -> None:
        self.decisions.labels(decision.gate, decision.outcome).inc()
        self.latency.labels(decision.gate).observe(seconds)
        for kind in {
            ENGINE_ERROR_CODES[r.code] for r in decision.reasons if r.code in ENGINE_ERROR_CODES
        }:
            self.engine_errors.labels(decision.gate, kind).inc()

    def ledger_failed(self, gate: str) -> None:
        self.ledger_errors.labels(gate).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _LedgerCommits(Collector):
    """Ledger commits and the records they carried, read from the decider when scraped."""

    def __init__(self, counts: Callable[[], tuple[int, int]]) -> None:
        self.counts = counts

    def collect(self) -> Iterator[CounterMetricFamily]:
        commits, records = self.counts()
        yield CounterMetricFamily(
            "mlgate_ledger_commits",
            "Ledger transactions committed (each one fsync); records / commits is the batching.",
            value=commits,
        )
        yield CounterMetricFamily(
            "mlgate_ledger_records",
            "Decisions recorded in the ledger.",
            value=records,
        )
