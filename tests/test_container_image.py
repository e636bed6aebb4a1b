"""The Dockerfile's layout works: the project installed from the files it copies (not run from
the checkout), with the settings its ENV lines give, serves decisions. No image is built here
(no container daemon or base image registry); hadolint checks the Dockerfile in `make lint`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
from dockerfile_parse import DockerfileParser

from service.evidence.base import RECORDED_ONLY
from service.evidence.files import read_evidence_dir
from tests.api.conftest import _wait_ready, free_port

ROOT = Path(__file__).resolve().parents[1]
EVIDENCE = ROOT / "fixtures" / "evidence" / "approved"


def _rooted(container_path: str, root: Path) -> Path:
    return root / container_path.lstrip("/")


def test_the_images_install_serves_decisions(tmp_path: Path) -> None:
    dockerfile = DockerfileParser(str(ROOT / "Dockerfile"))
    workdir = "/"
    for instruction in dockerfile.structure:
        if instruction["instruction"] == "WORKDIR":
            workdir = instruction["value"]
        elif instruction["instruction"] == "COPY":
            *sources, target = instruction["value"].split()
            destination = _rooted(str(Path(workdir) / target), tmp_path)
            for source in sources:
                origin = ROOT / source
                if origin.is_dir():
                    shutil.copytree(
                        origin, destination, ignore=shutil.ignore_patterns("__pycache__")
                    )
                else:
                    destination.mkdir(parents=True, exist_ok=True)
                    shutil.copy(origin, destination / origin.name)
    project = _rooted("/opt/mlgate", tmp_path)
    assert (project / "pyproject.toml").is_file(), "the Dockerfile no longer copies the project"
    site = tmp_path / "site"
    # The image's `pip install ".[server]"`, without fetching what this environment has.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(site),
            str(project),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )

    env = dict(dockerfile.envs)
    for name in ("MLGATE_POLICY_DIR", "MLGATE_SCHEMA_DIR", "MLGATE_HOME"):
        env[name] = str(_rooted(env[name], tmp_path))
    home = Path(env["MLGATE_HOME"])
    home.mkdir(parents=True)
    port = free_port()
    env |= {"MLGATE_HOST": "127.0.0.1", "MLGATE_PORT": str(port), "PYTHONPATH": str(site)}
    env["PATH"] = "/usr/bin:/bin"
    entrypoint = json.loads(dockerfile.structure[-2]["value"])
    command = json.loads(dockerfile.structure[-1]["value"])
    assert (entrypoint, command) == (["mlgate"], ["serve"])
    imported = subprocess.run(
        [sys.executable, "-c", "import service; print(service.__file__)"],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(imported.stdout.strip()).is_relative_to(site), "not the installed copy"
    log = home / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from service.cli.main import main; sys.exit(main())",
                *command,
            ],
            env=env,
            cwd=home,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(server, url, log)
        banner = log.read_text()
        token = re.search(r"^  gate\s+(mlg_\S+)$", banner, re.M)
        assert token, banner
        evidence = read_evidence_dir(EVIDENCE)
        answer = httpx.post(
            f"{url}/v1/decisions/promotion",
            headers={"Authorization": f"Bearer {token.group(1)}"},
            json={
                "target": {"stage": "staging"},
                "evidence": {k: v for k, v in evidence.items() if k not in RECORDED_ONLY},
            },
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        decision = answer.json()
        assert decision["outcome"] == "allow", decision
        assert decision["policy_revision"].startswith("sha256:")
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert (home / "ledger.sqlite3").is_file(), "the ledger is not in the image's volume"
