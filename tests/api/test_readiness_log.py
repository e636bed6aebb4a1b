"""ReadinessLog: why a readiness check fails, logged once per change of reason."""

from __future__ import annotations

import logging

import pytest

from service.api.readiness_log import ReadinessLog

FULL = "only {} MiB free on the disk holding the ledger (/data); free space"


def logged(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, str | None]]:
    return [
        (r.levelname, r.__dict__["event"], r.__dict__.get("reason"))
        for r in caplog.records
        if r.name == "mlgate.readiness"
    ]


def test_a_reason_is_logged_when_it_changes_and_a_pass_once_after_a_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    probes = [
        {"engine": "ok", "ledger": "ok"},  # passing from the start: nothing to say
        {"engine": "ok", "ledger": FULL.format("12.5")},
        {"engine": "ok", "ledger": FULL.format("12.5")},
        {"engine": "ok", "ledger": FULL.format("11.9")},  # the same reason, other figures
        {"engine": "OPA said no", "ledger": "the signing key is missing"},
        {"engine": "ok", "ledger": "the signing key is missing"},
        {"engine": "ok", "ledger": "the signing key is missing"},
    ]
    readiness = ReadinessLog()
    with caplog.at_level(logging.INFO, logger="mlgate.readiness"):
        for checks in probes:
            readiness.note(checks)

    assert logged(caplog) == [
        ("WARNING", "readiness_check_failed", FULL.format("12.5")),
        ("WARNING", "readiness_check_failed", "OPA said no"),
        ("WARNING", "readiness_check_failed", "the signing key is missing"),
        ("INFO", "readiness_check_passed", None),
    ]
    assert [r.__dict__["check"] for r in caplog.records] == ["ledger", "engine", "ledger", "engine"]
