"""A metric snapshot as a monitor sends it, checked and put in the form it is stored in.

The document is schemas/metric_snapshot.schema.json. The reports a monitor already produces
(Evidently, Great Expectations) become its `drift` and `data_quality` parts here
(service/monitoring/formats/), so the store and the policy see one form whatever the monitor.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from service.errors import InvalidField
from service.modelname import check_model_name
from service.monitoring.formats import convert_reports
from service.schemas import SchemaSet

SCHEMA = "metric_snapshot"


def parse_snapshot(document: Any, schemas: SchemaSet) -> dict[str, Any]:
    """The snapshot to store: `document` checked against its schema, its reports turned into
    parts (with their digests in `reported_from`).

    Raises InvalidField naming the first field that is wrong (with how many others are):
    not an object, a schema violation, `reported_from` sent by the monitor, a model name not
    in the one form (service/modelname.py), an interval that does not start before it ends, a
    report that cannot be read."""
    if not isinstance(document, Mapping):
        raise InvalidField("snapshot", f"expected a JSON object; found {type(document).__name__}")
    if "reported_from" in document:
        raise InvalidField("reported_from", "is set by mlgate from `reports`; a monitor may not")
    _refuse_violations(schemas, document)
    snapshot = convert_reports(document)
    _refuse_violations(schemas, snapshot)
    check_model_name("deployment.model", snapshot["deployment"]["model"])
    start, end = interval_bounds(snapshot)
    if start >= end:
        raise InvalidField(
            "interval.end",
            f"must be after interval.start ({snapshot['interval']['start']}); "
            f"found {snapshot['interval']['end']}",
        )
    return snapshot


def interval_bounds(snapshot: Mapping[str, Any]) -> tuple[datetime, datetime]:
    """(start, end) of a checked snapshot's interval, as aware datetimes."""
    interval = snapshot["interval"]
    return _time(interval["start"]), _time(interval["end"])


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))


def _refuse_violations(schemas: SchemaSet, document: Any) -> None:
    violations = schemas.violations(SCHEMA, document)
    if not violations:
        return
    first, others = violations[0], len(violations) - 1
    more = f" (and {others} more: {'; '.join(map(str, violations[1:4]))})" if others else ""
    field = first.field if first.field not in ("", "(document)") else "snapshot"
    raise InvalidField(field, f"{first.problem}{more}")
