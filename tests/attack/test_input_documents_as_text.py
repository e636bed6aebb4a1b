"""Finding of an attack review of the ledger reads: SQLite keeps a value's type, so an input
document (or a kept policy file) written back as TEXT,
as `sqlite3`'s own `replace()` or `CAST` does, comes back as str. Envelopes so rewritten are
checked like any other since the fix of that case; input documents are not: GET
/v1/audit/verify, GET /v1/decisions/{id} and GET /v1/policies/{revision} answer 500
internal_error and `mlgate audit verify` prints a traceback (TypeError in
service/audit/stores/reads.py input_document). Expected: the document's UTF-8 bytes are
checked against its digest like any other: unaltered, it reads and verifies; altered, it is
reported as altered. The test fails on the code before its fix.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import Api, in_process, request_body


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """A ledger of the test's own: the test rewrites rows of it (the reads are the same
    through the decision fast path and the route)."""
    with in_process(tmp_path, fast_path=True) as fresh:
        yield fresh


# Where the bytes named by a digest are kept: a policy file under its digest, a decision's
# input document under the seq of its record.
KEPT = (
    ("inputs", "digest = ?"),
    ("record_inputs", "seq IN (SELECT seq FROM records WHERE input_digest = ?)"),
)


def _as_text(api: Api, digest: str, sql_value: str) -> None:
    db = sqlite3.connect(api.settings.home / "ledger.sqlite3")
    for table, where in KEPT:
        db.execute(f"UPDATE {table} SET document = {sql_value} WHERE {where}", (digest,))
    db.commit()
    stored_types = [
        row
        for table, where in KEPT
        for row in db.execute(f"SELECT typeof(document) FROM {table} WHERE {where}", (digest,))
    ]
    db.close()
    assert stored_types == [("text",)]


def test_an_input_document_rewritten_as_text_is_checked_like_any_other(api: Api) -> None:
    decision = api.decide(request_body("staging")).json()
    _as_text(api, decision["input_digest"], "CAST(document AS TEXT)")

    verified = api.client.get("/v1/audit/verify", headers=api.headers("auditor"))
    assert verified.status_code == 200, verified.text
    assert verified.json()["ok"] is True, verified.text
    read = api.client.get(
        f"/v1/decisions/{decision['decision_id']}", headers=api.headers("auditor")
    )
    assert read.status_code == 200, read.text

    _as_text(api, decision["input_digest"], "replace(document, 'fraud', 'frauX')")

    verified = api.client.get("/v1/audit/verify", headers=api.headers("auditor"))
    assert verified.status_code == 200, verified.text
    assert verified.json()["ok"] is False
    run = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "audit", "verify"],
        env={**os.environ, "MLGATE_HOME": str(api.settings.home)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 1, run.stdout + run.stderr


def test_a_kept_policy_file_rewritten_as_text_is_read_like_any_other(api: Api) -> None:
    revision = api.client.get("/v1/policies", headers=api.headers("auditor")).json()["revision"]
    files = api.client.get(f"/v1/policies/{revision}", headers=api.headers("auditor")).json()
    digest = files["files"][0]["digest"]
    _as_text(api, digest, "CAST(document AS TEXT)")

    read = api.client.get(f"/v1/policies/{revision}", headers=api.headers("auditor"))

    assert read.status_code == 200, read.text
