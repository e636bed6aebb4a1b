"""`mlgate approve` and `mlgate waive` in local mode ask the policy who may sign off, and a
decision names every sign-off it did not apply, in every output format."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from service.engine.catalogue import rule_catalogue
from service.engine.policyset import load_policy_set
from tests.cli.test_local_mode import DIGEST, decide, mlgate
from tests.conftest import EVIDENCE_DIR, POLICY_DIR

IDENT = ["--model", "fraud-detector", "--version", "7", "--digest", DIGEST]


def in_days(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def low_risk_evidence(tmp_path: Path) -> Path:
    """The approved fixture with a card saying low risk (a tier that asks no approval)."""
    evidence = tmp_path / "low"
    shutil.copytree(EVIDENCE_DIR / "approved", evidence)
    card_file = evidence / "model_card.yaml"
    card = yaml.safe_load(card_file.read_text())
    card["risk_tier"] = "low"
    card_file.write_text(yaml.safe_dump(card))
    return evidence


def test_a_sign_off_that_could_never_count_is_refused_with_exit_2(tmp_path: Path) -> None:
    """`mlgate waive` recorded a waiver (exit 0, a signed record) that the policy then ignored:
    the model was judged low-risk, and the low tier asks no approval."""
    home = tmp_path / "home"
    evidence = str(low_risk_evidence(tmp_path))
    staging = mlgate(home, "decide", "promotion", "--evidence", evidence, "--to", "staging")
    assert staging.returncode == 0, staging.stdout + staging.stderr

    waived = mlgate(
        home,
        "waive",
        *IDENT,
        *("--code", "BASELINE_MISSING", "--as", "model-risk-officer"),
        *("--reason", "first deployment", "--expires", in_days(30)),
        MLGATE_CALLER_ID="m.okafor",
    )
    approved = mlgate(
        home,
        "approve",
        *IDENT,
        *("--as", "model-risk-officer", "--comment", "reviewed"),
        MLGATE_CALLER_ID="m.okafor",
    )

    assert waived.returncode == 2, waived.stdout + waived.stderr
    assert waived.stdout == ""
    assert "BASELINE_MISSING of fraud-detector may be waived as no role" in waived.stderr
    assert "fraud-detector was judged low-risk" in waived.stderr
    assert approved.returncode == 2, approved.stdout + approved.stderr
    assert "an approval of fraud-detector counts only as no role" in approved.stderr
    verified = mlgate(home, "audit", "verify", "--format", "json")
    # nothing signed off: the decision and the policy revision it was judged under
    assert json.loads(verified.stdout)["kinds"] == {"policy_revision": 1, "decision": 1}


def test_a_withdrawn_waiver_is_named_in_the_next_decision(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert decide(home, "regressed").returncode == 1
    waived = mlgate(
        home,
        "waive",
        *IDENT,
        *("--code", "METRIC_REGRESSION_ABSOLUTE", "--as", "model-risk-officer"),
        *("--reason", "holdout overlap", "--expires", in_days(30)),
        MLGATE_CALLER_ID="m.okafor",
    )
    assert waived.returncode == 0, waived.stderr
    waiver = json.loads(waived.stdout)
    withdrawn = mlgate(
        home,
        "waive",
        "--withdraw",
        waiver["id"],
        "--reason",
        "fix slipped",
        MLGATE_CALLER_ID="b.ng",
    )
    assert withdrawn.returncode == 0, withdrawn.stderr

    after = decide(home, "regressed", "--format", "json")

    assert after.returncode == 1
    at = json.loads(withdrawn.stdout)["withdrawn_at"]
    assert [w["message"] for w in json.loads(after.stdout)["warnings"]] == [
        f"waiver {waiver['id']} of METRIC_REGRESSION_ABSOLUTE by m.okafor as model-risk-officer "
        f"was not applied: it was withdrawn by b.ng at {at} (fix slipped)"
    ]


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "github"])
def test_the_lapsed_waiver_is_named_in_every_format(tmp_path: Path, fmt: str) -> None:
    """The expired-waiver fixture denied with the regression alone, saying nothing of the
    waiver that lapsed on 2026-10-31."""
    run = decide(tmp_path / "home", "expired-waiver", "--format", fmt)

    assert run.returncode == 1, run.stderr
    assert "SIGNOFF_NOT_APPLIED" in run.stdout
    assert "of METRIC_REGRESSION_ABSOLUTE by c.lindqvist@example.com" in run.stdout
    assert "it expired at 2026-10-31T00:00:00Z" in run.stdout


def waive_regression(home: Path, expires: str) -> subprocess.CompletedProcess[str]:
    return mlgate(
        home,
        "waive",
        *IDENT,
        *("--code", "METRIC_REGRESSION_ABSOLUTE", "--as", "model-risk-officer"),
        *("--reason", "holdout overlap", "--expires", expires),
        MLGATE_CALLER_ID="m.okafor",
    )


def test_withdrawing_a_waiver_again_says_when_and_by_whom_it_was_withdrawn(
    tmp_path: Path,
) -> None:
    """The repeat printed the first withdrawal and exited 0 without a word, so an operator
    could not tell it from a new withdrawal. It still exits 0 (a CI retry must not fail), and
    records nothing."""
    home = tmp_path / "home"
    assert decide(home, "regressed").returncode == 1
    waiver = json.loads(waive_regression(home, in_days(30)).stdout)
    first = mlgate(
        home,
        "waive",
        "--withdraw",
        waiver["id"],
        "--reason",
        "fix slipped",
        MLGATE_CALLER_ID="b.ng",
    )
    assert (first.returncode, first.stderr) == (0, ""), first.stderr
    withdrawal = json.loads(first.stdout)

    again = mlgate(
        home, "waive", "--withdraw", waiver["id"], "--reason", "retry", MLGATE_CALLER_ID="c.ito"
    )

    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == withdrawal
    assert again.stderr == (
        f"mlgate: waiver {waiver['id']} was already withdrawn by b.ng at "
        f"{withdrawal['withdrawn_at']}: withdrawal {withdrawal['id']} (record "
        f"{withdrawal['record']}); nothing new was recorded\n"
    )
    verified = mlgate(home, "audit", "verify", "--format", "json")
    assert json.loads(verified.stdout)["kinds"]["waiver_withdrawal"] == 1


def test_the_same_waiver_or_approval_again_records_nothing_and_says_so(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert decide(home, "regressed").returncode == 1
    expires = in_days(30)
    waived = waive_regression(home, expires)
    approve = ["approve", *IDENT, "--as", "model-risk-officer", "--comment", "MRV-2026-114"]
    approved = mlgate(home, *approve, MLGATE_CALLER_ID="m.okafor")
    assert (waived.returncode, approved.returncode) == (0, 0), waived.stderr + approved.stderr
    waiver, approval = json.loads(waived.stdout), json.loads(approved.stdout)

    waived_again = waive_regression(home, expires)
    approved_again = mlgate(home, *approve, MLGATE_CALLER_ID="m.okafor")

    assert (waived_again.returncode, approved_again.returncode) == (0, 0)
    assert json.loads(waived_again.stdout) == waiver
    assert waived_again.stderr == (
        f"mlgate: the same waiver is in force already: waiver {waiver['id']} of "
        f"METRIC_REGRESSION_ABSOLUTE on fraud-detector v7, given by m.okafor as "
        f"model-risk-officer at {waiver['created_at']} (record {waiver['record']}); nothing new "
        "was recorded\n"
    )
    assert json.loads(approved_again.stdout) == approval
    assert approved_again.stderr == (
        f"mlgate: m.okafor's latest word as model-risk-officer on fraud-detector v7 is this one "
        f"already: approval {approval['id']} (approved), given at {approval['decided_at']} "
        f"(record {approval['record']}); nothing new was recorded\n"
    )
    kinds = json.loads(mlgate(home, "audit", "verify", "--format", "json").stdout)["kinds"]
    assert (kinds["waiver"], kinds["approval"]) == (1, 1)


# The promotion gate's denials no waiver may lift.
NEVER_WAIVED = set(
    yaml.safe_load((POLICY_DIR / "data" / "promotion.yaml").read_text())["non_waivable"]
)


@pytest.mark.parametrize("code", ["NOT_A_CODE", "MONITORING_NO_DATA", "APPROVAL_REJECTED"])
def test_a_code_no_waiver_lifts_is_refused_listing_only_the_codes_one_can_lift(
    tmp_path: Path, code: str
) -> None:
    refused = mlgate(
        tmp_path / "home",
        "waive",
        *IDENT,
        *("--code", code, "--as", "model-risk-officer"),
        *("--reason", "x", "--expires", in_days(30)),
    )

    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr.startswith(f"mlgate: error: rule_code: {code} ") or (
        f"no policy rule has the code {code}" in refused.stderr
    ), refused.stderr
    listed = set(refused.stderr.split("the codes a waiver can lift are ")[1].strip().split(", "))
    catalogue = rule_catalogue(load_policy_set(POLICY_DIR))
    denials = {rule.code for rule in catalogue if rule.rule == "data.mlgate.promotion.deny"}
    assert listed == denials - NEVER_WAIVED
    assert {"METRIC_BELOW_FLOOR", "BASELINE_MISSING"} <= listed
    assert not listed & {"APPROVAL_REJECTED", "RISK_TIER_LOWERED"}
    assert not {c for c in listed if c.startswith(("MONITORING_", "ROLLBACK_", "APPROVAL_"))}
