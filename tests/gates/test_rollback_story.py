"""The whole story on a real MLflow store: v1 and v2 installed in production by the gate; v2's
snapshots go bad; the monitoring gate says rollback and, asked to enact, the rollback gate
picks v1 and moves the alias back; the ledger tells each step and verifies."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from service.audit.keys import load_keyring
from service.compose import local_path
from service.decision.request import GateRequest
from service.enact.history import alias_history
from service.execution.inline import LocalPath
from service.monitoring.snapshot import parse_snapshot
from service.schemas import default_schemas
from service.settings import Settings
from tests.conftest import POLICY_DIR
from tests.evidence.test_registry_trust import client, copy_model, install, request, store

__all__ = ["store"]


@pytest.fixture
def path(store: str, tmp_path: Path) -> Iterator[LocalPath]:
    made = local_path(
        Settings(home=tmp_path / "home", mlflow_tracking_uri=store, policy_dir=POLICY_DIR)
    )
    yield made
    made.ledger.close()


def report_bad_intervals(path: LocalPath, name: str, version: str, count: int = 3) -> None:
    """`count` intervals of 0.2 s since the version was installed, each with an error rate far
    above the ceiling, as a monitor would report them."""
    installed = alias_history(path.ledger, name, "champion")[0]
    start = datetime.fromisoformat(path.ledger.get_seq(installed["record"]).recorded_at)
    time.sleep(0.2 * count + 0.1)  # no interval may end in the future
    for i in range(count):
        begin = start + timedelta(milliseconds=200 * i + 1)
        snapshot = {
            "deployment": {"model": name, "version": version, "stage": "production"},
            "interval": {
                "start": _stamp(begin),
                "end": _stamp(begin + timedelta(milliseconds=199)),
            },
            "sample_count": 1800,
            "operational": {"error_rate": 0.2, "latency_p99_ms": 120.0},
        }
        path.context.snapshots.add(parse_snapshot(snapshot, default_schemas()), "prometheus")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def monitoring(name: str, version: str, *, enact: bool) -> GateRequest:
    return GateRequest(
        gate="monitoring",
        caller={"id": "argo-rollouts", "role": "cli"},
        evidence={},
        target={"stage": "production"},
        model={"name": name, "version": version},
        trusted=True,
        enact=enact,
    )


def manual_rollback(name: str, **trigger: Any) -> GateRequest:
    return GateRequest(
        gate="rollback",
        caller={"id": "on-call", "role": "cli"},
        evidence={},
        target={"stage": "production"},
        model={"name": name},
        trusted=True,
        enact=trigger.pop("enact", False),
        trigger={"kind": "manual", "decision_id": None, "requested_version": None, **trigger},
    )


def test_a_bad_version_is_rolled_back_to_the_last_one_the_gate_installed(
    path: LocalPath, store: str
) -> None:
    name = copy_model(store, ["1", "2", "2"], champion="1")  # v1 deployed before the gate
    install(path, name, "2")
    install(path, name, "3")
    report_bad_intervals(path, name, "3")

    answer = path.decide(monitoring(name, "3", enact=True))

    assert answer.outcome == "rollback", [r.message for r in answer.reasons]
    rollback = answer.triggered
    assert rollback is not None and rollback.gate == "rollback"
    assert rollback.outcome == "rollback", [r.message for r in rollback.reasons]
    assert rollback.target_version == "2"  # v1 was never installed by the gate
    assert rollback.enactment is not None and rollback.enactment.moved, rollback.enactment
    assert str(client(store).get_model_version_by_alias(name, "champion").version) == "2"
    moves = alias_history(path.ledger, name, "champion")
    assert [(m.get("move", "install"), m["to_version"]) for m in moves] == [
        ("roll-back", "2"),
        ("install", "3"),
        ("install", "2"),
    ]
    assert moves[0]["decision_id"] == rollback.decision_id
    assert moves[0]["rolled_back_version"] == "3"
    recorded = path.ledger.get(rollback.decision_id).predicate()
    assert recorded["target_version"] == "2"
    keyring = load_keyring(path.context.settings.resolved_keyring)  # type: ignore[union-attr]
    assert path.ledger.verify(keyring).ok


def test_a_rolled_back_version_needs_new_allows_to_go_back(path: LocalPath, store: str) -> None:
    name = copy_model(store, ["1", "2", "2"], champion="1")
    install(path, name, "2")
    install(path, name, "3")
    rolled = path.decide(
        manual_rollback(name, reason="p99 latency doubled after deploy", enact=True)
    )
    assert rolled.outcome == "rollback" and rolled.target_version == "2"

    again = path.decide(request(name, "3", "production", enact=True))

    assert again.outcome == "deny", [r.message for r in again.reasons]
    assert "STAGE_ORDER" in [r.code for r in again.reasons]
    assert "ROLLED_BACK" in [w.code for w in again.warnings]
    assert again.enactment is not None and not again.enactment.moved


def test_with_no_version_the_gate_installed_before_there_is_nothing_to_roll_back_to(
    path: LocalPath, store: str
) -> None:
    name = copy_model(store, ["1", "2"], champion="1")
    install(path, name, "2")

    answer = path.decide(manual_rollback(name, reason="error rate above the SLO", enact=True))

    assert answer.outcome == "deny"
    assert "ROLLBACK_NO_SAFE_TARGET" in [r.code for r in answer.reasons]
    assert answer.enactment is not None and not answer.enactment.moved
    assert str(client(store).get_model_version_by_alias(name, "champion").version) == "2"


def test_a_requested_target_the_gate_never_installed_is_denied(path: LocalPath, store: str) -> None:
    name = copy_model(store, ["1", "2", "2"], champion="1")
    install(path, name, "2")
    install(path, name, "3")

    answer = path.decide(
        manual_rollback(name, reason="error rate above the SLO", requested_version="1")
    )

    assert answer.outcome == "deny"
    assert "ROLLBACK_REQUESTED_TARGET_REFUSED" in [r.code for r in answer.reasons]


def test_a_rollback_never_overwrites_a_promotion_made_meanwhile(
    path: LocalPath, store: str
) -> None:
    """The alias moved on (to v4, by the gate) after the rollback was decided for v3: the move
    back is refused and recorded as failed, and v4 stays."""
    name = copy_model(store, ["1", "2", "2", "2"], champion="1")
    install(path, name, "2")
    install(path, name, "3")
    decided = path.decide(manual_rollback(name, reason="error rate above the SLO"))
    assert decided.outcome == "rollback"
    install(path, name, "4")

    from service.decision.model import AuditReceipt
    from service.gates.rollback import roll_back

    receipt = AuditReceipt(seq=decided.audit.seq, envelope_digest=decided.audit.envelope_digest)  # type: ignore[union-attr]
    enactment = roll_back(decided, receipt, path.context, path.policy_set.config)

    assert not enactment.moved
    assert "conflict" in enactment.note
    assert str(client(store).get_model_version_by_alias(name, "champion").version) == "4"
    assert alias_history(path.ledger, name, "champion")[0]["moved"] is False


def test_mlgate_rollback_on_the_command_line(path: LocalPath, store: str, tmp_path: Path) -> None:
    """An on-call engineer's command: the version of record is rolled back to the one before
    it, exit code 3, and the alias history says so."""
    from tests.cli.test_local_mode import mlgate

    name = copy_model(store, ["1", "2", "2"], champion="1")
    install(path, name, "2")
    install(path, name, "3")
    home = path.context.settings.home  # type: ignore[union-attr]
    environment = {"MLGATE_MLFLOW_TRACKING_URI": store, "MLGATE_POLICY_DIR": str(POLICY_DIR)}

    short = mlgate(
        home, "rollback", "--model", name, "--stage", "production", "--reason", "bad", **environment
    )
    rolled = mlgate(
        home,
        "rollback",
        "--model",
        name,
        "--stage",
        "production",
        "--reason",
        "error rate above the SLO since the deploy",
        "--enact",
        **environment,
    )
    history = mlgate(home, "history", "--model", name, "--alias", "champion", **environment)

    assert short.returncode == 1, short.stdout + short.stderr  # a reason too short to record
    assert "ROLLBACK_REASON_MISSING" in short.stdout
    assert rolled.returncode == 3, rolled.stdout + rolled.stderr
    assert "ROLLBACK  rollback of" in rolled.stdout and "back to v2" in rolled.stdout
    assert "moved from v3 to v2 (rollback)" in rolled.stdout
    assert "rollback of v3, moved" in history.stdout.splitlines()[0]
    assert str(client(store).get_model_version_by_alias(name, "champion").version) == "2"
