"""POST /v1/snapshots: a monitor reports what it measured of a deployment over one interval;
the snapshot is a signed ledger record the monitoring gate reads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from service.api.auth import ReporterCaller
from service.api.jsonbody import UniqueNamesRoute
from service.api.links import RECORD_SNAPSHOT
from service.api.models import (
    AUTH_ERRORS,
    BODY_ERRORS,
    UNAVAILABLE,
    check_json_values,
    problem_example,
)
from service.api.recording import answered, kept_already
from service.api.runtime import RuntimeDep
from service.monitoring.snapshot import parse_snapshot
from service.schemas import default_schemas

router = APIRouter(route_class=UniqueNamesRoute, tags=["monitoring"])

EXAMPLE_SNAPSHOT: dict[str, Any] = {
    "deployment": {"model": "fraud-detector", "version": "7", "stage": "canary"},
    "interval": {"start": "2026-11-18T14:05:00Z", "end": "2026-11-18T14:10:00Z"},
    "sample_count": 1840,
    "operational": {"latency_p99_ms": 182.0, "error_rate": 0.004, "throughput_rps": 6.1},
    "quality": {"metrics": {"auc": 0.93}, "label_delay_seconds": 3600, "labelled_count": 410},
    "drift": {
        "features": [
            {"name": "amount", "score": 0.21, "method": "ks", "threshold": 0.05, "drifted": False}
        ]
    },
    "data_quality": {"schema_violations": 0, "null_rate": {"amount": 0.0}},
    "baseline": {
        "version": "6",
        "sample_count": 16420,
        "operational": {"latency_p99_ms": 176.0, "error_rate": 0.003, "throughput_rps": 54.7},
    },
}


@router.post(
    "/v1/snapshots",
    operation_id=RECORD_SNAPSHOT,
    status_code=201,
    summary="Report a metric snapshot of a deployment",
    description=(
        "A monitor's figures for one deployment (model version at a stage) over one interval, "
        "checked against schemas/metric_snapshot.schema.json. An Evidently report or a Great "
        "Expectations validation result may be sent under `reports` and becomes the `drift` "
        "and `data_quality` parts. Needs a `reporter` token: the party being gated (a `gate` "
        "token) may not report on itself. Refused (422, naming the field, nothing stored): a "
        "schema violation, an interval that does not start before it ends, one that ends in "
        "the future by this service's clock, one that starts before the deployment's latest "
        "interval ends (an overlap, or time going backwards), one whose deployment and "
        "interval are recorded already with other content (naming each field that differs). "
        "The snapshot is a signed record in the audit ledger; the answer is the stored "
        "snapshot with its record's id, seq and the time it was received, with 201. The same "
        "snapshot again (same deployment, interval, figures and reporter: a retry after a lost "
        "answer) records nothing and answers the snapshot already kept, with 200."
    ),
    responses={
        **kept_already("the same snapshot, recorded before,"),
        **AUTH_ERRORS,
        **BODY_ERRORS,
        **UNAVAILABLE,
        422: problem_example(
            422,
            "invalid_request",
            "interval.start: 2026-11-18T14:00:00Z is before the end of this deployment's "
            "latest interval (…): intervals may not overlap nor go backwards",
            "interval.start",
        ),
    },
)
def record_snapshot(
    caller: ReporterCaller,
    document: Annotated[dict[str, Any], Body(examples=[EXAMPLE_SNAPSHOT])],
    runtime: RuntimeDep,
    response: Response,
) -> dict[str, Any]:
    check_json_values(document)
    snapshot = parse_snapshot(document, default_schemas())
    return answered(runtime.context.snapshots.add(snapshot, caller.id), response)
