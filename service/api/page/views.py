"""What each review page shows, read through the same functions as the JSON endpoints: the
audit listing (routes_audit.list_records, record_summary), one decision (read_decision), the
chain's verification (routes_audit.verify), a model's history (model_history, deployments) and
a policy revision's kept files (routes_policies.policy_revision). Nothing here queries the
ledger its own way, so the page shows exactly what the API answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import QueryParams

from service.api.errors import validation_problem
from service.api.models import (
    AuditPage,
    AuditRecord,
    Deployments,
    ModelHistory,
    ModelName,
    PolicyRevisionFiles,
    StoredDecision,
    VerifyResult,
)
from service.api.queryparams import unexpected_query
from service.api.routes_audit import (
    INCLUDES,
    MAX_SEQ,
    list_records,
    model_history,
    read_decision,
    record_summary,
    verify,
)
from service.api.routes_deployments import list_deployments
from service.api.routes_policies import policy_revision
from service.api.runtime import Runtime
from service.decision.model import OUTCOMES, STAGES, Caller, Reason
from service.decision.service_rules import SERVICE_RULES
from service.engine.catalogue import RuleEntry
from service.errors import InvalidField, MlgateError, NotFound
from service.review.catalogue import ReportCatalogue, kept_catalogue

PAGE_SIZE = 50
FILTERS = ("model", "gate", "outcome", "stage", "since", "until")
_MODEL_NAME: TypeAdapter[str] = TypeAdapter(ModelName)


def model_name(value: str, field_name: str = "model") -> str:
    """`value` if it is a model name in its one form; InvalidField naming `field_name`."""
    try:
        return _MODEL_NAME.validate_python(value)
    except ValidationError as exc:
        raise InvalidField(field_name, validation_problem(exc.errors()[0])[1]) from None


@dataclass
class DecisionList:
    filters: dict[str, str]  # as the reviewer typed them, to fill the form again
    gates: list[str]
    outcomes: tuple[str, ...] = OUTCOMES
    stages: tuple[str, ...] = STAGES
    rows: list[AuditRecord] = field(default_factory=list)
    next_before: int | None = None
    error: MlgateError | None = None  # a filter refused, or the ledger refusing to list


def decision_list(runtime: Runtime, caller: Caller, params: QueryParams) -> DecisionList:
    """The decisions matching the filters in `params` (empty values ignored), newest first, a
    page of PAGE_SIZE; `before` is the page cursor. A bad filter, a parameter the listing does
    not take or one given twice (as the API's listing refuses them: a misspelt filter would
    list every decision), or a tampered record listed is kept in `error` for the page to
    show, never raised."""
    query = dict(params)
    filters = {name: query.get(name, "").strip() for name in FILTERS}
    listing = DecisionList(filters=filters, gates=list(runtime.gates))
    listing.error = unexpected_query(params, (*FILTERS, "before"))
    if listing.error is not None:
        return listing
    given = {name: value for name, value in filters.items() if value}
    try:
        page = list_records(
            caller,
            None,
            runtime,
            kind="decision",
            model=model_name(given["model"]) if "model" in given else None,
            gate=_one_of(tuple(runtime.gates), "gate", given.get("gate")),
            outcome=_one_of(OUTCOMES, "outcome", given.get("outcome")),  # type: ignore[arg-type]
            stage=_one_of(STAGES, "stage", given.get("stage")),  # type: ignore[arg-type]
            since=given.get("since"),
            until=given.get("until"),
            before=_cursor(query.get("before", "")),
            limit=PAGE_SIZE,
            include="reasons,warnings",
        )
    except MlgateError as exc:
        listing.error = exc
        return listing
    if isinstance(page, AuditPage):  # always: no CSV was asked for
        listing.rows = page.records
        listing.next_before = page.next_before
    return listing


def _one_of(choices: tuple[str, ...], name: str, value: str | None) -> str | None:
    if value is None or value in choices:
        return value
    raise InvalidField(name, f"expected one of {', '.join(choices)}; found {value!r}")


def _cursor(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and 0 < int(value) <= MAX_SEQ):
        raise InvalidField("before", f"expected a record seq, 1 to {MAX_SEQ}; found {value!r}")
    return int(value)


@dataclass(frozen=True)
class ShownReason:
    """A reason or warning with the rule it comes from (its title and description as the
    decision's own policy revision declares them), and, for a waived one, its sign-off."""

    reason: Reason
    rule: RuleEntry | None


@dataclass
class DecisionView:
    stored: StoredDecision
    reasons: list[ShownReason]
    warnings: list[ShownReason]
    signoffs: list[dict[str, Any]]
    catalogue_note: str | None  # when the titles shown are not of the decision's revision


def decision_view(runtime: Runtime, caller: Caller, decision_id: str) -> DecisionView:
    """One decision as GET /v1/decisions/{id} answers it, its sign-off records as the listing's
    include=signoffs gives them, and its rules' titles from its own policy revision."""
    stored = read_decision(caller, None, decision_id, runtime)
    row = record_summary(runtime.ledger.get(decision_id), INCLUDES, runtime.ledger)
    decision = stored.decision
    catalogue, note = _catalogue_for(runtime, decision.policy_revision)
    by_code = {entry.code: entry for entry in (*catalogue.rules, *catalogue.service_rules)}
    return DecisionView(
        stored=stored,
        reasons=[ShownReason(r, by_code.get(r.code)) for r in decision.reasons],
        warnings=[ShownReason(w, by_code.get(w.code)) for w in decision.warnings],
        signoffs=list(row.signoffs or []),
        catalogue_note=note,
    )


def _catalogue_for(runtime: Runtime, revision: str) -> tuple[ReportCatalogue, str | None]:
    """The rule catalogue of `revision` as kept in the ledger; for a revision not kept (one
    recorded before revisions were archived), the catalogue in force, saying so."""
    try:
        return kept_catalogue(runtime.ledger, revision), None
    except NotFound:
        pass
    in_force = ReportCatalogue(
        revision=runtime.policy_set.revision,
        rules=tuple(runtime.catalogue()),
        source="the policies in force",
        service_rules=SERVICE_RULES,
    )
    return in_force, (
        f"policy revision {revision} is not kept in the ledger: the rule titles shown are those "
        f"of the policies in force ({in_force.revision})"
    )


@dataclass
class ModelView:
    name: str
    history: ModelHistory
    deployments: Deployments


def model_view(runtime: Runtime, caller: Caller, name: str) -> ModelView:
    """A model's alias moves and tier changes (GET /v1/models/{name}/history) and its
    deployments, each move with the decision it rests on (GET /v1/deployments)."""
    checked = model_name(name, "name")
    return ModelView(
        name=checked,
        history=model_history(caller, None, checked, runtime),
        deployments=list_deployments(caller, None, runtime, model=checked),
    )


def verification(runtime: Runtime, caller: Caller) -> VerifyResult:
    """The whole ledger verified, as GET /v1/audit/verify answers (VerifyResult)."""
    return verify(caller, None, runtime)


def revision_files(
    runtime: Runtime, caller: Caller, revision: str, path: str | None
) -> PolicyRevisionFiles:
    """A policy revision's kept files (PolicyRevisionFiles), or only the one at `path`."""
    return policy_revision(caller, None, runtime, revision, file=path)
