"""`mlgate snapshot add`, locally and with --url against `mlgate serve`: a file recorded already
(a retry) is said to be, records nothing and exits 0; one whose interval is recorded with other
figures is refused, naming the file and what differs."""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import LiveServer
from tests.api.conftest import live_server as live_server  # a real `mlgate serve`
from tests.cli.test_local_mode import mlgate
from tests.monitoring.conftest import snapshot

_versions = itertools.count(700)


@pytest.fixture(params=["local", "url"])
def add(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Any:  # a function: (files, *options) -> the finished `mlgate snapshot add`
    """`mlgate snapshot add` into a local ledger, or posted with --url to `mlgate serve`."""
    home = tmp_path / "home"
    if request.param == "local":

        def local(files: list[Path], *options: str) -> subprocess.CompletedProcess[str]:
            return mlgate(home, "snapshot", "add", *map(str, files), *options)

        return local
    server: LiveServer = request.getfixturevalue("live_server")

    def remote(files: list[Path], *options: str) -> subprocess.CompletedProcess[str]:
        return mlgate(
            home,
            "snapshot",
            "add",
            *map(str, files),
            "--url",
            server.url,
            *options,
            MLGATE_TOKEN=server.tokens["reporter"],
        )

    return remote


def series(tmp_path: Path, count: int, **changes: Any) -> list[Path]:
    """`count` snapshot files of consecutive intervals of a deployment no other test reports."""
    deployment = {"model": "fraud-detector", "version": str(next(_versions)), "stage": "canary"}
    files = []
    for i in range(count):
        path = tmp_path / f"{deployment['version']}-{i}.json"
        path.write_text(json.dumps(snapshot(i, deployment=deployment, **changes)))
        files.append(path)
    return files


def test_adding_files_again_records_only_the_new_ones_and_says_which_were_kept(
    add: Any, tmp_path: Path
) -> None:
    """A run cut short (its answers lost) is run again with one more file: the files recorded
    already were refused as overlaps, so the retry failed and the new file was never sent."""
    files = series(tmp_path, 3)
    first = add(files[:2])
    assert first.returncode == 0, first.stderr
    recorded = first.stdout.splitlines()

    again = add(files)

    assert again.returncode == 0, again.stderr
    lines = again.stdout.splitlines()
    assert len(lines) == 3
    for was, now in zip(recorded, lines[:2], strict=True):
        path, _, rest = was.partition(": recorded snapshot ")
        snapshot_id, _, seq_and_what = rest.partition(" (seq ")
        seq, _, what = seq_and_what.partition("): ")
        assert now.startswith(
            f"{path}: recorded already as snapshot {snapshot_id} (seq {seq}, received at "
        ), now
        assert now.endswith(f"; nothing new was recorded: {what}"), now
    assert lines[2].startswith(f"{files[2]}: recorded snapshot ")


def test_a_file_recorded_already_prints_the_kept_snapshot_under_json(
    add: Any, tmp_path: Path
) -> None:
    files = series(tmp_path, 1)
    first = add(files, "--format", "json")
    assert first.returncode == 0, first.stderr
    assert "recorded already" not in first.stderr
    kept = json.loads(first.stdout)

    again = add(files, "--format", "json")

    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == kept
    assert again.stderr == (
        f"mlgate: {files[0]}: recorded already as snapshot {kept['id']} (seq {kept['record']}, "
        f"received at {kept['received_at']}); nothing new was recorded\n"
    )


def test_a_file_whose_interval_is_recorded_with_other_figures_is_refused_naming_them(
    add: Any, tmp_path: Path
) -> None:
    [recorded] = series(tmp_path, 1)
    first = add([recorded], "--format", "json")
    assert first.returncode == 0, first.stderr
    kept = json.loads(first.stdout)
    corrected = tmp_path / "corrected.json"
    corrected.write_text(json.dumps({**json.loads(recorded.read_text()), "sample_count": 1900}))

    refused = add([corrected])

    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stdout == ""
    assert refused.stderr.startswith(f"mlgate: error: {corrected}: "), refused.stderr
    assert " sample_count: this deployment's interval " in refused.stderr
    assert f"is recorded already (snapshot {kept['id']}, seq {kept['record']})" in refused.stderr
    assert "(sample_count: recorded 1840, sent 1900)" in refused.stderr
