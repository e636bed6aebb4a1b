"""DSSE envelopes and in-toto Statements as the ledger writes them."""

from __future__ import annotations

import base64
import json

import pytest

from service.audit.envelope import (
    GENESIS_PREV,
    PAYLOAD_TYPE,
    STATEMENT_TYPE,
    MalformedEnvelope,
    open_envelope,
    pae,
    seal,
    statement_payload,
)
from service.audit.keys import SigningKey, key_id
from service.decision.recording import decision_predicate, decision_subject
from tests.audit.factory import ARTIFACT, make_decision, make_input


def test_pae_matches_the_dsse_specification_example() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_a_sealed_envelope_carries_the_payload_and_a_verifiable_signature() -> None:
    key = SigningKey.generate()
    raw = seal(PAYLOAD_TYPE, b'{"a":1}', key)
    document = json.loads(raw)
    assert sorted(document) == ["payload", "payloadType", "signatures"]
    assert base64.b64decode(document["payload"]) == b'{"a":1}'
    envelope = open_envelope(raw)
    assert envelope.signatures[0].keyid == key_id(key.public_key) == key.keyid
    key.public_key.verify(envelope.signatures[0].sig, pae(PAYLOAD_TYPE, b'{"a":1}'))


def test_the_statement_names_the_model_artifact_and_carries_the_chain_fields() -> None:
    decision, _ = make_decision()
    payload = statement_payload(
        decision_subject(decision),
        decision_predicate(decision),
        seq=1,
        prev=GENESIS_PREV,
        at="2026-11-21T12:00:01.000000Z",
    )
    statement = json.loads(payload)
    assert statement["_type"] == STATEMENT_TYPE
    assert statement["predicateType"] == "https://mlgate.dev/decision/v1"
    assert statement["subject"] == [
        {"name": "fraud-detector@7", "digest": {"sha256": ARTIFACT.removeprefix("sha256:")}}
    ]
    predicate = statement["predicate"]
    assert predicate["decision_id"] == decision.decision_id
    assert predicate["outcome"] == "deny"
    assert predicate["reasons"][0]["code"] == "METRIC_BELOW_FLOOR"
    assert predicate["input_digest"] == decision.input_digest
    assert predicate["evidence_digests"] == decision.evidence_digests
    assert predicate["caller"] == {"id": "ci-pipeline", "role": "gate"}
    assert (predicate["seq"], predicate["prev"]) == (1, GENESIS_PREV)
    assert predicate["recorded_at"] == "2026-11-21T12:00:01.000000Z"


def test_without_an_artifact_digest_the_subject_is_the_input_document() -> None:
    doc = make_input()
    del doc["model"]["artifact_digest"]
    decision, _ = make_decision(doc)
    assert decision_subject(decision)[0]["digest"] == {
        "sha256": decision.input_digest.removeprefix("sha256:")
    }


@pytest.mark.parametrize(
    "digest",
    [
        "sha256:" + "9B2F6E1C" * 8,  # upper-case hex
        "s3://models/fraud-detector/7/model.pkl",
        "sha256:9b2f",
        "sha512:" + "ab" * 64,
        "sha256:" + "9b2f6e1c" * 8 + "\n",
    ],
)
def test_an_artifact_digest_that_failed_validation_is_never_the_subject(digest: str) -> None:
    doc = make_input()
    doc["model"]["artifact_digest"] = digest
    decision, _ = make_decision(doc)

    assert decision_subject(decision)[0]["digest"] == {
        "sha256": decision.input_digest.removeprefix("sha256:")
    }


def test_a_valid_artifact_digest_is_the_subject() -> None:
    decision, _ = make_decision(make_input())

    assert decision_subject(decision)[0]["digest"] == {"sha256": ARTIFACT.removeprefix("sha256:")}


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"not json", "not JSON"),
        (b"[]", "expected a JSON object"),
        (b'{"payload": "e30=", "payloadType": "x", "signatures": []}', "non-empty"),
        (
            b'{"payload": "!!", "payloadType": "x", "signatures": [{"keyid": "k", "sig": ""}]}',
            "payload is not base64",
        ),
    ],
)
def test_malformed_envelopes_are_refused_with_the_reason(raw: bytes, problem: str) -> None:
    with pytest.raises(MalformedEnvelope, match=problem):
        open_envelope(raw)
