"""examples/argo/analysis-template.yaml under Argo Rollouts' counting: sequences of mlgate's
answers (allow, hold, rollback, deny, an error) walked through the template's limits, every
sequence up to a length, and the long ones that matter.

The counting is modelled from Argo Rollouts v1.10.1's source (the Go module
github.com/argoproj/argo-rollouts):
- analysis/analysis.go, runMeasurements: a Successful, Failed or Inconclusive measurement adds
  to `count` and its own counter and ends an error streak; Successful adds to the success
  streak, the others end it; an Error adds only to the error counters (never to `count`);
- analysis/analysis.go, assessMetricStatus and assessMetricFailureInconclusiveOrError, after
  each measurement: failed > failureLimit (unless -1) is Failed, inconclusive >
  inconclusiveLimit is Inconclusive, consecutive errors > consecutiveErrorLimit is Error (the
  later check wins); else a success streak >= consecutiveSuccessLimit (when > 0) is
  Successful; else once `count` is reached: Inconclusive when both failureLimit and
  consecutiveSuccessLimit apply, Failed when only the latter does, Successful otherwise;
- pkg/apis/rollouts/v1alpha1/analysis_types.go, Metric.EffectiveCount: no count and no
  interval is a count of 1, an interval alone runs until a limit ends it;
- utils/analysis/factory.go, ValidateMetric: the limits a template may hold;
- utils/defaults/defaults.go: consecutiveErrorLimit 4, failureLimit and inconclusiveLimit 0.
Each answer's measurement phase comes from the template's own conditions, evaluated by the
expression language Argo Rollouts uses (tests/examples/argo_measure)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import pytest
import yaml

from tests.examples.conftest import EXAMPLES

TEMPLATE = EXAMPLES / "argo" / "analysis-template.yaml"
# mlgate's answers as the Web provider receives them: status and body.
ANSWERS: dict[str, tuple[int, str]] = {
    "allow": (200, '{"outcome": "allow", "reasons": []}'),
    "hold": (200, '{"outcome": "hold", "reasons": [{"code": "MONITORING_WARMING_UP"}]}'),
    "rollback": (200, '{"outcome": "rollback", "reasons": [{"code": "MONITORING_FAILURE_LIMIT"}]}'),
    "deny": (200, '{"outcome": "deny", "reasons": [{"code": "MONITORING_POLICY_FILES_MISSING"}]}'),
    "error": (503, '{"error": "policy_engine_unavailable", "message": "..."}'),
}


def metric() -> dict[str, Any]:
    (only,) = yaml.safe_load(TEMPLATE.read_text())["spec"]["metrics"]
    found: dict[str, Any] = only
    return found


@dataclass(frozen=True)
class Limits:
    """A metric's limits, with Argo Rollouts' defaults for those left out."""

    count: int | None
    interval: str | None
    failure_limit: int = 0
    inconclusive_limit: int = 0
    consecutive_error_limit: int = 4
    consecutive_success_limit: int = 0

    @classmethod
    def of(cls, spec: dict[str, Any]) -> Limits:
        def number(key: str, default: int) -> int:
            return int(str(spec.get(key, default)))  # an IntOrString

        return cls(
            count=int(str(spec["count"])) if "count" in spec else None,
            interval=spec.get("interval"),
            failure_limit=number("failureLimit", 0),
            inconclusive_limit=number("inconclusiveLimit", 0),
            consecutive_error_limit=number("consecutiveErrorLimit", 4),
            consecutive_success_limit=number("consecutiveSuccessLimit", 0),
        )

    def effective_count(self) -> int | None:
        if not self.count:
            return None if self.interval else 1
        return self.count

    def problems(self) -> list[str]:
        """ValidateMetric's refusals of these limits."""
        found = []
        count, failure, success = (
            self.count or 0,
            self.failure_limit,
            self.consecutive_success_limit,
        )
        if success < 0 or failure < -1 or self.inconclusive_limit < 0:
            found.append("a negative limit")
        if success == 0 and failure == -1:
            found.append("failureLimit and consecutiveSuccessLimit cannot both be disabled")
        if count > 0 and failure >= 0 and count < failure + success:
            found.append("count must be >= failureLimit + consecutiveSuccessLimit")
        if count > 0 and count < self.inconclusive_limit:
            found.append("count must be >= inconclusiveLimit")
        if count > 1 and not self.interval:
            found.append("interval must be specified when count > 1")
        return found


@dataclass
class Counters:
    count: int = 0
    failed: int = 0
    inconclusive: int = 0
    consecutive_error: int = 0
    consecutive_success: int = 0

    def add(self, phase: str) -> None:
        if phase == "Error":
            self.consecutive_error += 1
            self.consecutive_success = 0
            return
        self.count += 1
        self.consecutive_error = 0
        self.consecutive_success = self.consecutive_success + 1 if phase == "Successful" else 0
        if phase == "Failed":
            self.failed += 1
        elif phase == "Inconclusive":
            self.inconclusive += 1


def assess(limits: Limits, seen: Counters) -> str:
    phase = "Running"
    if limits.failure_limit >= 0 and seen.failed > limits.failure_limit:
        phase = "Failed"
    if seen.inconclusive > limits.inconclusive_limit:
        phase = "Inconclusive"
    if seen.consecutive_error > limits.consecutive_error_limit:
        phase = "Error"
    if phase != "Running":
        return phase
    success = limits.consecutive_success_limit
    if success > 0 and seen.consecutive_success >= success:
        return "Successful"
    count = limits.effective_count()
    if count is not None and seen.count >= count:
        if limits.failure_limit >= 0 and success > 0:
            return "Inconclusive"
        return "Failed" if success > 0 else "Successful"
    return "Running"


def walk(limits: Limits, phases: Iterable[str]) -> tuple[str, int]:
    """The metric's phase after the measurements, and how many it took to get there (all of
    them while it is still Running)."""
    seen = Counters()
    taken = 0
    for taken, phase in enumerate(phases, start=1):
        seen.add(phase)
        status = assess(limits, seen)
        if status != "Running":
            return status, taken
    return "Running", taken


@pytest.fixture(scope="module")
def phase_of(argo_measure: Callable[..., list[str]]) -> dict[str, str]:
    """Each answer's measurement phase under the template's conditions."""
    spec = metric()
    queries = [
        {
            "status": status,
            "body": body,
            "jsonPath": spec["provider"]["web"].get("jsonPath", ""),
            "successCondition": spec.get("successCondition", ""),
            "failureCondition": spec.get("failureCondition", ""),
        }
        for status, body in ANSWERS.values()
    ]
    return dict(zip(ANSWERS, argo_measure(queries), strict=True))


@pytest.fixture(scope="module")
def limits() -> Limits:
    return Limits.of(metric())


def sequences(answers: Iterable[str], longest: int) -> Iterable[tuple[str, ...]]:
    for length in range(1, longest + 1):
        yield from itertools.product(answers, repeat=length)


def test_the_limits_are_valid_and_as_designed(limits: Limits) -> None:
    assert limits.problems() == []
    assert limits.consecutive_success_limit == 1
    assert limits.failure_limit == 0
    # Holds end the run (Inconclusive) exactly when the count would be reached.
    assert limits.count == limits.inconclusive_limit + 1


def test_the_validation_model_refuses_what_argo_refuses(limits: Limits) -> None:
    assert replace(limits, count=5).problems() == ["count must be >= inconclusiveLimit"]
    assert replace(limits, interval=None).problems() == [
        "interval must be specified when count > 1"
    ]


def test_each_answer_is_the_measurement_phase_the_template_means(
    phase_of: dict[str, str],
) -> None:
    assert phase_of == {
        "allow": "Successful",
        "hold": "Inconclusive",
        "rollback": "Failed",
        "deny": "Failed",
        "error": "Error",
    }


def test_an_answer_without_an_outcome_fails(argo_measure: Callable[..., list[str]]) -> None:
    spec = metric()
    conditions = {k: spec[k] for k in ("successCondition", "failureCondition")}
    bodies = ['{"detail": "Not Found"}', "[]", '{"outcome": "ALLOW"}', '{"outcome": null}']

    phases = argo_measure([{"status": 200, "body": b, **conditions} for b in bodies])

    assert phases == ["Failed", "Error", "Failed", "Failed"]


def test_no_sequence_of_holds_alone_ends_successful(
    limits: Limits, phase_of: dict[str, str]
) -> None:
    for holds in range(1, 60):
        phase, taken = walk(limits, [phase_of["hold"]] * holds)

        if holds <= limits.inconclusive_limit:
            assert phase == "Running", holds
        else:
            assert (phase, taken) == ("Inconclusive", limits.inconclusive_limit + 1), holds


def test_no_sequence_without_an_allow_ends_successful(
    limits: Limits, phase_of: dict[str, str]
) -> None:
    # Every sequence of holds and errors up to 16 answers, and of every answer but allow up
    # to 8.
    for answers, longest in ((("hold", "error"), 16), (("hold", "rollback", "deny", "error"), 8)):
        for sequence in sequences(answers, longest):
            phase, _ = walk(limits, [phase_of[a] for a in sequence])
            assert phase != "Successful", sequence


def test_successful_is_reached_on_the_first_allow_and_only_on_an_allow(
    limits: Limits, phase_of: dict[str, str]
) -> None:
    for sequence in sequences(ANSWERS, 7):
        phase, taken = walk(limits, [phase_of[a] for a in sequence])
        ended_before_an_allow = "allow" not in sequence[: taken - 1]
        if phase == "Successful":
            assert sequence[taken - 1] == "allow", sequence
            assert ended_before_an_allow, sequence
        elif "allow" in sequence:
            # It ended, before the first allow, on a rollback, a deny or too many errors.
            assert sequence.index("allow") >= taken and phase in {"Failed", "Error"}, sequence


def test_a_rollback_or_a_deny_ends_failed_at_once(limits: Limits, phase_of: dict[str, str]) -> None:
    for prefix in sequences(("hold", "error"), 10):
        for verdict in ("rollback", "deny"):
            before, _ = walk(limits, [phase_of[a] for a in prefix])
            if before != "Running":
                continue
            phase, taken = walk(limits, [phase_of[a] for a in (*prefix, verdict)])
            assert (phase, taken) == ("Failed", len(prefix) + 1), prefix


def test_errors_end_in_error_only_past_the_limit(limits: Limits, phase_of: dict[str, str]) -> None:
    errors = limits.consecutive_error_limit
    error, hold = phase_of["error"], phase_of["hold"]

    assert walk(limits, [error] * errors) == ("Running", errors)
    assert walk(limits, [error] * (errors + 1)) == ("Error", errors + 1)
    # A hold between them breaks the streak; errors never count towards `count`, so only the
    # holds end such a run, as holds alone would.
    streaky = ([error] * errors + [hold]) * 40
    assert walk(limits, streaky) == ("Inconclusive", (errors + 1) * (limits.inconclusive_limit + 1))


def test_the_model_shows_the_mistakes_the_template_avoids(
    limits: Limits, phase_of: dict[str, str], argo_measure: Callable[..., list[str]]
) -> None:
    hold, allow = phase_of["hold"], phase_of["allow"]
    # inconclusiveLimit equal to count (and no consecutiveSuccessLimit): holds alone succeed.
    naive = Limits(count=5, interval="5m", inconclusive_limit=5)
    assert walk(naive, [hold] * 5) == ("Successful", 5)
    # An Argo Rollouts older than v1.8 drops consecutiveSuccessLimit: one early allow and then
    # holds up to the count would succeed on a hold.
    pruned = replace(limits, consecutive_success_limit=0)
    assert walk(pruned, [allow] + [hold] * limits.inconclusive_limit) == (
        "Successful",
        limits.inconclusive_limit + 1,
    )
    # Without the failureCondition, a hold is a failure, not inconclusive.
    status, body = ANSWERS["hold"]
    only_success = {
        "status": status,
        "body": body,
        "successCondition": metric()["successCondition"],
    }
    assert argo_measure([only_success]) == ["Failed"]
