"""The reports monitors already produce, turned into a metric snapshot's parts at ingestion:
an Evidently report into `drift`, a Great Expectations validation result into `data_quality`."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from service.canonical import canonical_json, sha256_digest
from service.errors import InvalidField
from service.monitoring.formats import evidently, great_expectations

# Each report a snapshot may carry under `reports`: the part it becomes, and how.
REPORT_PARTS: dict[str, tuple[str, Callable[..., dict[str, Any]]]] = {
    "evidently": ("drift", evidently.drift_part),
    "great_expectations": ("data_quality", great_expectations.data_quality_part),
}


def convert_reports(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """A new snapshot without `reports`: each report becomes its part, and `reported_from`
    keeps the digest of the canonical JSON of each. A snapshot without reports is returned
    as it is (a copy). Raises InvalidField, naming the field's full path, for a report that
    cannot be read, a snapshot that sends both a report and the part it becomes, and a
    `reported_from` sent by the monitor (only mlgate sets it)."""
    if "reported_from" in snapshot:
        raise InvalidField(
            "reported_from",
            "is set by mlgate from the reports it converts; a monitor sends `reports` instead",
        )
    converted = {key: copy.deepcopy(value) for key, value in snapshot.items() if key != "reports"}
    reports = snapshot.get("reports")
    if reports is None:
        return converted
    if not isinstance(reports, Mapping):
        raise InvalidField("reports", "expected an object of reports by kind")
    digests: dict[str, str] = {}
    for kind, report in reports.items():
        where = f"reports.{kind}"
        if kind not in REPORT_PARTS:
            raise InvalidField(
                where, f"expected a kind of report mlgate reads: {', '.join(REPORT_PARTS)}"
            )
        part, read = REPORT_PARTS[kind]
        if part in snapshot:
            raise InvalidField(
                where,
                f"the snapshot carries both {where} and `{part}`, which is made from it; "
                "send one of the two",
            )
        if not isinstance(report, Mapping):
            raise InvalidField(where, f"expected a {kind} report (an object)")
        converted[part] = read(report, at=where)
        digests[kind] = sha256_digest(canonical_json(report))
    if digests:
        converted["reported_from"] = digests
    return converted
