"""Schemathesis chaining operations along the OpenAPI links (service/api/links.py): a decision is
read back and found in the audit trail, a waiver is recorded then withdrawn (twice), a model
version is decided on again after its sign-off, an audit page leads to the next. Each call
carries a token of the role its operation is for. Besides no 5xx and responses that match the
document, each step that followed a link keeps what the link promises: the decision read back
is the one answered, a waiver's approver can withdraw it (201) and withdrawing it again answers
the first withdrawal (200), the record just made is listed under its filters, a decision never
finds one of the service's own records invalid, and the ledger verifies whenever it is asked.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.stateful.state_machine import (
    DEFAULT_STATE_MACHINE_SETTINGS,
    StepInput,
    StepOutput,
    normalize_name,
)
from schemathesis.specs.openapi.checks import allow_header_conformance

from service.api import links
from service.api.app import create_app
from service.gates.registry import default_gates
from service.settings import Settings
from service.signoffs.rules import WAIVABLE_RULE, signoff_roles, waiver_settings
from tests.api.conftest import make_tokens, request_body, role_for

# Scenarios of up to STEPS calls each. The runs are not derandomized: the service's answers
# (ids, clocks) differ from run to run anyway, so each run explores afresh, and a failure
# prints the steps that led to it.
SCENARIOS = 50
MAX_SCENARIOS = 200
STEPS = 15

HOME = Path(tempfile.mkdtemp(prefix="mlgate-stateful-"))
SETTINGS = Settings(home=HOME)
TOKENS = make_tokens(SETTINGS)
APP = create_app(SETTINGS, engines=1)
RUNTIME = APP.state.runtime
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            # As in test_schemathesis.py: 422 is documented for well-formed requests the
            # service refuses (an unknown rule code, an expired waiver, a missing target).
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]
            },
        },
        # Only the links the document declares: a transition inferred from field names is not
        # a promise the service makes.
        "phases": {"stateful": {"inference": {"algorithms": []}}},
    }
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)

# The links the state machine must follow: (source operationId, status, link name).
DECLARED = {
    (source, status, name)
    for source, status, declared in (
        (links.DECIDE, "200", links.DECISION_LINKS),
        (links.RECORD_APPROVAL, "201", links.APPROVAL_LINKS),
        (links.RECORD_WAIVER, "201", links.WAIVER_LINKS),
        (links.WITHDRAW_WAIVER, "201", links.WITHDRAWAL_LINKS),
        (links.RECORD_TIER_CHANGE, "201", links.TIER_CHANGE_LINKS),
        (links.LIST_AUDIT_RECORDS, "200", links.AUDIT_PAGE_LINKS),
    )
    for name in declared
}


# Generated values alone almost never name a gate, a role the approver holds or a waivable
# code, so the chains would stop at their first step. Some of the generated requests are
# steered to values the service accepts; the rest stay as generated.
HELD_ROLES = ("model-risk-officer", "r")  # the approver token's approves_as (make_tokens)


def _waivable() -> list[tuple[str, str]]:
    config = RUNTIME.policy_set.config
    refused = set(config.get("promotion", {}).get("non_waivable", []))
    return sorted(
        (rule.code, role)
        for rule in RUNTIME.catalogue()
        if rule.code not in refused and rule.rule == WAIVABLE_RULE
        for role in sorted(_may_waive(rule.code) & set(HELD_ROLES))
    )


def _may_waive(code: str) -> frozenset[str]:
    """Who may waive `code` before any decision has judged the model: any tier's roles."""
    asked = signoff_roles(RUNTIME.policy, model="m", version="1", tier=None, rule_code=code)
    return asked.waiver[code]


WAIVABLE = _waivable()
MAX_DAYS = waiver_settings(RUNTIME.policy_set.config).get("max_days", 90)


@st.composite
def expiries(draw: st.DrawFn) -> str:
    """An expiry inside the accepted window, spelt the ways RFC 3339 allows: any offset
    (-00:00 and +23:59 included), lower-case t and z, no fraction or up to twelve digits (past
    nine, one the policy cannot read, which the service must refuse naming expires_at)."""
    ahead = draw(st.integers(min_value=120, max_value=MAX_DAYS * 86400 - 120))
    offset = draw(st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59))
    local = datetime.now(UTC) + timedelta(seconds=ahead, minutes=offset)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    digits = draw(st.integers(min_value=0, max_value=12))
    if digits:
        text += "." + "".join(
            draw(st.lists(st.sampled_from("0123456789"), min_size=digits, max_size=digits))
        )
    if offset == 0:
        text += draw(st.sampled_from(["Z", "z", "+00:00", "-00:00"]))
    else:
        sign = "+" if offset > 0 else "-"
        text += f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    if draw(st.booleans()):
        text = text.replace("T", "t", 1)
    return text


def _steered(case: Any, accepted: st.SearchStrategy[dict[str, Any]]) -> Any:
    """The case as generated, or with the fields `accepted` draws: only for a case meant to be
    valid (a negative one must stay invalid), whose body is an object."""
    if not (case.meta.generation.mode.is_positive and isinstance(case.body, dict)):
        return st.just(case)

    def steer(fields: dict[str, Any]) -> Any:
        path = fields.pop("path_parameters", None)
        if path is not None:
            case.path_parameters = path
        case.body = {**case.body, **fields}
        return case

    return st.one_of(st.just(case), accepted.map(steer))


@schema.hook("flatmap_case").apply_to(operation_id=links.DECIDE)
def real_requests(context: Any, case: Any) -> Any:
    """A known gate, and the approved fixture's evidence (or the generated body) for it."""
    return _steered(
        case,
        st.builds(
            lambda gate, body: {"path_parameters": {"gate": gate}, **body},
            st.sampled_from(list(default_gates())),
            st.one_of(st.just({}), st.sampled_from(["staging", "production"]).map(request_body)),
        ),
    )


@schema.hook("flatmap_case").apply_to(operation_id=links.LIST_AUDIT_RECORDS)
def decisions_first(context: Any, case: Any) -> Any:
    """Some pages of decisions only, whose first record the ReadFirstDecision link reads."""
    if not case.meta.generation.mode.is_positive or case.query is None:
        return st.just(case)

    def steer(query: dict[str, Any]) -> Any:
        case.query = query
        return case

    return st.one_of(st.just(case), st.just({"kind": "decision"}).map(steer))


@schema.hook("flatmap_case").apply_to(operation_id=links.RECORD_APPROVAL)
def held_roles(context: Any, case: Any) -> Any:
    return _steered(case, st.fixed_dictionaries({"role": st.sampled_from(HELD_ROLES)}))


@schema.hook("flatmap_case").apply_to(operation_id=links.RECORD_TIER_CHANGE)
def allowed_tier_changers(context: Any, case: Any) -> Any:
    # The approver token's roles that tier_changes.allowed_roles lists.
    return _steered(case, st.fixed_dictionaries({"role": st.just("model-risk-officer")}))


@schema.hook("flatmap_case").apply_to(operation_id=links.RECORD_WAIVER)
def acceptable_waivers(context: Any, case: Any) -> Any:
    return _steered(
        case,
        st.tuples(st.sampled_from(WAIVABLE), expiries()).map(
            lambda t: {"rule_code": t[0][0], "role": t[0][1], "expires_at": t[1]}
        ),
    )


def _link_name(step: StepInput) -> str | None:
    """The name of the link this step followed (the transition id is "source -> [status]
    name -> target"), or None for a step that started a chain."""
    if step.transition is None:
        return None
    return step.transition.id.split(" -> ")[1].partition("] ")[2]


def _problem_field(output: StepOutput) -> str | None:
    body = output.response.json() if output.response.status_code == 422 else {}
    return body.get("field") if isinstance(body, dict) else None


FOLLOWED: Counter[str] = Counter()  # steps by the transition (link) they followed


class Workflow(schema.as_state_machine()):  # type: ignore[misc]
    completed = 0  # scenarios run to their end

    def setup(self) -> None:
        self.outputs: dict[str, StepOutput] = {}

    def teardown(self) -> None:
        type(self).completed += 1
        super().teardown()

    def get_call_kwargs(self, case: Any) -> dict[str, Any]:
        headers = case.meta.components.get(ParameterLocation.HEADER)
        if headers is not None and headers.mode.is_negative:
            return {}  # a case about its headers (a missing or malformed token) goes as it is
        role = role_for(case.method, case.path)
        return {"headers": {"Authorization": f"Bearer {TOKENS[role]}"}}

    def validate_response(
        self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
    ) -> None:
        # /v1/decisions/x is both GET {decision_id} and POST {gate}: a 405 there truly allows
        # "GET, POST", while schemathesis compares Allow with one template's methods.
        excluded = [allow_header_conformance] if case.path.startswith("/v1/decisions/") else []
        case.validate_response(
            response,
            additional_checks=additional_checks,
            excluded_checks=excluded,
            headers=kwargs.get("headers"),
            transport_kwargs=kwargs,
            recorder=self.recorder,
        )

    def step(self, input: StepInput) -> StepOutput:
        output = super().step(input)
        self.outputs[input.case.id] = output
        name = _link_name(input)
        parent = self.outputs.get(input.transition.parent_id) if input.transition else None
        # A negative case (a missing token, a body breaking the schema) is judged by
        # schemathesis' own checks; a positive one must also keep the link's promise.
        positive = input.case.meta.generation.mode.is_positive
        if name is not None and parent is not None and input.is_applied and positive:
            FOLLOWED[input.transition.id] += 1
            follows_link(name, parent, output)
        holds_always(output)
        return output


def holds_always(output: StepOutput) -> None:
    case, response = output.case, output.response
    if case.operation.label == "POST /v1/decisions/{gate}" and response.status_code == 200:
        # Sign-offs and history come only from the service's own records: one breaking the
        # input schema is a record the service should have refused when it was made.
        own = [
            reason
            for reason in response.json()["reasons"]
            if reason["code"] == "EVIDENCE_INVALID"
            and str(reason.get("field")).startswith(("approvals", "waivers", "history"))
        ]
        assert not own, own
    if case.operation.label == "GET /v1/audit/verify" and response.status_code == 200:
        assert response.json()["ok"], response.json()
    if case.operation.label == "POST /v1/waivers" and _problem_field(output) == "expires_at":
        expires_at = case.body["expires_at"]
        assert not _inside_window(expires_at), (
            f"an expiry inside the window was refused: {expires_at!r}: {response.json()}"
        )


def _inside_window(text: Any) -> bool:
    """Whether `text` is an RFC 3339 time the policy can read (seconds 00-59, at most nine
    fractional digits) more than a minute ahead and more than a minute short of max_days: one
    the service must accept."""
    try:
        when = datetime.fromisoformat(text.upper())
    except (AttributeError, ValueError):  # not a string, or not a time
        return False
    fraction = text[19:].partition(".")[2].rstrip("Zz").partition("+")[0].partition("-")[0]
    if when.tzinfo is None or len(text) < 20 or text[17:19] == "60" or len(fraction) > 9:
        return False
    now = datetime.now(UTC)
    return now + timedelta(minutes=1) < when < now + timedelta(days=MAX_DAYS, minutes=-1)


def follows_link(name: str, parent: StepOutput, output: StepOutput) -> None:
    """What following link `name` from the parent's answer must give."""
    case, response = output.case, output.response
    produced = parent.response.json()
    path, query = case.path_parameters or {}, case.query or {}
    status = response.status_code
    if name == "ReadDecision" and path.get("decision_id") == produced["decision_id"]:
        assert status in (200, 422), f"the decision just answered was not found: {status}"
        if status == 200:  # 422: a generated `include` other than input
            assert response.json()["decision"] == produced
    elif name == "ReadFirstDecision":
        first = produced["records"][0]
        if path.get("decision_id") == first.get("decision_id"):
            assert status in (200, 422), f"a decision the audit trail lists was not found: {status}"
            if status == 200:
                assert response.json()["decision"]["audit"]["seq"] == first["seq"]
    elif name == "WithdrawWaiver" and path.get("waiver_id") == produced["id"]:
        # Withdrawn by the approver who recorded it: refused only for a bad reason. 200: it was
        # withdrawn already (a retried POST /v1/waivers answers the same waiver, whose link
        # the machine may follow twice), and the answer is that withdrawal.
        assert status in (200, 201, 422), f"its approver could not withdraw a waiver: {status}"
        if status in (200, 201):
            assert response.json()["waiver_id"] == produced["id"]
        else:
            assert _problem_field(output) == "reason", response.json()
    elif name == "WithdrawAgain" and path.get("waiver_id") == produced["waiver_id"]:
        # 200, not 201: nothing new is recorded, and the answer is the first withdrawal.
        assert status in (200, 422), f"withdrawing a waiver again: {status}"
        if status == 200:
            assert response.json() == produced, "withdrawing again gave another withdrawal"
    elif name in ("ListApprovals", "ListWaivers", "ListWithdrawals"):
        linked = {"model": produced["model"], "version": produced["version"]}
        kind = {"ListApprovals": "approval", "ListWaivers": "waiver"}.get(name, "waiver_withdrawal")
        if status == 200 and _only_filters(query, {**linked, "kind": kind}, "limit"):
            lists_record(response.json(), query, produced["id"], produced["record"])
    elif name == "ListModelVersionRecords":
        model = produced["model"]
        linked = {"model": model["name"], "version": model["version"], "gate": produced["gate"]}
        if status == 200 and _only_filters(query, {**linked, "kind": "decision"}, "limit"):
            lists_record(response.json(), query, produced["decision_id"], produced["audit"]["seq"])


def lists_record(page: dict[str, Any], query: dict[str, Any], record_id: str, seq: int) -> None:
    """A page under the linked filters holds only records matching them, newest first, and
    the linked record unless the page filled up with newer ones."""
    records = page["records"]
    seqs = [record["seq"] for record in records]
    assert seqs == sorted(seqs, reverse=True), seqs
    for record in records:
        model = record.get("model") or {}
        assert model.get("name", record.get("content", {}).get("model")) == query["model"]
        assert model.get("version", record.get("content", {}).get("version")) == query["version"]
        assert record["kind"] == query.get("kind", record["kind"])
        assert record.get("gate") == query.get("gate", record.get("gate"))
    listed = record_id in [record["id"] for record in records]
    filled_with_newer = len(records) == int(query.get("limit", 50)) and seq < seqs[-1]
    assert listed or filled_with_newer, f"record {record_id} (seq {seq}) is not in {seqs}: {query}"


def _only_filters(query: dict[str, Any], linked: dict[str, str], *free: str) -> bool:
    """The query has the linked filters as linked (`kind` may be left out), and at most the
    `free` ones besides."""
    as_linked = all(query.get(k, v if k == "kind" else None) == v for k, v in linked.items())
    return as_linked and set(query) <= {*linked, *free}


@pytest.fixture(scope="module", autouse=True)
def _close_app() -> Iterator[None]:
    yield
    APP.state.runtime.close()
    shutil.rmtree(HOME, ignore_errors=True)


def test_chained_operations_keep_the_documents_promises() -> None:
    """SCENARIOS scenarios, then more in batches until every declared link has been followed
    with the values it names (a chain such as waive, withdraw, withdraw again needs several
    steps to line up), up to MAX_SCENARIOS."""
    FOLLOWED.clear()
    Workflow.completed = 0
    declared = {link.full_name for link in _links()}
    target = SCENARIOS
    run_scenarios(target)
    while not set(FOLLOWED) >= declared and target < MAX_SCENARIOS:
        target += SCENARIOS // 2
        run_scenarios(target)
    assert set(FOLLOWED) >= declared, f"never followed: {declared - set(FOLLOWED)}"


def run_scenarios(total: int) -> None:
    """Run `total` scenarios. Which draws a scenario makes depends on what the service
    answered before (a next page exists, a link's value is used or not), so Hypothesis, which
    expects a replayed prefix to draw alike, may stop a run as FlakyStrategyDefinition; that
    says nothing about the service, and the rest of the budget runs afresh. A check failing
    (FlakyFailure included) is raised as it is."""
    for _ in range(10):
        if Workflow.completed >= total:
            return
        try:
            Workflow.run(
                settings=settings(
                    DEFAULT_STATE_MACHINE_SETTINGS,
                    max_examples=total - Workflow.completed,
                    stateful_step_count=STEPS,
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                    database=None,
                )
            )
            return
        except FlakyStrategyDefinition:
            continue
    raise AssertionError(f"only {Workflow.completed} of {total} scenarios ran")


def test_every_declared_link_is_a_transition() -> None:
    """A typo in an operationId or a parameter would drop a link or fail the document: the
    state machine has a rule for every link service/api/links.py declares, and no others."""
    found = {
        (schema.get_operation_id(link.source), link.status_code, link.name) for link in _links()
    }
    assert found == DECLARED
    for link in _links():
        assert callable(getattr(Workflow, normalize_name(link.full_name))), link.full_name


def _links() -> list[Any]:
    """The links the state machine follows (schemathesis' OpenApiLink)."""
    return [link for entry in Workflow._transitions.operations.values() for link in entry.outgoing]
