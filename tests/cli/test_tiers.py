"""`mlgate tier set|show` and `mlgate history` in local mode: a tier change is signed into the
local ledger, later `mlgate decide` runs are judged under it, and the history shows it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.cli.test_local_mode import mlgate
from tests.conftest import EVIDENCE_DIR

MODEL = "tiered-cli"
OFFICER = {"MLGATE_CALLER_ID": "cro@example.com"}


def evidence(tmp_path: Path, version: str, tier: str, **card: Any) -> Path:
    """The approved fixture as version `version` of MODEL, its own artifact, its card naming
    `tier` with `card` changed (None removes a field); no approvals or history."""
    folder = tmp_path / f"v{version}-{tier}"
    shutil.copytree(EVIDENCE_DIR / "approved", folder)
    for name in ("approvals.json", "history.json"):
        (folder / name).unlink()
    written = yaml.safe_load((folder / "model_card.yaml").read_text())
    written.update(name=MODEL, version=version, risk_tier=tier)
    for field, value in card.items():
        if value is None:
            written.pop(field)
        else:
            written[field] = value
    (folder / "model_card.yaml").write_text(yaml.safe_dump(written))
    lineage = json.loads((folder / "lineage.json").read_text())
    lineage["artifact_digest"] = "sha256:" + f"{int(version):064x}"
    (folder / "lineage.json").write_text(json.dumps(lineage))
    return folder


def decide(home: Path, folder: Path) -> tuple[int, dict[str, Any]]:
    command = ["decide", "promotion", "--evidence", str(folder), "--to", "staging"]
    run = mlgate(home, *command, "--format", "json")
    assert run.returncode in (0, 1), run.stdout + run.stderr
    decided: dict[str, Any] = json.loads(run.stdout)
    return run.returncode, decided


def codes(decision: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in decision["reasons"]]


def tier_set(home: Path, tier: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    command = ["tier", "set", "--model", MODEL, "--tier", tier, "--reason", "MRV-2026-131 read"]
    return mlgate(home, *command, *args, **{**OFFICER, **env})


def test_a_tier_is_changed_both_ways_by_a_signed_change_and_never_by_a_card(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    # An invalid card (no owner) is denied and records no tier: a later low card is not lowered.
    code, invalid = decide(home, evidence(tmp_path, "1", "high", owner=None))
    assert code == 1 and invalid["model"]["records_tier"] is False, invalid
    code, judged = decide(home, evidence(tmp_path, "2", "medium"))
    assert code == 0, judged
    assert judged["model"]["risk_tier"] == "medium"

    raised = tier_set(home, "high")
    assert raised.returncode == 0, raised.stderr
    up = json.loads(raised.stdout)
    assert (up["tier"], up["from_tier"], up["role"]) == ("high", "medium", "model-risk-officer")
    shown = mlgate(home, "tier", "show", "--model", MODEL)
    assert shown.stdout.startswith(f"{MODEL}: high (set by tier change {up['id']}"), shown.stdout

    code, held = decide(home, evidence(tmp_path, "3", "medium"))
    assert (code, codes(held), held["model"]["risk_tier"]) == (1, ["RISK_TIER_LOWERED"], "high")

    lowered = tier_set(home, "low", "--as", "model-risk-officer")
    assert lowered.returncode == 0, lowered.stderr
    code, allowed = decide(home, evidence(tmp_path, "4", "low"))
    assert (code, allowed["model"]["risk_tier"]) == (0, "low"), allowed

    history = mlgate(home, "history", "--model", MODEL, "--format", "json")
    changes = json.loads(history.stdout)["tier_changes"]
    assert [(c["from_tier"], c["tier"]) for c in changes] == [("high", "low"), ("medium", "high")]
    text = mlgate(home, "history", "--model", MODEL).stdout.splitlines()
    assert "risk tier  high -> low  by cro@example.com as model-risk-officer" in text[0]
    assert "risk tier  medium -> high" in text[1]
    assert mlgate(home, "audit", "verify").returncode == 0


def test_a_tier_change_refused_says_why(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    decide(home, evidence(tmp_path, "1", "medium"))  # asked for by ci-pipeline

    bad_tier = tier_set(home, "critical")
    bad_role = tier_set(home, "low", "--as", "data-steward")
    by_the_gated = tier_set(home, "low", MLGATE_CALLER_ID="ci-pipeline")

    assert bad_tier.returncode == 2
    assert "--tier: expected one of low, medium, high; found 'critical'" in bad_tier.stderr
    assert bad_role.returncode == 2
    assert (
        "--as: a risk tier may be changed as model-risk-officer (tier_changes.allowed_roles in "
        "the promotion data); found 'data-steward'"
    ) in bad_role.stderr
    assert by_the_gated.returncode == 2
    assert "ci-pipeline requested a decision on tiered-cli" in by_the_gated.stderr
    assert "Traceback" not in bad_tier.stderr + bad_role.stderr + by_the_gated.stderr
    history = json.loads(mlgate(home, "history", "--model", MODEL, "--format", "json").stdout)
    assert history["tier_changes"] == []


def test_the_same_tier_change_again_records_nothing_and_says_so(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    decide(home, evidence(tmp_path, "1", "medium"))
    first = tier_set(home, "high")
    assert (first.returncode, first.stderr) == (0, ""), first.stderr
    change = json.loads(first.stdout)

    again = tier_set(home, "high")

    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == change
    assert again.stderr == (
        f"mlgate: {MODEL}'s tier of record is high by this very change already: tier change "
        f"{change['id']}, by cro@example.com as model-risk-officer at {change['changed_at']} "
        f"(record {change['record']}); nothing new was recorded\n"
    )
    history = mlgate(home, "history", "--model", MODEL, "--format", "json")
    assert [c["id"] for c in json.loads(history.stdout)["tier_changes"]] == [change["id"]]
