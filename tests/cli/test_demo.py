"""What `mlgate demo` leaves and shows: everything it creates under MLGATE_HOME is private,
whatever the umask, and its stderr carries mlgate's lines only, none of MLflow's chatter."""

from __future__ import annotations

import re

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
