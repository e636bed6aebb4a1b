"""Decisions built directly and stores opened by kind; imported by the tests and their workers.

Kept free of pytest so the processes the concurrency and crash tests start import it fast.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.audit.keys import KeyFiles, KeySource
from service.audit.ledger import Ledger
from service.audit.stores.base import Store
from service.canonical import document_digest
from service.decision.model import (
    Caller,
    Decision,
    DecisionAnswer,
    ModelRef,
    Reason,
    answered,
)
from service.decision.recording import pending_decision

ARTIFACT = "sha256:" + "9b2f" * 16


def make_input(n: int = 0, *, model: str = "fraud-detector", version: str = "7") -> dict[str, Any]:
    """A small input document; `n` makes it distinct (and so its digest)."""
    return {
        "gate": "promotion",
        "requested_at": "2026-11-21T12:00:00.000Z",
        "caller": {"id": "ci-pipeline", "role": "gate"},
        "model": {
            "name": model,
            "version": version,
            "risk_tier": "high",
            "artifact_digest": ARTIFACT,
        },
        "target": {"stage": "production"},
        "metrics": {"auc": 0.9318, "ks": 0.41, "n": n},
    }


def make_decision(
    input_doc: dict[str, Any] | None = None, *, outcome: str = "deny", n: int = 0
) -> tuple[Decision, dict[str, Any]]:
    """A Decision as the gatekeeper would build it, with the input document it was made on."""
    doc = input_doc if input_doc is not None else make_input(n)
    reasons = (
        []
        if outcome == "allow"
        else [
            Reason(
                rule="Metric floors are met",
                code="METRIC_BELOW_FLOOR",
                severity="high",
                message="auc 0.71 is below the high-risk floor 0.80",
                metric="auc",
                actual=0.71,
                threshold=0.80,
                controls=["SR 11-7 III.B", "NIST AI RMF MEASURE 2.3"],
            )
        ]
    )
    decision = Decision.model_validate(
        {
            "decision_id": str(uuid.uuid4()),
            "gate": doc["gate"],
            "outcome": outcome,
            "reasons": reasons,
            "model": ModelRef(
                name=doc["model"]["name"],
                version=doc["model"]["version"],
                artifact_digest=doc["model"].get("artifact_digest"),
            ),
            "target": doc.get("target"),
            "caller": Caller(**doc["caller"]),
            "requested_at": doc["requested_at"],
            "policy_revision": "sha256:" + "7f38" * 16,
            "input_digest": document_digest(doc),
            "evidence_digests": {"metrics": document_digest(doc["metrics"])},
        }
    )
    return decision, doc


def record_many(ledger: Ledger, count: int, start: int = 0) -> list[DecisionAnswer]:
    """`count` decisions recorded in `ledger`, each with the receipt of its record."""
    decisions = []
    for n in range(start, start + count):
        decision, doc = make_decision(n=n)
        decisions.append(answered(decision, ledger.record(pending_decision(decision, doc))))
    return decisions


@dataclass
class StoreFactory:
    """Opens stores on one database: a SQLite file or a PostgreSQL schema."""

    kind: str
    location: str

    def store(self) -> Store:
        if self.kind == "sqlite":
            from service.audit.stores.sqlite import SqliteStore

            return SqliteStore(Path(self.location))
        from service.audit.stores.postgres import PostgresStore

        return PostgresStore(self.location)

    def store_to_read(self) -> Store:
        """The store opened for reading only, as `mlgate audit verify` opens it."""
        if self.kind == "sqlite":
            from service.audit.stores.sqlite import SqliteStore

            return SqliteStore(Path(self.location), create=False)
        from service.audit.stores.postgres import PostgresStore

        return PostgresStore(self.location, create=False)

    def ledger(self, key_files: KeyFiles, checkpoint_every: int = 1000) -> Ledger:
        return Ledger(self.store(), KeySource(key_files), checkpoint_every=checkpoint_every)

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Raw SQL on the database, as someone with direct access would tamper with it."""
        if self.kind == "sqlite":
            import sqlite3

            with sqlite3.connect(self.location) as conn:
                return conn.execute(sql, params).fetchall()
        import psycopg

        with psycopg.connect(self.location, autocommit=True) as conn:
            cursor = conn.execute(sql.replace("?", "%s"), params)
            return cursor.fetchall() if cursor.description else []
