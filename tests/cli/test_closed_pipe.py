"""A reader that closes the pipe before mlgate has written (`mlgate audit show 1 | head -0`,
a pager quit early): every command ends quietly with 141 (128 + SIGPIPE), as a shell tool
does, never with a BrokenPipeError traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from service.audit.ledger import open_ledger
from service.cli.exitcodes import EXIT_BROKEN_PIPE
from service.settings import PROJECT_ROOT, get_settings
from tests.audit.factory import record_many
from tests.inprocess_cli import Mlgate, mlgate

__all__ = ["mlgate"]


@pytest.mark.parametrize(
    "argv",
    [["audit", "show", "1"], ["audit", "verify"], ["audit", "export", "--format", "jsonl"]],
    ids=" ".join,
)
def test_a_command_whose_reader_is_gone_ends_quietly(mlgate: Mlgate, argv: list[str]) -> None:
    with open_ledger(get_settings()) as ledger:
        record_many(ledger, 2)
    env = {**os.environ, "MLGATE_HOME": str(get_settings().home), "PYTHONPATH": str(PROJECT_ROOT)}
    reader, writer = os.pipe()
    os.close(reader)
    try:
        run = subprocess.run(
            [sys.executable, "-m", "service.cli.main", *argv],
            stdout=writer,
            stderr=subprocess.PIPE,
            env=env,
            cwd=PROJECT_ROOT,
            check=False,
            timeout=60,
        )
    finally:
        os.close(writer)

    assert run.stderr == b"", run.stderr.decode()
    assert run.returncode == EXIT_BROKEN_PIPE
