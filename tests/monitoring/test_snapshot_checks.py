"""A snapshot is checked before anything is stored: each bad input names its field."""

from __future__ import annotations

from typing import Any

import pytest

from service.errors import InvalidField
from service.monitoring.snapshot import parse_snapshot
from service.schemas import default_schemas
from tests.monitoring.conftest import snapshot

SCHEMAS = default_schemas()


@pytest.mark.parametrize(
    ("document", "field", "words"),
    [
        ([], "snapshot", "expected a JSON object"),
        (snapshot(deployment=None), "deployment", "required"),
        (
            snapshot(deployment={"model": "fraud-detector", "version": "7"}),
            "deployment.stage",
            "required",
        ),
        (
            snapshot(deployment={"model": "fraud-detector", "version": "7", "stage": "qa"}),
            "deployment.stage",
            "",
        ),
        (snapshot(sample_count=-1), "sample_count", ""),
        (snapshot(sample_count="1840"), "sample_count", ""),
        (snapshot(interval={"start": "2026-11-18T14:05:00Z"}), "interval.end", "required"),
        (
            snapshot(interval={"start": "yesterday", "end": "2026-11-18T14:05:00Z"}),
            "interval.start",
            "",
        ),
        (
            snapshot(interval={"start": "2026-11-18T14:05:00Z", "end": "2026-11-18T14:05:00Z"}),
            "interval.end",
            "must be after interval.start",
        ),
        (snapshot(operational={"error_rate": 1.5}), "operational.error_rate", ""),
        (snapshot(operational={"latency_p99_ms": "fast"}), "operational.latency_p99_ms", ""),
        (
            snapshot(drift={"features": [{"name": "amount"}]}),
            "drift.features[0].drifted",
            "required",
        ),
        (snapshot(data_quality={"null_rate": {"amount": 2}}), "data_quality.null_rate.amount", ""),
        (
            snapshot(reported_from={"evidently": "sha256:" + "0" * 64}),
            "reported_from",
            "a monitor may not",
        ),
        (snapshot(surprise=1), "snapshot", "surprise"),
        (
            snapshot(deployment={"model": "Fraud-Detector", "version": "7", "stage": "canary"}),
            "deployment.model",
            # The character at fault, as everywhere a name enters; not the schema's pattern.
            "U+0046 LATIN CAPITAL LETTER F at position 0",
        ),
    ],
    ids=[
        "not-an-object",
        "no-deployment",
        "no-stage",
        "unknown-stage",
        "negative-samples",
        "samples-as-text",
        "no-end",
        "start-not-a-time",
        "empty-interval",
        "error-rate-above-1",
        "latency-as-text",
        "drift-without-verdict",
        "null-rate-above-1",
        "reported-from-by-monitor",
        "unknown-key",
        "lookalike-model-name",
    ],
)
def test_a_bad_snapshot_names_its_field(document: Any, field: str, words: str) -> None:
    with pytest.raises(InvalidField) as refused:
        parse_snapshot(document, SCHEMAS)

    assert refused.value.field == field, refused.value.message
    assert words in refused.value.message


def test_a_good_snapshot_is_kept_as_sent() -> None:
    document = snapshot(0)

    assert parse_snapshot(document, SCHEMAS) == document
