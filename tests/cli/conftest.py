"""`mlgate demo` run once for the tests that read what it left: in a subprocess, from a fresh
MLGATE_HOME, under the usual umask (0o022), so what the command does, not the umask, decides
the modes of what it creates."""

from __future__ import annotations

import base64
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from service.settings import PROJECT_ROOT

# A bound that only a hang reaches, not a loaded host.
COMMAND_TIMEOUT = 900
USUAL_UMASK = 0o022
# An INFO or DEBUG line in MLflow's log format (mlflow/utils/logging_utils.py
# LOGGING_LINE_FORMAT), e.g.
# "2026/12/03 04:21:30 INFO mlflow.store.db.utils: Creating initial MLflow database tables..."
MLFLOW_LOG_LINE = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (?:DEBUG|INFO) \S+: .*$", re.M)


@dataclass
class Demo:
    home: Path
    env: dict[str, str]
    out: str = ""  # what `mlgate demo` printed
    err: str = ""  # what it wrote to stderr
    # Every path the demo left under its home (relative), with its type ("d" or "f") and mode.
    created: dict[str, tuple[str, int]] = field(default_factory=dict)

    def mlgate(self, *argv: str) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(
                [sys.executable, "-m", "service.cli.main", *argv],
                env=self.env,
                cwd=PROJECT_ROOT,
                capture_output=True,
                timeout=COMMAND_TIMEOUT,
                umask=USUAL_UMASK,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"`mlgate {' '.join(argv)}` did not finish in {COMMAND_TIMEOUT} s (the demo "
                "takes under a minute on an idle 2-core host): the host is overloaded, or the "
                "command hangs"
            )

    def predicates(self, kind: str) -> list[dict[str, object]]:
        with sqlite3.connect(self.home / "ledger.sqlite3") as conn:
            rows = conn.execute("SELECT envelope FROM records WHERE kind = ?", (kind,)).fetchall()
        return [
            json.loads(base64.b64decode(json.loads(envelope)["payload"]))["predicate"]
            for (envelope,) in rows
        ]


def modes_under(home: Path) -> dict[str, tuple[str, int]]:
    """Every path under `home`, `home` itself as ".": its type ("d" or "f") and permission bits."""
    return {
        str(path.relative_to(home)): ("d" if path.is_dir() else "f", path.stat().st_mode & 0o777)
        for path in [home, *home.rglob("*")]
    }


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    home = tmp_path_factory.mktemp("demo-home") / "home"  # the demo creates it
    env = {**os.environ, "MLGATE_HOME": str(home)}
    for name in (
        "MLGATE_LEDGER_URL",
        "MLGATE_SIGNING_KEY",
        "MLGATE_KEYRING",
        "MLGATE_POLICY_DIR",
        "MLFLOW_LOGGING_LEVEL",  # MLflow's logging as an operator who set nothing gets it
        "MLFLOW_CONFIGURE_LOGGING",
    ):
        env.pop(name, None)
    ran = Demo(home, env).mlgate("demo")
    assert ran.returncode == 0, ran.stderr.decode()[-3000:]
    yield Demo(home, env, ran.stdout.decode(), ran.stderr.decode(), modes_under(home))
