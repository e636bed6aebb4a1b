"""A local command that refuses its input creates nothing: no signing key, no ledger. The input
is checked before the ledger opens, since opening it to record creates both on first use."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.test_local_mode import DIGEST, mlgate
from tests.monitoring.conftest import snapshot

VERSION = ["--model", "fraud-detector", "--version", "7", "--digest", DIGEST]
WAIVE = ["waive", *VERSION, "--as", "model-risk-officer", "--reason", "x"]


def bad_snapshot(tmp_path: Path) -> list[str]:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**snapshot(0), "sample_count": "lots"}))
    return ["snapshot", "add", str(bad)]


def good_then_bad_snapshot(tmp_path: Path) -> list[str]:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(snapshot(0)))
    return [*bad_snapshot(tmp_path)[:2], str(good), bad_snapshot(tmp_path)[2]]


# Each command line (given a folder for its files) and what its refusal says.
REFUSED: dict[str, tuple[Callable[[Path], list[str]], str]] = {
    "snapshot add, a figure that is not a number": (
        bad_snapshot,
        'sample_count: "lots" is not of type "integer"',
    ),
    "snapshot add, a good file then a bad one": (
        good_then_bad_snapshot,
        'sample_count: "lots" is not of type "integer"',
    ),
    "approve as a role that never counts": (
        lambda _: ["approve", *VERSION, "--as", "intern", "--comment", "looks fine"],
        "One as 'intern' would never count",
    ),
    "waive a code no rule has": (
        lambda _: [*WAIVE, "--code", "NOT_A_CODE", "--expires", "2099-01-01T00:00:00Z"],
        "no policy rule has the code NOT_A_CODE",
    ),
    "waive with an expiry in the past": (
        lambda _: [*WAIVE, "--code", "METRIC_BELOW_FLOOR", "--expires", "2000-01-01T00:00:00Z"],
        "is not in the future",
    ),
    "withdraw a waiver that was never given": (
        lambda _: ["waive", "--withdraw", "no-such-waiver", "--reason", "x"],
        "no waiver 'no-such-waiver'",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_refused_command_creates_no_key_and_no_ledger(case: str, tmp_path: Path) -> None:
    argv, said = REFUSED[case]
    home = tmp_path / "home"

    run = mlgate(home, *argv(tmp_path))

    assert run.returncode == 2, run.stdout + run.stderr
    assert said in run.stderr, run.stderr
    assert "created an Ed25519 signing key" not in run.stderr
    left = sorted(str(p.relative_to(home)) for p in home.rglob("*")) if home.exists() else []
    assert left == [], left
