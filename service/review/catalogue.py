"""The rule catalogue a report describes a decision with: the policy rules of one policy
revision (read from the loaded policy set, or from a service's GET /v1/policies) and the
service's own rules, and which of them a gate evaluates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from service.audit.ledger import Ledger
from service.decision.model import DecisionAnswer
from service.decision.service_rules import SERVICE_RULES
from service.engine.catalogue import RuleEntry, rule_catalogue
from service.engine.policyset import PolicySet
from service.errors import PolicyEngineUnavailable
from service.review.revisions import kept_revision


@dataclass(frozen=True)
class ReportCatalogue:
    """`rules` are the policy rules of policy revision `revision` (files relative to the
    policy directory, `root` when it is on this machine); `service_rules` the service's own.
    `source` says where the catalogue was read, for a report to name."""

    revision: str
    rules: tuple[RuleEntry, ...]
    source: str
    root: Path | None = None
    service_rules: tuple[RuleEntry, ...] = SERVICE_RULES

    def evaluated(self, decision: DecisionAnswer) -> list[RuleEntry]:
        """The rules `decision` was judged by, in catalogue order: the policy rules of its
        gate's package `mlgate.<gate>` (and any below it), the service's own checks (which run
        on every decision), and any other catalogued rule a reason of the decision names.
        The lib's helpers (`mlgate.lib.*`) give no reasons of their own, so none is listed
        unless a reason names it."""
        package = f"mlgate.{decision.gate}"
        named = {r.code for r in [*decision.reasons, *decision.warnings]}
        return [
            entry
            for entry in (*self.rules, *self.service_rules)
            if entry in self.service_rules
            or entry.package == package
            or entry.package.startswith(package + ".")
            or entry.code in named
        ]

    def revision_note(self, decision: DecisionAnswer) -> str | None:
        """What a report must say when the catalogue is not of the decision's revision: its
        titles, files and lines may not be the ones the decision was judged by."""
        if self.revision == decision.policy_revision:
            return None
        return (
            f"the rule catalogue ({self.source}) is of policy revision {self.revision}, but "
            f"decision {decision.decision_id} was made under {decision.policy_revision}: the "
            "rules' titles, files and lines shown are those of the catalogue's revision"
        )


def local_catalogue(policy_set: PolicySet) -> ReportCatalogue:
    """The catalogue of a loaded policy set (service/engine/policyset.py)."""
    return ReportCatalogue(
        revision=policy_set.revision,
        rules=tuple(rule_catalogue(policy_set)),
        source=f"the policies at {policy_set.root}",
        root=policy_set.root.resolve(),
    )


@dataclass(frozen=True)
class _KeptModules:
    modules: dict[str, str]  # path relative to the policy directory -> Rego source


def kept_catalogue(ledger: Ledger, revision: str) -> ReportCatalogue:
    """The catalogue of policy revision `revision` read from its files as kept in `ledger`
    (service/review/revisions.py): the titles, descriptions and controls the revision's
    decisions were judged by, whatever policies are in force now.

    Raises what kept_revision raises: InvalidField, NotFound (no record of the revision),
    LedgerTampered (an archived file altered or removed); PolicyLoadError if a kept rule's
    METADATA does not parse.
    """
    kept = kept_revision(ledger, revision)
    modules = {
        entry.path: entry.content.decode("utf-8", errors="replace")
        for entry in kept.files
        if entry.path.endswith(".rego")
    }
    return ReportCatalogue(
        revision=revision,
        rules=tuple(rule_catalogue(_KeptModules(modules))),
        source=f"policy revision {revision} as kept in the {ledger.store.description}",
    )


class _Rule(BaseModel):
    code: str
    title: str
    description: str
    severity: str
    controls: list[str]
    package: str
    rule: str
    file: str
    line: int

    def entry(self) -> RuleEntry:
        return RuleEntry(**{**self.model_dump(), "controls": tuple(self.controls)})


class _Policies(BaseModel):
    revision: str
    rules: list[_Rule]
    service_rules: list[_Rule]


def served_catalogue(document: Any, endpoint: str) -> ReportCatalogue:
    """The catalogue from a service's GET /v1/policies answer `document` (service/api/
    routes_policies.py), read at `endpoint`; PolicyEngineUnavailable if it is not one."""
    try:
        policies = _Policies.model_validate(document)
    except ValidationError as exc:
        raise PolicyEngineUnavailable(
            f"{endpoint} answered with something that is not a rule catalogue: {exc}"
        ) from None
    return ReportCatalogue(
        revision=policies.revision,
        rules=tuple(rule.entry() for rule in policies.rules),
        source=endpoint,
        service_rules=tuple(rule.entry() for rule in policies.service_rules),
    )
