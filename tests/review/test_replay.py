"""`mlgate replay`: recorded decisions judged again under a policy change, as a platform team runs
it on a policy pull request. A real SQLite ledger of decisions recorded under the shipped
policies, the real embedded engine, `mlgate` in this process; the worker pool is real (spawned
processes)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from service.audit.ledger import Ledger, open_ledger, open_ledger_reader
from service.compose import policy_judge
from service.decision.judge import Judge
from service.decision.model import Decision
from service.decision.recording import pending_decision
from service.errors import LedgerTampered, PolicyLoadError
from service.review.replay import (
    INLINE_BELOW,
    Replayed,
    ReplayFilter,
    ReplayReport,
    replay,
    selected,
)
from service.review.replay_text import markdown, text
from service.review.revisions import keep_revision
from service.settings import get_settings
from tests.audit.test_tampering import flip_char
from tests.conftest import POLICY_DIR, fixture_input, never_finishing, raise_auc_floor
from tests.inprocess_cli import Mlgate, ledger_path, mlgate

__all__ = ["mlgate"]

# (fixture, stage): recorded under the shipped policies, where they give these outcomes.
RECORDED = {
    ("approved", "staging"): "allow",
    ("approved", "production"): "allow",
    ("waived", "production"): "allow",
    ("regressed", "production"): "deny",
    ("high-risk-pending-approval", "production"): "hold",
}


def _record(ledger: Ledger, judge: Judge, name: str, stage: str) -> Decision:
    input_doc = fixture_input(name, stage)
    decision = judge.evaluate(input_doc)
    ledger.record(pending_decision(decision, input_doc))
    return decision


@pytest.fixture
def recorded(mlgate: Mlgate, gatekeeper: Judge) -> dict[tuple[str, str], Decision]:
    """The decisions of RECORDED in the ledger under MLGATE_HOME, with their revision."""
    with open_ledger(get_settings()) as ledger:
        keep_revision(ledger, gatekeeper.engine.policy_set)
        decisions = {key: _record(ledger, gatekeeper, *key) for key in RECORDED}
    assert {key: d.outcome for key, d in decisions.items()} == RECORDED
    return decisions


@pytest.fixture
def raised_floor(policy_copy: Callable[[], Path]) -> Path:
    """The policies with the high tier's production AUC floor raised from 0.90 to 0.99: every
    high-tier production candidate in the fixtures falls below it."""
    return raise_auc_floor(policy_copy(), "production", "0.90")


def test_unchanged_policies_flip_nothing_and_exit_0(
    mlgate: Mlgate, recorded: dict[tuple[str, str], Decision]
) -> None:
    run = mlgate("replay", "--policy-dir", str(POLICY_DIR), "--format", "json")
    assert run.code == 0, run.err
    report = json.loads(run.out)
    assert (report["replayed"], report["unchanged"], report["flipped"]) == (5, 5, 0)
    assert report["revision"] == recorded["approved", "staging"].policy_revision


def test_a_raised_floor_lists_exactly_the_decisions_it_flips_and_exits_1(
    mlgate: Mlgate, recorded: dict[tuple[str, str], Decision], raised_floor: Path
) -> None:
    run = mlgate("replay", "--policy-dir", str(raised_floor), "--format", "json")

    assert run.code == 1, run.err
    report = json.loads(run.out)
    flips = {f["decision_id"]: (f["recorded_outcome"], f["outcome"]) for f in report["flips"]}
    assert flips == {
        recorded["approved", "production"].decision_id: ("allow", "deny"),
        recorded["waived", "production"].decision_id: ("allow", "deny"),
        recorded["high-risk-pending-approval", "production"].decision_id: ("hold", "deny"),
    }
    assert all(f["reasons_added"] == ["METRIC_BELOW_FLOOR"] for f in report["flips"])
    assert report["transitions"] == {"allow -> deny": 2, "hold -> deny": 1}
    # The regressed candidate was denied already: same outcome, one reason more.
    [changed] = report["changes"]
    assert changed["decision_id"] == recorded["regressed", "production"].decision_id
    assert (changed["outcome"], changed["reasons_added"]) == ("deny", ["METRIC_BELOW_FLOOR"])
    assert report["unchanged"] == 1  # staging has no such floor


def test_the_text_report_puts_the_flips_first_for_a_person(
    mlgate: Mlgate, recorded: dict[tuple[str, str], Decision], raised_floor: Path
) -> None:
    run = mlgate("replay", "--policy-dir", str(raised_floor))
    assert run.code == 1
    lines = run.out.splitlines()
    assert "3 would change outcome: allow -> deny 2, hold -> deny 1" in run.out
    flips_at = lines.index("outcome flips")
    changes_at = lines.index("same outcome, other reasons or warnings")
    assert flips_at < changes_at
    flipped = recorded["approved", "production"]
    assert any(
        flipped.decision_id in line and "allow -> deny" in line and "+METRIC_BELOW_FLOOR" in line
        for line in lines[flips_at:changes_at]
    )
    markdown = mlgate("replay", "--policy-dir", str(raised_floor), "--format", "markdown")
    assert "**3 recorded decisions would change outcome**" in markdown.out
    assert f"| {flipped.decision_id} | promotion | fraud-detector@7 |" in markdown.out


def test_filters_choose_the_decisions_replayed(
    mlgate: Mlgate, recorded: dict[tuple[str, str], Decision], raised_floor: Path
) -> None:
    other_gate = mlgate(
        "replay", "--policy-dir", str(raised_floor), "--gate", "rollback", "--format", "json"
    )
    assert other_gate.code == 0 and json.loads(other_gate.out)["replayed"] == 0
    other_model = mlgate("replay", "--policy-dir", str(raised_floor), "--model", "nobody")
    assert other_model.code == 0 and "replayed 0 recorded decisions" in other_model.out
    later = mlgate("replay", "--policy-dir", str(raised_floor), "--since", "2999-01-01T00:00:00Z")
    assert later.code == 0 and "replayed 0" in later.out
    bad = mlgate("replay", "--since", "last week")
    assert bad.code == 2 and "since must be an ISO 8601 time" in bad.err


@pytest.mark.parametrize(
    ("option", "words"),
    [
        (("--gate", "promtion"), "--gate: expected one of promotion, monitoring, rollback"),
        (("--model", "Fraud-Detector"), "U+0046 LATIN CAPITAL LETTER F at position 0"),
        (("--model", "fraud detector"), "U+0020 SPACE at position 5"),
    ],
)
def test_a_misspelt_gate_or_model_name_is_a_usage_error_not_a_replay_of_nothing(
    mlgate: Mlgate,
    recorded: dict[tuple[str, str], Decision],
    raised_floor: Path,
    option: tuple[str, str],
    words: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Matching no decision, a misspelt filter would report that nothing flips, exit 0. (A
    name not in the one form is refused by argparse, which exits 2 itself.)"""
    try:
        run = mlgate("replay", "--policy-dir", str(raised_floor), *option)
        code, err = run.code, run.err
    except SystemExit as exit:
        code, err = int(str(exit.code)), capsys.readouterr().err
    assert code == 2, err
    assert words in err


def test_a_kept_revision_replays_as_recorded_whatever_the_directory_holds(
    mlgate: Mlgate,
    recorded: dict[tuple[str, str], Decision],
    raised_floor: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLGATE_POLICY_DIR", str(raised_floor))
    get_settings.cache_clear()
    revision = recorded["approved", "production"].policy_revision

    run = mlgate("replay", "--revision", revision, "--format", "json")

    assert run.code == 0, run.err
    assert json.loads(run.out)["flipped"] == 0
    assert json.loads(run.out)["policies"] == f"revision {revision} as kept in the ledger"
    unknown = mlgate("replay", "--revision", "sha256:" + "0" * 64)
    assert unknown.code == 2 and "no policy revision sha256:000" in unknown.err


def test_a_decision_whose_input_is_gone_or_altered_is_named_and_fails_the_check(
    mlgate: Mlgate, recorded: dict[tuple[str, str], Decision]
) -> None:
    staging = recorded["approved", "staging"]
    production = recorded["approved", "production"]
    with sqlite3.connect(ledger_path()) as conn:
        of_record = "seq IN (SELECT seq FROM records WHERE input_digest = ?)"
        conn.execute(f"DELETE FROM record_inputs WHERE {of_record}", (staging.input_digest,))
        conn.execute(
            f"UPDATE record_inputs SET document = CAST(? AS BLOB) WHERE {of_record}",
            (b'{"gate": "promotion"}', production.input_digest),
        )

    run = mlgate("replay", "--policy-dir", str(POLICY_DIR))

    assert run.code == 1  # nothing flips, but the replay does not show it for all
    assert "2 could not be replayed" in run.out
    assert f"({staging.decision_id}): its input document {staging.input_digest} is not" in run.out
    assert "hashes to sha256:" in run.out and "it was altered" in run.out


def test_a_record_edited_in_the_database_stops_the_replay(
    mlgate: Mlgate, recorded: dict[tuple[str, str], Decision]
) -> None:
    with sqlite3.connect(ledger_path()) as conn:
        [(envelope,)] = conn.execute("SELECT envelope FROM records WHERE seq = 3").fetchall()
        conn.execute(
            "UPDATE records SET envelope = ? WHERE seq = 3", (flip_char(envelope, "sig", 5),)
        )
    run = mlgate("replay", "--policy-dir", str(POLICY_DIR))
    assert run.code == 5, run.err
    assert "seq 3" in run.err and "mlgate audit verify" in run.err


def test_a_policy_directory_that_does_not_load_is_a_usage_error(
    mlgate: Mlgate, recorded: dict[tuple[str, str], Decision], policy_copy: Callable[[], Path]
) -> None:
    policies = policy_copy()
    stages = policies / "promotion" / "stages.rego"
    stages.write_text(stages.read_text() + "\nnot rego\n")
    run = mlgate("replay", "--policy-dir", str(policies))
    assert run.code == 2
    assert "stages.rego" in run.err and "rego_parse_error" in run.err


def test_the_worker_pool_gives_the_report_one_process_gives(
    mlgate: Mlgate, gatekeeper: Judge, raised_floor: Path
) -> None:
    """Enough decisions for the pool (INLINE_BELOW), judged by two spawned workers and by this
    process: the same flips, changes and order."""
    with open_ledger(get_settings()) as ledger:
        keep_revision(ledger, gatekeeper.engine.policy_set)
        keys = list(RECORDED)
        for index in range(INLINE_BELOW + 6):
            _record(ledger, gatekeeper, *keys[index % len(keys)])
        records = selected(ledger, ReplayFilter(gate="promotion"))
        factory = partial(policy_judge, raised_floor)
        done: list[int] = []
        reader = partial(open_ledger_reader, get_settings())
        pooled = replay(ledger, records, factory, reader=reader, workers=2, progress=done.append)
        inline = replay(ledger, records, factory, workers=1)

    assert pooled.to_json() == inline.to_json()
    assert pooled.revision == inline.revision != gatekeeper.engine.policy_set.revision
    assert len(pooled.flips) == 42  # 70 decisions: 14 rounds of RECORDED, 3 flips each
    assert done[-1] == len(records) == INLINE_BELOW + 6
    assert [r.seq for r in pooled.replayed] == sorted(r.seq for r in pooled.replayed)

    # The workers read the records themselves: one edited in the database stops them too.
    with sqlite3.connect(ledger_path()) as conn:
        [(envelope,)] = conn.execute("SELECT envelope FROM records WHERE seq = 40").fetchall()
        conn.execute(
            "UPDATE records SET envelope = ? WHERE seq = 40", (flip_char(envelope, "sig", 5),)
        )
    with open_ledger(get_settings()) as ledger, pytest.raises(LedgerTampered, match="seq 40"):
        replay(ledger, records, factory, reader=reader, workers=2)


def test_a_worker_that_cannot_load_the_policies_names_the_file(
    mlgate: Mlgate, gatekeeper: Judge, policy_copy: Callable[[], Path]
) -> None:
    policies = policy_copy()
    stages = policies / "promotion" / "stages.rego"
    stages.write_text(stages.read_text() + "\nnot rego\n")
    with open_ledger(get_settings()) as ledger:
        for _ in range(INLINE_BELOW):
            _record(ledger, gatekeeper, "approved", "staging")
        records = selected(ledger)
        with pytest.raises(PolicyLoadError, match=r"stages\.rego:\d+: rego_parse_error"):
            reader = partial(open_ledger_reader, get_settings())
            replay(ledger, records, partial(policy_judge, policies), reader=reader, workers=2)


def test_one_decision_is_counted_in_the_singular() -> None:
    flip = Replayed(
        seq=2,
        decision_id="d-1",
        gate="promotion",
        model="fraud-detector@7",
        stage="production",
        recorded_at="2026-11-21T12:00:00.000000Z",
        recorded_revision="sha256:" + "1" * 64,
        recorded_outcome="allow",
        outcome="deny",
        recorded_reasons=(),
        reasons=("METRIC_BELOW_FLOOR",),
        recorded_warnings=(),
        warnings=(),
    )
    report = ReplayReport(revision="sha256:" + "2" * 64, replayed=[flip])
    assert text(report, "policies").startswith("replayed 1 recorded decision under")
    assert "**1 recorded decision would change outcome**" in markdown(report, "policies")


def test_a_policy_that_never_finishes_is_stopped_at_the_timeout(
    mlgate: Mlgate, recorded: dict[tuple[str, str], Decision], policy_copy: Callable[[], Path]
) -> None:
    policies = never_finishing(policy_copy())
    run = mlgate("replay", "--policy-dir", str(policies), "--timeout", "2", "--format", "json")
    assert run.code == 1, run.err
    report = json.loads(run.out)
    assert (report["replayed"], report["unreplayable"]) == (0, len(RECORDED))
    assert all("took longer than 2 s" in p["problem"] for p in report["problems"])
