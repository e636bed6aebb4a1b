"""What the schema accepts, the policy can read: timestamps and artifact digests (findings 6, 7)."""

from __future__ import annotations

from typing import Any

import pytest

from service.decision.judge import Judge
from service.decision.recording import decision_subject
from service.engine.bindings import new_opa
from service.schemas import default_schemas
from tests.conftest import fixture_input

# RFC 3339 spellings and whether the schema takes them. Every one it takes, OPA parses;
# a few that Go's parser is lenient about (one-digit hour, a comma, +24:00) the schema refuses
# too, which only ever turns an answer into EVIDENCE_INVALID, never into an engine error.
TIMESTAMPS = {
    "2026-11-20T09:00:00Z": True,
    "2026-11-20T09:00:00.123Z": True,
    "2026-11-20T09:00:00.123456789Z": True,
    "2026-11-20T09:00:00+01:00": True,
    "2026-11-20T09:00:00-23:59": True,
    "2026-11-20t09:00:00z": False,  # RFC 3339 allows lower case; OPA does not
    "2026-11-20T09:00:00z": False,
    "2026-11-20t09:00:00Z": False,
    "2016-12-31T23:59:60Z": False,  # a real leap second
    "2026-11-20 09:00:00Z": False,
    "2026-11-20T09:00:00": False,
    "2026-11-20T24:00:00Z": False,
    "2026-02-30T09:00:00Z": False,
    "2026-11-20T09:00:00+24:00": False,
    "2026-11-20T09:00:00.Z": False,
    "2026-11-20T9:00:00Z": False,
    "2026-11-20T09:00:00,5Z": False,
    "2026-11-20": False,
}


def opa_parses(timestamp: str) -> bool:
    opa = new_opa()
    try:
        opa.eval_query("x := time.parse_rfc3339_ns(input)", timestamp)
    except Exception:
        return False
    finally:
        opa.close()
    return True


def with_history_time(timestamp: str, *, first: bool) -> dict[str, Any]:
    doc = fixture_input("approved")
    entry = {**doc["history"][-1], "decided_at": timestamp}
    doc["history"] = [entry, *doc["history"]] if first else [*doc["history"], entry]
    return doc


@pytest.mark.parametrize(("timestamp", "accepted"), TIMESTAMPS.items())
def test_every_timestamp_the_schema_accepts_opa_parses(timestamp: str, accepted: bool) -> None:
    doc = fixture_input("approved")
    doc["requested_at"] = timestamp

    violations = default_schemas().violations("gate_input", doc)

    assert {v.field for v in violations} == (set() if accepted else {"requested_at"})
    if accepted:
        assert opa_parses(timestamp)


@pytest.mark.parametrize("timestamp", ["2026-11-20t09:00:00z", "2016-12-31T23:59:60Z"])
@pytest.mark.parametrize("first", [True, False], ids=["first", "last"])
def test_an_unparseable_history_timestamp_is_invalid_evidence_in_any_order(
    gatekeeper: Judge, timestamp: str, first: bool
) -> None:
    # On the old code this was a deny blaming the policy engine, or not, by the entry order.
    doc = with_history_time(timestamp, first=first)
    index = 0 if first else len(doc["history"]) - 1

    decision = gatekeeper.evaluate(doc)

    assert decision.outcome == "deny"
    assert [(r.code, r.field) for r in decision.reasons] == [
        ("EVIDENCE_INVALID", f"history[{index}].decided_at")
    ]


@pytest.mark.parametrize(
    "field", ["requested_at", "waivers[0].expires_at", "approvals[0].decided_at"]
)
def test_every_timestamp_opa_cannot_parse_is_invalid_evidence(
    gatekeeper: Judge, field: str
) -> None:
    doc = fixture_input("waived")
    bad = "2026-12-31t00:00:00z"
    if field == "requested_at":
        doc["requested_at"] = bad
    elif field.startswith("waivers"):
        doc["waivers"][0]["expires_at"] = bad
    else:
        doc["approvals"][0]["decided_at"] = bad

    decision = gatekeeper.evaluate(doc)

    assert decision.outcome == "deny"
    assert [(r.code, r.field) for r in decision.reasons] == [("EVIDENCE_INVALID", field)]


@pytest.mark.parametrize(
    "digest",
    ["sha256:" + "9B2F6E1C" * 8, "s3://models/fraud-detector/7/model.pkl", "sha256:9b2f"],
)
def test_an_invalid_artifact_digest_denies_and_is_not_signed_as_the_subject(
    gatekeeper: Judge, digest: str
) -> None:
    doc = fixture_input("approved")
    doc["lineage"]["artifact_digest"] = digest
    doc["model"]["artifact_digest"] = digest

    decision = gatekeeper.evaluate(doc)

    assert decision.outcome == "deny"
    assert {(r.code, r.field) for r in decision.reasons} == {
        ("EVIDENCE_INVALID", "lineage.artifact_digest"),
        ("EVIDENCE_INVALID", "model.artifact_digest"),
        ("APPROVAL_PENDING", "approvals"),  # the approval names the valid digest
    }
    assert decision_subject(decision)[0]["digest"] == {
        "sha256": decision.input_digest.removeprefix("sha256:")
    }


def test_a_dataset_digest_keeps_its_sources_form(gatekeeper: Judge) -> None:
    doc = fixture_input("approved")
    doc["lineage"]["datasets"][0]["digest"] = "f1a2b3c4"  # MLflow's own dataset digest

    assert gatekeeper.evaluate(doc).outcome == "allow"
