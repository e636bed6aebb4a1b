"""What the ledger gives back is checked before anything relies on it: a record edited in the
database without the signing key (even with its columns made to match) is neither counted by a
decision, nor listed, nor read back; and the bounds and readiness around reading and writing
it fail closed."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.audit.columns import expected_columns
from tests.api.conftest import Api, in_process
from tests.api.test_signoffs import approve, at_canary, codes, version, version_body

__all__ = ["version"]  # the fixture, re-exported for pytest


@pytest.fixture(params=[True, False], ids=["fast-path", "route"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """A ledger of the test's own: a forged record makes every later decision on its model fail
    closed (ledger_tampered), as it should, so forging tests cannot share one."""
    with in_process(tmp_path, fast_path=request.param) as fresh:
        yield fresh


def _forge(api: Api, seq: int, edit: dict[str, Any]) -> None:
    """Rewrite record `seq`'s signed predicate in the SQLite ledger WITHOUT the signing key:
    the payload is edited, the old signature kept, and every indexed column made to agree with
    the forged envelope (computed as the service does), as a database editor would."""
    db = sqlite3.connect(api.settings.home / "ledger.sqlite3")
    raw, kind = db.execute("SELECT envelope, kind FROM records WHERE seq = ?", (seq,)).fetchone()
    envelope = json.loads(raw)
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"].update(edit)
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    forged = json.dumps(envelope).encode()
    keyids = tuple(s["keyid"] for s in envelope["signatures"])
    columns = expected_columns(
        kind, statement["predicate"], keyids, hashlib.sha256(forged).hexdigest()
    )
    sets = ", ".join(f"{name} = ?" for name in ["envelope", *columns])
    db.execute(f"UPDATE records SET {sets} WHERE seq = ?", (forged, *columns.values(), seq))
    db.commit()
    db.close()


def _verify_ok(api: Api) -> bool:
    r = api.client.get("/v1/audit/verify", headers=api.headers("auditor"))
    return bool(r.json()["ok"])


def test_a_forged_approval_without_the_key_does_not_let_a_rejected_version_through(
    api: Api, version: str
) -> None:
    """Sign-off reads checked columns against the envelope but never its signature, so a
    database edit (no signing key) turning a rejection into an approval was counted by the
    next decision, which allowed the version and was itself signed."""
    at_canary(api, version)
    rejected = approve(api, version, status="rejected").json()
    assert codes(api.decide(version_body(version)).json())[0] == "APPROVAL_REJECTED"

    _forge(api, rejected["record"], {"status": "approved"})

    assert not _verify_ok(api)  # audit verify sees the bad signature ...
    decision = api.decide(version_body(version))
    # ... and the gate must not count the forged approval: it fails closed, naming why.
    assert decision.status_code == 500, decision.text
    assert decision.json()["error"] == "ledger_tampered"
    assert "not validly signed" in decision.json()["message"]


def test_a_listing_refuses_a_record_whose_envelope_was_forged(api: Api, version: str) -> None:
    """GET /v1/audit re-checked columns but not signatures: a deny rewritten as an allow
    (payload edited, columns made to match, no key) was listed as an allow, unflagged."""
    denied = api.decide(version_body(version, "staging", metrics={"values": {}})).json()
    assert denied["outcome"] == "deny"
    seq = denied["audit"]["seq"]
    _forge(api, seq, {"outcome": "allow", "reasons": []})

    r = api.client.get("/v1/audit", params={"version": version}, headers=api.headers("auditor"))
    assert r.status_code == 500 and r.json()["error"] == "ledger_tampered", r.text


def test_reading_one_decision_refuses_an_edited_record(api: Api, version: str) -> None:
    """GET /v1/decisions/{id} checked neither columns nor signature: a deny whose envelope
    alone was edited (columns untouched, which the listing does refuse) was served as an
    allow, unflagged."""
    denied = api.decide(version_body(version, "staging", metrics={"values": {}})).json()
    assert denied["outcome"] == "deny"
    db = sqlite3.connect(api.settings.home / "ledger.sqlite3")
    (raw,) = db.execute(
        "SELECT envelope FROM records WHERE seq = ?", (denied["audit"]["seq"],)
    ).fetchone()
    envelope = json.loads(raw)
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"].update(outcome="allow", reasons=[])
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    db.execute(
        "UPDATE records SET envelope = ? WHERE seq = ?",
        (json.dumps(envelope).encode(), denied["audit"]["seq"]),
    )
    db.commit()
    db.close()

    listing = api.client.get(
        "/v1/audit", params={"version": version}, headers=api.headers("auditor")
    )
    assert listing.status_code == 500  # the listing refuses it (as promised) ...
    r = api.client.get(f"/v1/decisions/{denied['decision_id']}", headers=api.headers("auditor"))
    # ... the single read must too, rather than answer "allow"
    assert r.status_code == 500 and r.json()["error"] == "ledger_tampered", r.text


@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-00:01", "0001-01-01T00:00:00+00:01"])
def test_a_time_bound_outside_pythons_range_once_in_utc_is_422(
    api: Api, name: str, value: str
) -> None:
    """A valid RFC 3339 bound whose UTC instant falls outside years 1 to 9999 passed the
    route's checks and overflowed when put in UTC: a 500."""
    r = api.client.get("/v1/audit", params={name: value}, headers=api.headers("auditor"))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == name


def test_readyz_is_503_while_the_sqlite_ledger_refuses_records(tmp_path: Any) -> None:
    """On SQLite the readiness probe only wrote a file beside the ledger, so a ledger refusing
    inserts (here a trigger) was reported ready once the 10 s hold after a failed decision
    ended, while every decision was a 503."""
    with in_process(tmp_path, fast_path=True) as api:
        db = sqlite3.connect(api.settings.home / "ledger.sqlite3")
        db.execute(
            "CREATE TRIGGER ro BEFORE INSERT ON records BEGIN SELECT RAISE(ABORT, 'read-only'); END"
        )
        db.commit()
        db.close()
        decision = api.decide(version_body("1", "staging"))
        assert decision.status_code == 503  # the record cannot be written ...
        from service.api import readiness

        readiness.FAILURE_HOLD_SECONDS = 0.0  # stand-in for waiting the 10 s hold out
        try:
            ready = api.client.get("/readyz")
        finally:
            readiness.FAILURE_HOLD_SECONDS = 10.0
        assert ready.status_code == 503, ready.text  # ... so the instance is not ready


def test_an_envelope_rewritten_as_text_is_checked_like_any_other(api: Api, version: str) -> None:
    """SQLite keeps a value's type: an envelope written back as TEXT came back as str, which
    the reads turned into a 500 internal_error instead of checking it. Unaltered, it reads
    and verifies as before; altered by one character, it is refused as tampered."""
    seq = api.decide(version_body(version, "staging")).json()["audit"]["seq"]
    db = sqlite3.connect(api.settings.home / "ledger.sqlite3")
    db.execute("UPDATE records SET envelope = CAST(envelope AS TEXT) WHERE seq = ?", (seq,))
    db.commit()
    [(stored_type,)] = db.execute("SELECT typeof(envelope) FROM records WHERE seq = ?", (seq,))
    assert stored_type == "text"
    listing = api.client.get(
        "/v1/audit", params={"version": version}, headers=api.headers("auditor")
    )
    assert listing.status_code == 200, listing.text
    assert _verify_ok(api)

    db.execute(
        'UPDATE records SET envelope = replace(envelope, \'"sig":"\', \'"sig":"A\') WHERE seq = ?',
        (seq,),
    )
    db.commit()
    db.close()
    listing = api.client.get(
        "/v1/audit", params={"version": version}, headers=api.headers("auditor")
    )
    assert listing.status_code == 500 and listing.json()["error"] == "ledger_tampered", listing.text
    assert not _verify_ok(api)
