"""The Flagger contract mlgate answers (service/api/flagger.py) held to Flagger's own source at
the pinned version: the hook types, the phases, the payload's fields, what counts as success,
and the phase each hook type is called in; and the status for every hook and outcome."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from service.api.flagger import (
    FLAGGER_VERSION,
    HOLD,
    HOOKS,
    PHASES,
    PROCEED,
    REFUSED,
    UNGATED,
    FlaggerWebhook,
)
from service.decision.model import OUTCOMES
from tests.upstream import module_files

MODULE = f"github.com/fluxcd/flagger@{FLAGGER_VERSION}"
SOURCES = {
    "canary": "pkg/apis/flagger/v1beta1/canary.go",
    "status": "pkg/apis/flagger/v1beta1/status.go",
    "webhook": "pkg/controller/webhook.go",
    "scheduler": "pkg/controller/scheduler.go",
    "hooks": "pkg/controller/scheduler_hooks.go",
}


@pytest.fixture(scope="module")
def source() -> dict[str, str]:
    """Flagger's Go source files, by the names above."""
    paths = module_files(MODULE, *SOURCES.values())
    return {name: Path(path).read_text() for name, path in zip(SOURCES, paths, strict=True)}


def function(go: str, name: str) -> str:
    """The text of Go function `name` (from its signature to the next top-level func)."""
    start = re.search(rf"^func (\([^)]*\) )?{name}\(", go, re.M)
    assert start is not None, f"no func {name}"
    following = re.search(r"^func ", go[start.end() :], re.M)
    return go[start.start() : start.end() + following.start() if following else len(go)]


def phases_in(go: str) -> set[str]:
    return set(re.findall(r"flaggerv1\.CanaryPhase(\w+)", go))


# Status by hook and outcome; Flagger's success is 200-202 only.
EXPECTED = {
    "confirm-rollout": {"allow": 200, "hold": 423, "deny": 409, "rollback": 409},
    "pre-rollout": {"allow": 200, "hold": 423, "deny": 409, "rollback": 409},
    "confirm-traffic-increase": {"allow": 200, "hold": 423, "deny": 409, "rollback": 409},
    "rollout": {"allow": 200, "hold": 423, "deny": 409, "rollback": 409},
    "confirm-promotion": {"allow": 200, "hold": 423, "deny": 409, "rollback": 409},
    "rollback": {"allow": 409, "hold": 423, "deny": 409, "rollback": 200},
}


def test_every_hook_answers_each_outcome_with_its_status() -> None:
    assert {
        name: {outcome: hook.status(outcome) for outcome in OUTCOMES}
        for name, hook in HOOKS.items()
    } == EXPECTED


def test_only_the_answer_that_lets_flagger_act_is_a_success_to_flagger() -> None:
    """Flagger fails a webhook whose status is above 202 (webhook.go): a hold must never be
    read as success, or holds would let a canary advance on no evidence."""
    for name, hook in HOOKS.items():
        for outcome in OUTCOMES:
            success = 200 <= hook.status(outcome) <= 202
            assert success == (outcome == hook.yes), (name, outcome)
    assert {PROCEED, HOLD, REFUSED} == {200, 423, 409}


def test_the_hook_types_are_flaggers(source: dict[str, str]) -> None:
    declared = set(
        re.findall(r'^\s*\w+Hook\s+(?:HookType\s+)?=\s+"([^"]+)"', source["canary"], re.M)
    )

    assert declared == set(HOOKS) | set(UNGATED)


def test_the_phases_are_flaggers(source: dict[str, str]) -> None:
    declared = re.findall(r'^\s*CanaryPhase\w+\s+CanaryPhase\s+=\s+"(\w+)"', source["status"], re.M)

    assert tuple(declared) == PHASES


def test_the_payload_fields_are_flaggers(source: dict[str, str]) -> None:
    struct = re.search(r"type CanaryWebhookPayload struct \{(.*?)\n\}", source["canary"], re.S)
    assert struct is not None
    tags = re.findall(r'json:"(\w+)(?:,omitempty)?"', struct.group(1))

    assert tags == list(FlaggerWebhook.model_fields)


def test_flagger_fails_a_webhook_above_202(source: dict[str, str]) -> None:
    assert "if r.StatusCode > 202 {" in function(source["webhook"], "callWebhook")


def test_each_hook_type_is_called_in_the_phases_mlgate_accepts(source: dict[str, str]) -> None:
    hooks, scheduler = source["hooks"], source["scheduler"]
    progressing = "CallWebhook(*canary, flaggerv1.CanaryPhaseProgressing, webhook)"
    for name, runner in {
        "confirm-traffic-increase": "runConfirmTrafficIncreaseHooks",
        "confirm-promotion": "runConfirmPromotionHooks",
        "pre-rollout": "runPreRolloutHooks",
    }.items():
        assert progressing in function(hooks, runner), runner
        assert HOOKS[name].phases == {"Progressing"}
    assert progressing in function(scheduler, "runAnalysis")
    assert HOOKS["rollout"].phases == {"Progressing"}
    # The rollback hooks run under the condition just before their call, with the canary's phase.
    condition = scheduler[: scheduler.index("c.runRollbackHooks(cd, cd.Status.Phase)")]
    condition = condition[condition.rindex("// check if we should rollback") :]
    assert HOOKS["rollback"].phases == phases_in(condition)
    # confirm-rollout runs with the canary's phase, unless checkCanaryStatus returned first.
    status_check = function(scheduler, "checkCanaryStatus")
    returned_first = phases_in(status_check[: status_check.index("return true")])
    assert "runConfirmRolloutHooks(canary, canaryController)" in status_check
    assert HOOKS["confirm-rollout"].phases == set(PHASES) - returned_first
