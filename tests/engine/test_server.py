"""The OPA server backend against the real `opa run --server`: the same decisions as the
embedded engine, the revision it serves checked, and every failure a recorded deny."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from service.audit.ledger import Ledger, open_ledger
from service.decision.judge import Judge
from service.decision.model import Decision
from service.decision.recording import recorded_answer
from service.engine.embedded import EmbeddedEngine
from service.engine.factory import check_engine, new_engine
from service.engine.policyset import load_policy_set
from service.engine.push import push_policies
from service.engine.server import ServerEngine, ServerOptions, new_client
from service.errors import PolicyEngineUnavailable, UsageError
from service.execution.inline import record_inline
from service.gates.registry import default_gates
from service.schemas import default_schemas
from service.settings import Settings
from service.signoffs.rules import SIGNOFF_ROLES_RULE
from tests.conftest import EVIDENCE_DIR, POLICY_DIR, fixture_input
from tests.engine.conftest import Handler, OpaServer, reply, start_opa, stop

FIXTURES = sorted(p.name for p in EVIDENCE_DIR.iterdir() if p.is_dir())
STAGES = ("staging", "production")


def comparable(gatekeeper: Judge, input_doc: dict[str, Any]) -> dict[str, Any]:
    return gatekeeper.evaluate(input_doc).model_dump(exclude={"decision_id"})


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("fixture", FIXTURES)
def test_server_and_embedded_engines_give_identical_decisions(
    fixture: str, stage: str, gatekeeper: Judge, server_engine: ServerEngine
) -> None:
    served = Judge(server_engine, default_schemas(), default_gates())
    input_doc = fixture_input(fixture, stage)
    assert comparable(served, input_doc) == comparable(gatekeeper, input_doc)


def test_the_server_answers_who_may_sign_off_as_the_embedded_engine_does(
    engine: EmbeddedEngine, server_engine: ServerEngine
) -> None:
    asked = {
        "model": {"name": "fraud-detector", "version": "7"},
        "recorded_risk_tier": {"tier": "high"},
        "waivers": [{"rule_code": "BASELINE_MISSING"}],
    }
    expected = {
        "approval": ["model-risk-officer"],
        "waiver": {"BASELINE_MISSING": ["model-risk-officer"]},
    }

    assert server_engine.query(SIGNOFF_ROLES_RULE, asked) == expected
    assert engine.query(SIGNOFF_ROLES_RULE, asked) == expected


def test_factory_chooses_the_server_when_an_opa_url_is_set(opa_server: OpaServer) -> None:
    engine = new_engine(Settings(opa_url=opa_server.url), opa_server.policy_set)
    assert isinstance(engine, ServerEngine)
    engine.close()


def test_bundle_loads_and_the_server_serves_its_revision(server_engine: ServerEngine) -> None:
    assert server_engine.served_revision() == server_engine.policy_set.revision
    server_engine.check()


def test_decision_records_the_revision_the_server_evaluated_under(
    server_engine: ServerEngine,
) -> None:
    decision = Judge(server_engine, default_schemas(), default_gates()).evaluate(
        fixture_input("approved")
    )
    assert decision.outcome == "allow"
    assert decision.policy_revision == server_engine.served_revision()


@pytest.fixture
def edited_policies(policy_copy: Callable[[], Path]) -> Path:
    root = policy_copy()
    config = root / "data" / "promotion.yaml"
    config.write_text(config.read_text() + "\n# edited\n")
    return root


def test_a_revision_mismatch_allows_nothing_and_says_so(
    opa_server: OpaServer, edited_policies: Path, tmp_path: Path
) -> None:
    expected = load_policy_set(edited_policies)
    settings = Settings(home=tmp_path, opa_url=opa_server.url)
    engine = new_engine(settings, expected)
    with open_ledger(settings) as ledger:
        judge = Judge(engine, default_schemas(), default_gates())
        decision = decide_and_record(judge, ledger, fixture_input("approved"))
        recorded = recorded_answer(ledger.get(decision.decision_id))
    assert decision.outcome == "deny"
    assert opa_server.policy_set.revision in decision.reasons[0].message
    assert f"expects {expected.revision}" in decision.reasons[0].message
    assert recorded.outcome == "deny" and recorded.reasons == decision.reasons
    with pytest.raises(PolicyEngineUnavailable, match="holds policy revision"):
        check_engine(settings, expected)


def test_pushed_policies_are_served_and_checked(opa_path: Path) -> None:
    url, process = start_opa(opa_path)
    try:
        policy_set = load_policy_set(POLICY_DIR)
        engine = ServerEngine(policy_set, ServerOptions(url))
        with pytest.raises(PolicyEngineUnavailable, match="no mlgate policy revision"):
            engine.check()
        client = new_client(ServerOptions(url))
        report = push_policies(client, policy_set)
        client.close_connection()
        assert report.revision == policy_set.revision
        engine.check()
        decision = Judge(engine, default_schemas(), default_gates()).evaluate(
            fixture_input("regressed")
        )
        assert decision.outcome == "deny"
        assert [r.code for r in decision.reasons] == ["METRIC_REGRESSION_ABSOLUTE"]
        engine.close()
    finally:
        stop(process)


def slow(handler: Any) -> None:
    time.sleep(1.5)
    reply(handler, 200, {})


def erroring(handler: Any) -> None:
    reply(handler, 500, {"code": "internal_error", "message": "eval_conflict_error"})


def malformed_json(handler: Any) -> None:
    reply(handler, 200, b"<html>proxy error</html>")


FAILURES: dict[str, tuple[Handler | None, str]] = {
    "stopped": (None, "is unreachable ([Errno 111] Connection refused"),
    "slow": (slow, "did not answer within 0.5 s (MLGATE_OPA_TIMEOUT_SECONDS)"),
    "erroring": (erroring, "answered HTTP 500 (internal_error: eval_conflict_error)"),
    "not JSON": (malformed_json, "answered something that is not JSON"),
}


@pytest.fixture
def recorded_deny(
    tmp_path: Path, opa_server: OpaServer
) -> Iterator[Callable[[str], tuple[str, str]]]:
    """Decide the approved fixture through the OPA server at a URL; the deny's first reason
    message, and the one the ledger recorded."""
    settings = Settings(home=tmp_path, opa_timeout_seconds=0.5)
    ledger = open_ledger(settings)

    def decide(url: str) -> tuple[str, str]:
        engine = ServerEngine(opa_server.policy_set, ServerOptions(url, timeout_seconds=0.5))
        judge = Judge(engine, default_schemas(), default_gates())
        decision = decide_and_record(judge, ledger, fixture_input("approved"))
        engine.close()
        recorded = recorded_answer(ledger.get(decision.decision_id))
        assert decision.outcome == recorded.outcome == "deny"
        return decision.reasons[0].message, recorded.reasons[0].message

    yield decide
    ledger.close()


@pytest.mark.parametrize("failure", FAILURES)
def test_a_failing_server_gives_a_recorded_deny_naming_the_cause(
    failure: str,
    recorded_deny: Callable[[str], tuple[str, str]],
    stub_opa: Callable[[Handler], str],
    opa_path: Path,
) -> None:
    handler, cause = FAILURES[failure]
    if handler is None:
        url, process = start_opa(opa_path)
        stop(process)  # a server that was there and is gone
    else:
        url = stub_opa(handler)
    answered, recorded = recorded_deny(url)
    assert cause in answered
    assert answered == recorded


@pytest.mark.parametrize(
    ("body", "cause"),
    [
        ({}, "data.mlgate.promotion.decision is undefined for this input"),
        ({"result": {"outcome": "maybe"}}, "the policy's decision is malformed"),
    ],
    ids=["undefined", "malformed decision"],
)
def test_an_undefined_or_malformed_result_gives_a_recorded_deny(
    body: dict[str, Any],
    cause: str,
    recorded_deny: Callable[[str], tuple[str, str]],
    stub_opa: Callable[[Handler], str],
    opa_server: OpaServer,
) -> None:
    revision = opa_server.policy_set.revision
    served = {**body, "provenance": {"bundles": {"b": {"revision": revision}}}}
    answered, recorded = recorded_deny(stub_opa(lambda h: reply(h, 200, served)))
    assert cause in answered
    assert answered == recorded


def test_an_opa_url_with_a_path_is_refused() -> None:
    with pytest.raises(UsageError, match="must have no path"):
        new_client(ServerOptions("http://127.0.0.1:8181/opa"))


def decide_and_record(judge: Judge, ledger: Ledger, input_doc: dict[str, Any]) -> Decision:
    """Judge the input and record the judgement, as the decision path does in one process."""
    judged = judge.judge(input_doc)
    record_inline(ledger, judged)
    return judged.decision
