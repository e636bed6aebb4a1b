"""Findings of an attack review of the ledger reads on the decision path: a record DELETED from
the database (no signing key needed) is not seen by the next decision, and some records take
something away from a version (a rejection, a waiver's withdrawal), so deleting one turns a deny
into an allow. service/audit/readcheck.py says "Hiding a record only ever takes evidence away
from a decision, and decisions fail closed on missing evidence"; for these records it does not
hold. `mlgate audit verify` and GET /v1/audit/verify report the gap; the decision path does
not, and signs an allow on top of it.

Each test fails on the code before its fix. Expected: the decision does not allow (it refuses
to decide on a ledger with a gap among the records it relies on, as it refuses an edited one
with `ledger_tampered`, or it still denies).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import Api, evidence, in_process
from tests.api.test_signoffs import approve, at_canary, codes, version, version_body, waive

__all__ = ["version"]  # the fixture, re-exported for pytest


@pytest.fixture(params=[True, False], ids=["fast-path", "route"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """A ledger of the test's own: the tests delete rows from it."""
    with in_process(tmp_path, fast_path=request.param) as fresh:
        yield fresh


def _delete(api: Api, seq: int) -> None:
    """Delete record `seq` from the SQLite ledger, as anyone who can write the database file
    can; nothing is forged and no key is used."""
    db = sqlite3.connect(api.settings.home / "ledger.sqlite3")
    assert db.execute("DELETE FROM records WHERE seq = ?", (seq,)).rowcount == 1
    db.commit()
    db.close()


def _verify(api: Api) -> dict[str, object]:
    result: dict[str, object] = api.client.get(
        "/v1/audit/verify", headers=api.headers("auditor")
    ).json()
    return result


def test_deleting_a_rejection_does_not_let_the_rejected_version_through(
    api: Api, version: str
) -> None:
    """A model-risk-officer approved the version, then rejected it (the approver's latest word
    counts: APPROVAL_REJECTED denies). The rejection's row is deleted from the ledger.
    Seen: audit verify reports `seq N missing`, and the next production decision is an ALLOW,
    signed and recorded, on the earlier approval alone."""
    at_canary(api, version)
    assert approve(api, version).status_code == 201
    assert api.decide(version_body(version)).json()["outcome"] == "allow"
    rejected = approve(api, version, status="rejected").json()
    assert codes(api.decide(version_body(version)).json())[0] == "APPROVAL_REJECTED"

    _delete(api, rejected["record"])

    verified = _verify(api)
    assert verified["ok"] is False and "sequence gap" in str(verified["problems"])
    after = api.decide(version_body(version))
    assert not (after.status_code == 200 and after.json()["outcome"] == "allow"), after.text


def test_deleting_a_waivers_withdrawal_does_not_bring_the_waiver_back(
    api: Api, version: str
) -> None:
    """A waiver of METRIC_ABOVE_CEILING is withdrawn (the gate denies again); the withdrawal's
    row is deleted from the ledger. Seen: the next decision applies the withdrawn waiver and
    ALLOWS calibration_ece 0.035 above the 0.03 ceiling."""
    metrics = evidence()["metrics"]
    metrics["values"]["calibration_ece"] = 0.035
    at_canary(api, version)
    approve(api, version)
    waiver = waive(api, version).json()
    assert api.decide(version_body(version, metrics=metrics)).json()["outcome"] == "allow"
    withdrawal = api.client.request(
        "DELETE",
        f"/v1/waivers/{waiver['id']}",
        json={"reason": "the fix slipped"},
        headers=api.headers("approver"),
    ).json()
    assert codes(api.decide(version_body(version, metrics=metrics)).json()) == [
        "METRIC_ABOVE_CEILING"
    ]

    _delete(api, withdrawal["record"])

    assert _verify(api)["ok"] is False
    after = api.decide(version_body(version, metrics=metrics))
    assert not (after.status_code == 200 and after.json()["outcome"] == "allow"), after.text


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "route"])
def test_a_rejection_cut_off_the_tail_while_the_service_was_down_does_not_let_it_through(
    tmp_path: Path, version: str, fast_path: bool
) -> None:
    """The rejection is the ledger's newest record when the service stops; it is deleted; the
    restarted service remembers no append of its own, and the chain without the rejection has
    no gap. Seen before the head mark (service/audit/headmark.py): the next production
    decision is an ALLOW on the earlier approval."""
    with in_process(tmp_path, fast_path=fast_path) as api:
        at_canary(api, version)
        assert approve(api, version).status_code == 201
        rejected = approve(api, version, status="rejected").json()
    _delete(api, rejected["record"])
    (tmp_path / "tokens.json").unlink()  # the restarted app's test tokens are issued afresh

    with in_process(tmp_path, fast_path=fast_path) as restarted:
        after = restarted.decide(version_body(version))
    assert not (after.status_code == 200 and after.json()["outcome"] == "allow"), after.text
    assert after.status_code == 503 and "head mark" in after.text, after.text
