"""What `mlgate demo` leaves and shows: everything it creates under MLGATE_HOME is private,
whatever the umask, and its stderr carries mlgate's lines only, none of MLflow's chatter.
Every decision's policy revision (the demo decides under two policy directories, one a copy
with a changed threshold) is explained by a record in the ledger, and `mlgate policies show`
gives back exactly its files. One file: the demo (half a minute) runs once per test worker."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

from service.engine.policyset import read_policy_set
from tests.cli.conftest import MLFLOW_LOG_LINE, Demo

# What MLflow prints (not logs) when a model is registered through log_model.
MLFLOW_PRINTS = ("Successfully registered model", "Registered model", "Created version")


def test_every_folder_the_demo_creates_is_private_and_no_file_is_open_to_others(
    demo: Demo,
) -> None:
    # The MLflow store, its artifacts, the evidence cache and the demo's policy copy included.
    assert {"mlflow.db", "mlartifacts", "cache/mlflow", "demo-policies"} <= demo.created.keys()
    folders = {path: oct(mode) for path, (kind, mode) in demo.created.items() if kind == "d"}
    assert {path: mode for path, mode in folders.items() if mode != oct(0o700)} == {}
    open_to_others = {path: oct(mode) for path, (_, mode) in demo.created.items() if mode & 0o077}
    assert open_to_others == {}


def test_the_demos_stderr_carries_mlgates_lines_and_none_of_mlflows(demo: Demo) -> None:
    assert MLFLOW_LOG_LINE.findall(demo.err) == []
    assert [line for line in demo.err.splitlines() if line.startswith(MLFLOW_PRINTS)] == []
    assert "mlgate LOCAL MODE" in demo.err  # mlgate's own notice still reaches the reader
    assert "from the MLflow registry at" in demo.out
    assert "records valid" in demo.out


def test_the_demos_monitoring_line_shows_an_interval_whose_ends_differ(demo: Demo) -> None:
    """The demo reports intervals of 299 ms; quoted to the minute they read 06:38-06:38."""
    line = next(line for line in demo.out.splitlines() if " monitoring ROLLBACK " in line)
    interval = re.search(r"error_rate 0\.12 in (\S+)-(\S+) is above", line)

    assert interval is not None, line
    start, end = interval.groups()
    assert start != end, line
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3}", start), line


def test_the_demos_alias_history_names_each_moves_whole_decision_id(demo: Demo) -> None:
    """Record ids are UUIDv7: ids made in the same minute share their first characters, so
    only the whole id tells two moves' decisions apart."""
    named = re.findall(r"->\s+v\d+\s+decision (\S+)\s+seq (\d+)", demo.out)
    assert len(named) >= 3, demo.out
    with sqlite3.connect(demo.home / "ledger.sqlite3") as conn:
        for decision_id, seq in named:
            found = conn.execute(
                "SELECT 1 FROM records WHERE decision_id = ? AND kind = 'decision'", (decision_id,)
            ).fetchone()
            assert found is not None, f"the alias move at seq {seq} names {decision_id}"


def test_every_decision_of_the_demo_has_its_revision_on_record(demo: Demo) -> None:
    decided = {str(p["policy_revision"]) for p in demo.predicates("decision")}
    kept = [str(p["revision"]) for p in demo.predicates("policy_revision")]

    assert len(decided) == 2  # the shipped policies and the demo's copy with a changed threshold
    assert sorted(kept) == sorted(decided)  # each once


def test_each_revision_of_the_demo_is_given_back_file_for_file(demo: Demo, tmp_path: Path) -> None:
    for n, revision in enumerate(
        sorted({str(p["revision"]) for p in demo.predicates("policy_revision")})
    ):
        output = tmp_path / f"revision-{n}"

        shown = demo.mlgate("policies", "show", revision, "--output", str(output))

        assert shown.returncode == 0, shown.stderr.decode()
        restored = read_policy_set(output)
        assert restored.revision == revision
        listing = demo.mlgate("policies", "show", revision).stdout.decode()
        assert len(listing.splitlines()[2:]) == len(restored.files)
        for rel in restored.files:
            digest = "sha256:" + hashlib.sha256((output / rel).read_bytes()).hexdigest()
            assert any(line.split()[::2] == [digest, rel] for line in listing.splitlines()[2:])
        first = restored.files[0]
        one = demo.mlgate("policies", "show", revision, "--file", first)
        assert one.returncode == 0 and one.stdout == (output / first).read_bytes()


def test_a_revision_not_on_record_exits_2_saying_so(demo: Demo) -> None:
    unknown = "sha256:" + "0" * 64

    shown = demo.mlgate("policies", "show", unknown)

    assert shown.returncode == 2
    assert f"no policy revision {unknown} is on record" in shown.stderr.decode()
    assert b"Traceback" not in shown.stderr


def test_the_demos_ledger_verifies_with_its_revisions_kept(demo: Demo) -> None:
    verified = demo.mlgate("audit", "verify")

    assert verified.returncode == 0, verified.stdout.decode() + verified.stderr.decode()
    assert "2 policy revisions" in verified.stdout.decode()
