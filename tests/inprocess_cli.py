"""`mlgate` run in this process, as a person or a CI job runs it, with MLGATE_HOME in a fresh
directory: the `mlgate` fixture, for tests of the local-mode commands."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from service.cli.main import main
from service.settings import get_settings


@dataclass
class Run:
    code: int
    out: str
    err: str


Mlgate = Callable[..., Run]


@pytest.fixture
def mlgate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Iterator[Mlgate]:
    """`mlgate` in-process, with MLGATE_HOME in a fresh directory."""
    monkeypatch.setenv("MLGATE_HOME", str(tmp_path / "home"))
    for name in ("MLGATE_LEDGER_URL", "MLGATE_SIGNING_KEY", "MLGATE_KEYRING"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()

    def run(*argv: str) -> Run:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    yield run
    get_settings.cache_clear()


def ledger_path() -> str:
    return get_settings().resolved_ledger_url.removeprefix("sqlite:///")
