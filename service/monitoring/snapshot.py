"""A metric snapshot as a monitor sends it, checked and put in the form it is stored in.

The document is schemas/metric_snapshot.schema.json. The reports a monitor already produces
(Evidently, Great Expectations) become its `drift` and `data_quality` parts here
(service/monitoring/formats/), so the store and the policy see one form whatever the monitor.
"""

from __future__ import annotations

import math
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
    not an object, a schema violation, `reported_from` sent by the monitor, a number beyond
    MAX_FIGURE in magnitude (sums and means of such figures overflow), a feature named twice
    in `drift` (it would count twice in the share drifted), a model name not in the one form
    (service/modelname.py), an interval that does not start before it ends or whose times
    Python cannot represent (year 0), a report that cannot be read."""
    if not isinstance(document, Mapping):
        raise InvalidField("snapshot", f"expected a JSON object; found {type(document).__name__}")
    if "reported_from" in document:
        raise InvalidField("reported_from", "is set by mlgate from `reports`; a monitor may not")
    deployment = document.get("deployment")
    if isinstance(deployment, Mapping) and isinstance(deployment.get("model"), str):
        # Before the schema, whose pattern would say only that the name does not match it.
        check_model_name("deployment.model", deployment["model"])
    _refuse_violations(schemas, document)
    snapshot = convert_reports(document)
    _refuse_violations(schemas, snapshot)
    _refuse_unusable_numbers(snapshot, "")
    _refuse_repeated_features(snapshot)
    check_model_name("deployment.model", snapshot["deployment"]["model"])
    for bound in ("start", "end"):
        try:
            _time(snapshot["interval"][bound])
        except ValueError as exc:
            raise InvalidField(
                f"interval.{bound}", f"a time this service cannot compare ({exc})"
            ) from None
    start, end = interval_bounds(snapshot)
    if start >= end:
        raise InvalidField(
            "interval.end",
            f"must be after interval.start ({snapshot['interval']['start']}); "
            f"found {snapshot['interval']['end']}",
        )
    return snapshot


# The largest magnitude of any figure in a snapshot: far above any latency, rate, count or
# score, and far enough below a float's range that the statistics' sums cannot overflow.
MAX_FIGURE = 1e15


def _refuse_unusable_numbers(value: Any, path: str) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        # An int is compared as an int: a huge one cannot even be made a float.
        if abs(value) > MAX_FIGURE or (isinstance(value, float) and not math.isfinite(value)):
            raise InvalidField(
                path or "snapshot",
                f"expected a number of magnitude at most {MAX_FIGURE:g}; found {value!r:.40}",
            )
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            _refuse_unusable_numbers(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _refuse_unusable_numbers(item, f"{path}[{i}]")


def _refuse_repeated_features(snapshot: Mapping[str, Any]) -> None:
    seen: set[str] = set()
    for i, feature in enumerate(snapshot.get("drift", {}).get("features", [])):
        if feature["name"] in seen:
            raise InvalidField(
                f"drift.features[{i}].name",
                f"{feature['name']!r} is named twice; each feature has one verdict",
            )
        seen.add(feature["name"])


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
