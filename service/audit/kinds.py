"""The kinds of ledger record, in one table: what each is signed as and how it is indexed.

A record says what it is by its predicate type; queries find it by columns copied out of its
signed statement (service/audit/columns.py derives them from the rules here, for writing and
for checking). Adding a kind of record is one entry in KINDS. A predicate type is never changed
once records of it are signed: existing ledgers are read and verified by it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


class UnknownRecordKind(ValueError):
    """A record kind that is not in KINDS."""


@dataclass(frozen=True)
class Field:
    """A column holds this field of the record's signed content."""

    name: str


@dataclass(frozen=True)
class DecisionColumns:
    """A decision is indexed by its own fields (service/audit/columns.py, expected_columns):
    its id, gate, outcome, model name, version, artifact digest and risk tier, its caller's
    id, its target stage and its input document's digest."""


@dataclass(frozen=True)
class EventColumns:
    """A record that is not a decision (a sign-off, a withdrawal, a tier change, a reload, an
    alias move) is indexed by its content's id, model, version and artifact_digest, the digest
    of its content, and these."""

    outcome: Field | str  # the `outcome` column: a content field, or this constant
    by: str = ""  # the content field naming the person in `caller_id`; "" when none does
    stage: str = ""  # the content field naming the stage in `stage`; "" when none does
    alias: str = ""  # the content field naming the alias in `alias`; "" when none does
    # The content field naming the version a rollback moved off (`rolled_back_version`).
    rolled_back: str = ""


@dataclass(frozen=True)
class Kind:
    name: str
    predicate_type: str  # versioned; the ledger's records are read by it
    columns: DecisionColumns | EventColumns


def _table(*kinds: Kind) -> Mapping[str, Kind]:
    """The kinds by name; a name or a predicate type given twice stops the module loading."""
    for what, values in (
        ("name", [kind.name for kind in kinds]),
        ("predicate type", [kind.predicate_type for kind in kinds]),
    ):
        repeated = sorted({value for value in values if values.count(value) > 1})
        if repeated:
            raise RuntimeError(f"two record kinds have the same {what}: {', '.join(repeated)}")
    return MappingProxyType({kind.name: kind for kind in kinds})


DECISION = "decision"
# A policy revision that decided: each file with its digest, recorded once per revision.
POLICY_REVISION = "policy_revision"
KINDS: Mapping[str, Kind] = _table(
    Kind(DECISION, "https://mlgate.dev/decision/v1", DecisionColumns()),
    Kind(
        "approval",
        "https://mlgate.dev/approval/v1",
        EventColumns(outcome=Field("status"), by="approver"),
    ),
    Kind(
        "waiver",
        "https://mlgate.dev/waiver/v1",
        EventColumns(outcome="granted", by="approved_by"),
    ),
    Kind(
        "waiver_withdrawal",
        "https://mlgate.dev/waiver-withdrawal/v1",
        EventColumns(outcome="withdrawn", by="withdrawn_by"),
    ),
    Kind(
        "tier_change",
        "https://mlgate.dev/tier-change/v1",
        EventColumns(outcome=Field("tier"), by="changed_by"),
    ),
    Kind(
        "policy_reload",
        "https://mlgate.dev/policy-reload/v1",
        EventColumns(outcome="reloaded"),
    ),
    Kind(
        POLICY_REVISION,
        "https://mlgate.dev/policy-revision/v1",
        EventColumns(outcome="kept"),
    ),
    Kind(
        "alias_move",
        "https://mlgate.dev/alias-move/v1",
        EventColumns(
            outcome=Field("outcome"),
            by="requested_by",
            alias="alias",
            rolled_back="rolled_back_version",
        ),
    ),
    Kind(
        "metric_snapshot",
        "https://mlgate.dev/metric-snapshot/v1",
        EventColumns(outcome="reported", by="reported_by", stage="stage"),
    ),
)
# What an alias_move record's `move` says: a version installed after an allow (the field is
# absent on such records written before rollbacks existed), or moved back by a rollback.
MOVE_INSTALL = "install"
MOVE_BACK = "roll-back"

# Every kind's name, in table order (the API lists them as the values `kind` may take).
KIND_NAMES = tuple(KINDS)
_BY_PREDICATE_TYPE = {kind.predicate_type: kind for kind in KINDS.values()}


def record_kind(name: str) -> Kind:
    """The kind named `name`; UnknownRecordKind, naming the known ones, if there is none."""
    try:
        return KINDS[name]
    except KeyError:
        raise UnknownRecordKind(
            f"no record kind {name!r}: the ledger records {', '.join(KIND_NAMES)}; a new kind "
            "is an entry in service/audit/kinds.py"
        ) from None


def kind_of_predicate(predicate_type: str) -> Kind | None:
    """The kind a statement's predicateType says it is; None if it is none of ours."""
    return _BY_PREDICATE_TYPE.get(predicate_type)
