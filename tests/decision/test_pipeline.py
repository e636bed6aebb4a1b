"""The decision path on its own, without the HTTP route in front of it: it refuses what only
mlgate's own records may supply, whoever calls it."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from service.compose import local_path
from service.decision.pipeline import gather, run
from service.decision.request import CallerMayNotAssert, GateRequest
from service.errors import InvalidField
from service.evidence.base import RECORDED_ONLY, REQUEST
from service.gates.registry import default_gates
from service.settings import Settings
from tests.conftest import POLICY_DIR, fixture_request

PROMOTION = default_gates().spec("promotion")


def untrusted(key: str) -> GateRequest:
    """The approved fixture's request as a caller over HTTP would send it, carrying `key`."""
    trusted = fixture_request("approved")
    evidence = {k: v for k, v in trusted.evidence.items() if k not in RECORDED_ONLY}
    return dataclasses.replace(
        trusted, evidence={**evidence, key: []}, source=REQUEST, trusted=False
    )


@pytest.mark.parametrize("key", sorted(RECORDED_ONLY))
def test_gathering_refuses_what_only_the_records_supply(key: str) -> None:
    with pytest.raises(CallerMayNotAssert) as refused:
        gather(untrusted(key), PROMOTION, None)

    assert refused.value.field == f"evidence.{key}"
    assert "a caller may not send" in refused.value.message


@pytest.mark.parametrize("key", ["approvals", "waivers", "history"])
def test_the_path_records_nothing_for_a_request_that_asserts_its_own_signoffs(
    key: str, tmp_path: Path
) -> None:
    path = local_path(Settings(home=tmp_path, policy_dir=POLICY_DIR))
    request = untrusted(key)
    kept = path.ledger.last_seq()  # the policy revision's record

    with pytest.raises(CallerMayNotAssert):
        asyncio.run(run(request, path.gates, path.placement, path.context))

    assert kept == 1 and path.ledger.last_seq() == kept
    path.ledger.close()


def test_a_trusted_operator_may_bring_them_marked_as_such() -> None:
    doc = gather(fixture_request("approved"), PROMOTION, None)

    assert doc["approvals"] and doc["history"]
    assert doc["provenance"]["approvals"] == "evidence file (local mode: trusted operator)"


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (  # the name the request gives
            dataclasses.replace(
                fixture_request("approved"), model={"name": "fraud\u2010detector", "version": "7"}
            ),
            "model.name",
        ),
        (  # the card's, which the input takes as the model's when the request gives none
            dataclasses.replace(
                fixture_request("approved"),
                evidence={
                    **fixture_request("approved").evidence,
                    "model_card": {
                        **fixture_request("approved").evidence["model_card"],
                        "name": "fraud-detector ",
                    },
                },
            ),
            "model_card.name",
        ),
    ],
    ids=["request", "card"],
)
def test_the_path_records_nothing_for_a_lookalike_model_name(
    request_: GateRequest, field: str, tmp_path: Path
) -> None:
    """Whoever calls the path (the API, the CLI, the demo, a Python caller), a name not in the
    one form is refused before anything is read or recorded."""
    path = local_path(Settings(home=tmp_path, policy_dir=POLICY_DIR))
    kept = path.ledger.last_seq()  # the policy revision's record

    with pytest.raises(InvalidField) as refused:
        asyncio.run(run(request_, path.gates, path.placement, path.context))
    with pytest.raises(InvalidField):
        gather(request_, PROMOTION, None)

    assert refused.value.field == field
    assert kept == 1 and path.ledger.last_seq() == kept
    path.ledger.close()
