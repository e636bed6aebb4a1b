"""Verification without trusting the server: the export, keyring, checkpoints and any record
with its envelope, served to an auditor; `mlgate audit verify --url` checks them here and
catches what `--file` catches; one chain link checked with hashlib alone, as the README says."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import LiveServer, serving
from tests.gates.test_rollback_story import _stamp

ROOT = Path(__file__).resolve().parents[2]
EVIDENCE = ROOT / "fixtures" / "evidence" / "approved"


def _cli(home: Path, *args: str, token: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLGATE_")}
    env |= {"MLGATE_HOME": str(home), "MLGATE_TOKEN": token}
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _get(server: LiveServer, path: str, role: str = "auditor") -> httpx.Response:
    headers = {"Authorization": f"Bearer {server.tokens[role]}"}
    return httpx.get(server.url + path, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with _recorded(tmp_path_factory.mktemp("verification")) as live:
        yield live


@pytest.fixture
def tampered_later(tmp_path: Path) -> Iterator[LiveServer]:
    """A service of its own, for a test that edits its database."""
    with _recorded(tmp_path) as live:
        yield live


@contextlib.contextmanager
def _recorded(tmp_path: Path) -> Iterator[LiveServer]:
    """A service with a few records of several kinds and a stored checkpoint."""
    home = tmp_path / "home"
    home.mkdir()
    with serving(home) as live:
        gate = {"Authorization": f"Bearer {live.tokens['gate']}"}
        evidence = json.loads((EVIDENCE / "metrics.json").read_text())
        for stage in ("staging", "canary"):
            body = {"target": {"stage": stage}, "evidence": {"metrics": evidence}}
            answer = httpx.post(
                f"{live.url}/v1/decisions/promotion", json=body, headers=gate, timeout=60
            )
            assert answer.status_code == 200, answer.text
        now = datetime.now(UTC)
        snapshot = httpx.post(
            f"{live.url}/v1/snapshots",
            json={
                "deployment": {"model": "fraud-detector", "version": "7", "stage": "canary"},
                "interval": {
                    "start": _stamp(now - timedelta(minutes=10)),
                    "end": _stamp(now - timedelta(minutes=5)),
                },
                "sample_count": 1800,
                "operational": {"error_rate": 0.001, "latency_p99_ms": 120.0},
            },
            headers={"Authorization": f"Bearer {live.tokens['reporter']}"},
            timeout=60,
        )
        assert snapshot.status_code == 201, snapshot.text
        checkpoint = _cli(live.home, "audit", "checkpoint", "--output", str(tmp_path / "cp"))
        assert checkpoint.returncode == 0, checkpoint.stderr
        answer = httpx.post(
            f"{live.url}/v1/decisions/promotion",
            json={"target": {"stage": "staging"}, "evidence": {"metrics": evidence}},
            headers=gate,
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        yield live


def _payload(envelope: bytes) -> dict[str, Any]:
    statement: dict[str, Any] = json.loads(base64.b64decode(json.loads(envelope)["payload"]))
    return statement


def test_the_export_is_the_ledger_byte_for_byte(server: LiveServer, tmp_path: Path) -> None:
    local = _cli(server.home, "audit", "export", "--output", str(tmp_path / "local.jsonl"))
    assert local.returncode == 0, local.stderr

    served = _get(server, "/v1/audit/export")

    assert served.status_code == 200
    assert served.headers["content-type"] == "application/jsonl"
    assert served.content == (tmp_path / "local.jsonl").read_bytes()
    lines = served.content.splitlines()
    assert [_payload(line)["predicate"]["seq"] for line in lines] == list(range(1, len(lines) + 1))
    decisions = _get(server, "/v1/audit/export?kind=decision&gate=promotion")
    assert [_payload(line)["predicate"]["gate"] for line in decisions.content.splitlines()] == [
        "promotion"
    ] * 3
    canary = _get(server, "/v1/audit/export?kind=decision&stage=canary").content.splitlines()
    assert [_payload(line)["predicate"]["target"]["stage"] for line in canary] == ["canary"]


def test_keys_and_checkpoints_are_served(server: LiveServer) -> None:
    keys = _get(server, "/v1/audit/keys")
    assert keys.status_code == 200
    assert keys.json() == json.loads((server.home / "keys" / "keyring.json").read_text())

    checkpoints = _get(server, "/v1/audit/checkpoints").content.splitlines()
    assert len(checkpoints) >= 1
    statement = json.loads(base64.b64decode(json.loads(checkpoints[0])["payload"]))
    assert statement["_type"] == "https://mlgate.dev/checkpoint/v1"


def test_one_chain_link_checks_with_hashlib_alone(server: LiveServer) -> None:
    """The README: `prev` of record n is the SHA-256, in hex, of record n-1's envelope exactly
    as stored (one line of the export, without its newline); record 1's prev is 64 zeros."""
    first = _get(server, "/v1/audit/records/1")
    second = _get(server, "/v1/audit/records/2")
    assert first.status_code == second.status_code == 200, first.text

    envelope_1 = first.json()["envelope"].encode()
    statement_2 = _payload(second.json()["envelope"].encode())

    assert statement_2["predicate"]["prev"] == hashlib.sha256(envelope_1).hexdigest()
    assert _payload(envelope_1)["predicate"]["prev"] == "0" * 64
    assert first.json()["envelope_digest"] == "sha256:" + hashlib.sha256(envelope_1).hexdigest()


def test_a_record_of_any_kind_by_id_or_seq(server: LiveServer) -> None:
    listing = _get(server, "/v1/audit?limit=100").json()["records"]
    kinds = {row["kind"]: row for row in listing}
    assert sorted(kinds) == ["decision", "metric_snapshot", "policy_revision"]
    for row in listing:
        by_id = _get(server, f"/v1/audit/records/{row['id']}")
        by_seq = _get(server, f"/v1/audit/records/{row['seq']}")
        assert by_id.status_code == by_seq.status_code == 200
        assert by_id.json() == by_seq.json()
        assert by_id.json()["kind"] == row["kind"]

    missing = _get(server, "/v1/audit/records/no-such-record")
    assert missing.status_code == 404
    assert "no record with id 'no-such-record'" in missing.json()["message"]
    assert _get(server, "/v1/audit/records/1", role="gate").status_code == 403
    assert _get(server, "/v1/audit/export", role="gate").status_code == 403


def _verify_both(server: LiveServer, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """`mlgate audit verify --url` and, on an export of the same database, `--file`."""
    remote = _cli(
        tmp_path,
        "audit",
        "verify",
        "--url",
        server.url,
        "--format",
        "json",
        token=server.tokens["auditor"],
    )
    export = tmp_path / "export.jsonl"
    assert _cli(server.home, "audit", "export", "--output", str(export)).returncode == 0
    keyring = server.home / "keys" / "keyring.json"
    local = _cli(
        tmp_path,
        "audit",
        "verify",
        "--file",
        str(export),
        "--keyring",
        str(keyring),
        "--format",
        "json",
    )
    assert remote.returncode == local.returncode, remote.stderr + local.stderr
    return json.loads(remote.stdout), json.loads(local.stdout)


def test_verify_url_catches_what_verify_file_catches(
    tampered_later: LiveServer, tmp_path: Path
) -> None:
    server = tampered_later
    remote, local = _verify_both(server, tmp_path)
    assert remote["ok"] is local["ok"] is True
    assert remote["records"] == local["records"] > 0

    database = sqlite3.connect(server.home / "ledger.sqlite3")
    with database:
        (envelope,) = database.execute("SELECT envelope FROM records WHERE seq = 2").fetchone()
        document = json.loads(envelope)
        statement = json.loads(base64.b64decode(document["payload"]))
        statement["predicate"]["outcome"] = (
            "allow" if statement["predicate"]["outcome"] != "allow" else "deny"
        )
        document["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
        database.execute(
            "UPDATE records SET envelope = ? WHERE seq = 2", (json.dumps(document).encode(),)
        )
    database.close()

    remote, local = _verify_both(server, tmp_path)
    assert remote["ok"] is local["ok"] is False
    assert all(problem in remote["problems"] for problem in local["problems"])
    found = {(p["seq"], p["kind"]) for p in remote["problems"]}
    assert {(2, "bad signature"), (3, "bad prev hash")} <= found
    # and what --file needs a checkpoint file for: the server's own checkpoint no longer holds
    assert any(kind == "checkpoint mismatch" for _, kind in found)


def test_a_keyring_named_with_the_flag_that_cannot_be_read_is_a_usage_error(
    server: LiveServer, tmp_path: Path
) -> None:
    """`--keyring FILE` missing or not JSON was exit 5 (the ledger unreadable), saying to point
    MLGATE_KEYRING at it: the person named the file, so it is their mistake, exit 2."""
    export = tmp_path / "export.jsonl"
    assert _cli(server.home, "audit", "export", "--output", str(export)).returncode == 0
    not_json = tmp_path / "keyring.txt"
    not_json.write_text("not a keyring\n")
    ways = {
        "the ledger": (server.home, []),
        "--file": (tmp_path, ["--file", str(export)]),
        "--url": (tmp_path, ["--url", server.url]),
    }
    for way, (home, args) in ways.items():
        for keyring, said in (
            (tmp_path / "absent.json", f"--keyring: no file at {tmp_path / 'absent.json'}"),
            (not_json, f"--keyring: the keyring at {not_json} is not valid JSON"),
        ):
            run = _cli(
                home,
                "audit",
                "verify",
                *args,
                "--keyring",
                str(keyring),
                token=server.tokens["auditor"],
            )

            assert run.returncode == 2, (way, run.stderr)
            assert said in run.stderr, (way, run.stderr)
