"""A model name has one form in the CLI too (service/modelname.py): a look-alike given to any
command, or read from an evidence file's model card, is a usage error (exit 2) naming the
character at fault and the form expected, before a ledger or a service is touched."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.cli.main import main
from service.evidence.files import read_evidence_dir
from service.modelname import RULE
from service.settings import get_settings
from tests.conftest import EVIDENCE_DIR
from tests.test_modelname import LOOKALIKES

DIGEST = "sha256:" + "ab" * 32
SNAPSHOTS_DIR = EVIDENCE_DIR.parent / "snapshots"
# NUL cannot be passed in a command line; an evidence file refuses it on reading.
NAMES = {case: found for case, found in LOOKALIKES.items() if case != "NUL"}


@pytest.fixture(autouse=True)
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.setenv("MLGATE_HOME", str(tmp_path / "home"))
    for name in ("MLGATE_URL", "MLGATE_TOKEN", "MLGATE_LEDGER_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


def evidence_naming(directory: Path, name: str) -> Path:
    """The approved fixture's evidence, its model card naming the model `name`."""
    shutil.copytree(EVIDENCE_DIR / "approved", directory)
    card = read_evidence_dir(directory)["model_card"]
    (directory / "model_card.yaml").unlink()
    (directory / "model_card.json").write_text(json.dumps({**card, "name": name}))
    return directory


def commands(name: str, tmp_path: Path) -> dict[str, list[str]]:
    """Every command a model name enters, by where it enters."""
    cards = evidence_naming(tmp_path / "evidence", name)
    return {
        "decide --model": [
            "decide", "promotion", "--model", name, "--version", "7", "--to", "staging",
        ],
        "decide --evidence (model_card.name)": [
            "decide", "promotion", "--evidence", str(cards), "--to", "staging",
        ],
        "decide --url --evidence (model_card.name)": [
            "decide", "promotion", "--url", "http://127.0.0.1:9", "--evidence", str(cards),
            "--to", "staging",
        ],
        "approve --model": [
            "approve", "--model", name, "--version", "7", "--digest", DIGEST, "--as", "r",
            "--comment", "ok",
        ],
        "waive --model": [
            "waive", "--model", name, "--version", "7", "--digest", DIGEST, "--code",
            "METRIC_ABOVE_CEILING", "--as", "model-risk-officer", "--reason", "r",
            "--expires", "2099-01-01T00:00:00Z",
        ],
        "history --model": ["history", "--model", name],
        "replay --model": ["replay", "--model", name],
    }  # fmt: skip


def snapshot_naming(directory: Path, name: str) -> Path:
    """The healthy canary's first snapshot, its deployment naming the model `name`."""
    [first, *_] = sorted((SNAPSHOTS_DIR / "healthy-canary").glob("0*.json"))
    document = json.loads(first.read_text())
    document["deployment"]["model"] = name
    path = directory / "snapshot.json"
    path.write_text(json.dumps(document))
    return path


ENTRIES = [
    "decide --model",
    "decide --evidence (model_card.name)",
    "decide --url --evidence (model_card.name)",
    "approve --model",
    "waive --model",
    "history --model",
    "replay --model",
]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int | str | None, str]:
    capsys.readouterr()
    try:
        code: int | str | None = main(argv)
    except SystemExit as exc:  # argparse refuses an argument by exiting
        code = exc.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize(("name", "said"), NAMES.values(), ids=NAMES.keys())
def test_a_lookalike_name_is_exit_2_at_every_command(
    entry: str,
    name: str,
    said: str,
    tmp_path: Path,
    home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = run(commands(name, tmp_path)[entry], capsys)

    assert code == 2, err
    assert said in err and RULE in err, err
    assert not home.exists() or not any(home.glob("ledger*")), "a ledger was opened"


@pytest.mark.parametrize(("name", "said"), NAMES.values(), ids=NAMES.keys())
def test_a_lookalike_in_a_snapshot_file_names_the_character(
    name: str, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`mlgate snapshot add` said only that the name did not match the schema's pattern,
    printing a look-alike hyphen as it is, so the mistake could not be seen."""
    code, err = run(["snapshot", "add", str(snapshot_naming(tmp_path, name))], capsys)

    assert code == 2, err
    assert "deployment.model: " in err and said in err and RULE in err, err
    assert "does not match" not in err


def test_a_card_name_is_named_as_the_card_s_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run(commands("fraud\u2010detector", tmp_path)[ENTRIES[1]], capsys)

    assert code == 2
    assert err.startswith(
        "mlgate: error: model_card.name: 'fraud\\u2010detector': U+2010 HYPHEN at position 5"
    ), err


def test_the_exit_code_of_a_lookalike_is_2_end_to_end(tmp_path: Path) -> None:
    env = {**os.environ, "MLGATE_HOME": str(tmp_path / "home")}
    env.pop("MLGATE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "decide", "promotion", "--model",
         "Fraud-detector", "--version", "7", "--to", "staging"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode == 2, done.stderr
    assert "argument --model: 'Fraud-detector': U+0046 LATIN CAPITAL LETTER F" in done.stderr
