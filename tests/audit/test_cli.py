"""`mlgate keys init` and `mlgate audit ...` as a person or a CI job runs them."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from service.audit.ledger import Ledger, open_ledger
from service.decision.judge import Judge
from service.decision.model import Decision
from service.decision.recording import pending_decision
from service.review.revisions import keep_revision
from service.settings import get_settings
from tests.audit.factory import make_decision, record_many
from tests.audit.test_tampering import flip_char
from tests.inprocess_cli import Mlgate, ledger_path, mlgate

__all__ = ["Mlgate", "ledger_path", "mlgate"]  # test_dsse_spec imports them from here


@pytest.fixture
def recorded(mlgate: Mlgate) -> Iterator[Ledger]:
    """The default ledger under MLGATE_HOME with 5 decisions in it."""
    with open_ledger(get_settings()) as ledger:
        record_many(ledger, 5)
        yield ledger


def test_keys_init_writes_the_key_files_and_names_them(mlgate: Mlgate, tmp_path: Path) -> None:
    run = mlgate("keys", "init", "--dir", str(tmp_path / "k"))
    assert run.code == 0
    assert (tmp_path / "k" / "signing.pem").exists()
    assert "key id" in run.out and str(tmp_path / "k" / "keyring.json") in run.out
    again = mlgate("keys", "init", "--dir", str(tmp_path / "k"))
    assert again.code == 2 and "--rotate" in again.err


def test_the_first_decision_creates_the_default_key_and_says_where(
    mlgate: Mlgate, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_ledger(get_settings()):
        pass
    assert "created an Ed25519 signing key at" in capsys.readouterr().err


def test_verify_passes_a_clean_ledger_with_a_summary(recorded: Ledger, mlgate: Mlgate) -> None:
    run = mlgate("audit", "verify")
    assert (run.code, run.out.strip()) == (
        0,
        "5/5 records valid (5 decisions); chain intact from seq 1 to 5; "
        "no checkpoint to compare, so a removed tail would go unnoticed",
    )


def test_verify_fails_and_names_the_seq_of_a_tampered_record(
    recorded: Ledger, mlgate: Mlgate
) -> None:
    tampered = flip_char(recorded.get_seq(3).envelope, "sig", 5)
    with sqlite3.connect(ledger_path()) as conn:
        conn.execute("UPDATE records SET envelope = ? WHERE seq = 3", (tampered,))
    run = mlgate("audit", "verify")
    assert run.code == 1
    lines = run.out.splitlines()
    assert lines[0].startswith("seq 3: bad signature: ")
    assert lines[1].startswith("seq 4: bad prev hash: ")
    assert lines[-1] == (
        "3/5 records valid (5 decisions); 2 problems: 1 bad prev hash, 1 bad signature"
    )
    report = json.loads(mlgate("audit", "verify", "--format", "json").out)
    assert [(p["seq"], p["kind"]) for p in report["problems"]] == [
        (3, "bad signature"),
        (4, "bad prev hash"),
    ]


def test_an_export_holds_the_stored_bytes_and_verifies_on_its_own(
    recorded: Ledger, mlgate: Mlgate, tmp_path: Path
) -> None:
    export = tmp_path / "ledger.jsonl"
    assert mlgate("audit", "export", "--format", "jsonl", "--output", str(export)).code == 0
    assert export.read_bytes() == b"".join(e + b"\n" for e in recorded.envelopes())
    run = mlgate("audit", "verify", "--file", str(export), "--progress")
    assert run.code == 0 and run.out.startswith("5/5 records valid")
    assert "verifying [" in run.err and "5/5" in run.err


def test_a_checkpoint_kept_aside_catches_a_truncated_export(
    recorded: Ledger, mlgate: Mlgate, tmp_path: Path
) -> None:
    checkpoint, export = tmp_path / "checkpoint.json", tmp_path / "ledger.jsonl"
    assert mlgate("audit", "checkpoint", "--output", str(checkpoint)).code == 0
    mlgate("audit", "export", "--output", str(export))
    export.write_bytes(b"".join(export.read_bytes().splitlines(keepends=True)[:3]))
    assert mlgate("audit", "verify", "--file", str(export)).code == 0
    run = mlgate("audit", "verify", "--file", str(export), "--checkpoint", str(checkpoint))
    assert run.code == 1
    assert run.out.startswith("seq 4: truncated: the checkpoint of 5 records signed at")
    assert run.out.rstrip().endswith("; 1 problem: 1 truncated"), run.out


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (b"garbage\n", "found text that is not JSON ('garbage')"),
        (b"", "found an empty file"),
        (b"[1, 2]\n", "found JSON that is not a checkpoint (expected a JSON object, found list)"),
    ],
    ids=["text", "empty", "a JSON list"],
)
def test_a_checkpoint_file_that_is_not_a_checkpoint_is_a_usage_error_naming_the_flag(
    recorded: Ledger, mlgate: Mlgate, tmp_path: Path, content: bytes, found: str
) -> None:
    given = tmp_path / "g.jsonl"
    given.write_bytes(content)

    run = mlgate("audit", "verify", "--checkpoint", str(given))

    assert run.code == 2, run.out + run.err
    assert run.out == ""
    assert run.err.startswith(f"mlgate: error: --checkpoint: {given} is not a checkpoint: ")
    assert "expected one signed checkpoint as `mlgate audit checkpoint` writes it" in run.err
    assert run.err.rstrip().endswith(found), run.err


def test_a_record_given_as_a_checkpoint_is_a_usage_error_naming_its_payload_type(
    recorded: Ledger, mlgate: Mlgate, tmp_path: Path
) -> None:
    given = tmp_path / "record.json"
    given.write_bytes(next(iter(recorded.envelopes())))

    run = mlgate("audit", "verify", "--checkpoint", str(given))

    assert run.code == 2, run.out + run.err
    assert "found JSON that is not a checkpoint (payloadType is " in run.err, run.err


def test_a_missing_checkpoint_file_is_a_usage_error_naming_the_flag(
    recorded: Ledger, mlgate: Mlgate, tmp_path: Path
) -> None:
    run = mlgate("audit", "verify", "--checkpoint", str(tmp_path / "gone.json"))

    assert run.code == 2
    assert run.err.startswith(f"mlgate: error: --checkpoint: no file at {tmp_path / 'gone.json'}")


def test_a_well_formed_checkpoint_whose_signature_fails_stays_a_verification_problem(
    recorded: Ledger, mlgate: Mlgate, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "checkpoint.json"
    assert mlgate("audit", "checkpoint", "--output", str(checkpoint)).code == 0
    envelope = json.loads(checkpoint.read_bytes())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["size"] = 4  # a checkpoint claiming fewer records than were signed
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    checkpoint.write_text(json.dumps(envelope))

    run = mlgate("audit", "verify", "--checkpoint", str(checkpoint))

    assert run.code == 1, run.out + run.err
    assert "bad checkpoint: the checkpoint " in run.out, run.out
    assert "does not verify" in run.out, run.out


def test_show_presents_one_decision_for_a_person(recorded: Ledger, mlgate: Mlgate) -> None:
    record = recorded.get_seq(2)
    run = mlgate("audit", "show", record.decision_id)
    assert run.code == 0
    header = [line for line in run.out.splitlines() if not line.startswith(" ") and "  " in line]
    fields = dict(line.split(None, 1) for line in header)
    assert fields["outcome"] == "DENY"
    assert fields["gate"] == "promotion"
    assert fields["model"] == "fraud-detector version 7"
    assert fields["caller"] == "ci-pipeline (role gate)"
    assert fields["seq"].startswith("2 (prev ")
    assert fields["signature"].startswith(f"key {record.keyid}: valid")
    assert "  - [high] METRIC_BELOW_FLOOR: auc 0.71 is below the high-risk floor 0.80" in run.out
    assert mlgate("audit", "show", "2").out == run.out


def test_show_of_an_unknown_id_says_there_is_no_such_record(
    recorded: Ledger, mlgate: Mlgate
) -> None:
    """show reads a record of any kind, so the error names no kind."""
    run = mlgate("audit", "show", "no-such-id")
    assert run.code == 2 and "no record with id 'no-such-id'" in run.err, run.err
    assert "no decision" not in run.err, run.err


def test_verify_without_a_ledger_says_where_it_looked(mlgate: Mlgate) -> None:
    mlgate("keys", "init")
    run = mlgate("audit", "verify")
    assert run.code == 2 and "no audit ledger at" in run.err


def _recorded_with_its_revision(gatekeeper: Judge, input_doc: dict[str, Any]) -> Decision:
    """A decision recorded as every entry point records one: its revision kept first."""
    decision = gatekeeper.evaluate(input_doc)
    with open_ledger(get_settings()) as ledger:
        keep_revision(ledger, gatekeeper.engine.policy_set)
        ledger.record(pending_decision(decision, input_doc))
    return decision


def test_reproduce_finds_the_same_outcome_under_the_same_policies(
    mlgate: Mlgate, gatekeeper: Judge, approved_input: dict[str, Any]
) -> None:
    decision = _recorded_with_its_revision(gatekeeper, approved_input)
    run = mlgate("audit", "reproduce", decision.decision_id)
    assert run.code == 0, run.err
    assert f"recorded  {decision.outcome} at" in run.out
    assert f"policies  as recorded: revision {decision.policy_revision}" in run.out
    assert run.out.rstrip().endswith("result    same outcome")


def test_reproduce_under_the_current_policies_names_the_revision_a_record_was_made_under(
    mlgate: Mlgate,
    gatekeeper: Judge,
    approved_input: dict[str, Any],
    policy_copy: Callable[[], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decision = _recorded_with_its_revision(gatekeeper, approved_input)
    policies = policy_copy()
    rego = next(policies.rglob("*.rego"))
    rego.write_text(rego.read_text() + "\n# edited after the decision was recorded\n")
    monkeypatch.setenv("MLGATE_POLICY_DIR", str(policies))
    get_settings.cache_clear()
    run = mlgate("audit", "reproduce", "2", "--current-policies")
    assert f"the record was made under revision {decision.policy_revision}" in run.out
    assert run.code == 0 and "same outcome" in run.out


def test_reproduce_uses_the_recorded_revision_after_a_policy_change(
    mlgate: Mlgate,
    gatekeeper: Judge,
    approved_input: dict[str, Any],
    policy_copy: Callable[[], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The files restored from the ledger decide, not the directory: the production auc floor
    raised since would deny, and the recorded revision still allows."""
    decision = _recorded_with_its_revision(gatekeeper, approved_input)
    assert decision.outcome == "allow"
    policies = policy_copy()
    config = policies / "data" / "promotion.yaml"
    raised = config.read_text().replace("floors: {auc: 0.90,", "floors: {auc: 0.99,")
    assert raised != config.read_text()
    config.write_text(raised)
    monkeypatch.setenv("MLGATE_POLICY_DIR", str(policies))
    get_settings.cache_clear()

    recorded = mlgate("audit", "reproduce", decision.decision_id)
    today = mlgate("audit", "reproduce", decision.decision_id, "--current-policies")

    assert recorded.code == 0, recorded.err
    assert f"policies  as recorded: revision {decision.policy_revision}" in recorded.out
    assert "now       allow at" in recorded.out
    assert today.code == 1
    assert "result    outcome changed: allow -> deny" in today.out


def test_reproduce_of_a_decision_whose_revision_is_not_kept_says_how_to_proceed(
    mlgate: Mlgate, gatekeeper: Judge, approved_input: dict[str, Any]
) -> None:
    decision = gatekeeper.evaluate(approved_input)
    with open_ledger(get_settings()) as ledger:  # a ledger older than revision records
        ledger.record(pending_decision(decision, approved_input))

    run = mlgate("audit", "reproduce", decision.decision_id)

    assert run.code == 2
    assert f"no policy revision {decision.policy_revision} is on record" in run.err
    assert "--current-policies" in run.err


def test_a_record_with_an_unknown_input_cannot_be_reproduced(mlgate: Mlgate) -> None:
    decision, doc = make_decision()
    with open_ledger(get_settings()) as ledger:
        ledger.record(pending_decision(decision, doc))
    with sqlite3.connect(ledger_path()) as conn:
        conn.execute("DELETE FROM record_inputs")
    run = mlgate("audit", "reproduce", decision.decision_id)
    assert run.code == 2 and f"no input document of record 1 ({decision.input_digest})" in run.err


def test_show_presents_a_policy_revision_one_file_a_line(mlgate: Mlgate, gatekeeper: Judge) -> None:
    """A record holding a list (a policy revision's files) is shown a line per item, each
    object as `key: value` pairs, never as the program's own notation of a list."""
    policy_set = gatekeeper.engine.policy_set
    with open_ledger(get_settings()) as ledger:
        keep_revision(ledger, policy_set)

    run = mlgate("audit", "show", policy_set.revision)

    assert run.code == 0, run.err
    assert "[{" not in run.out and "{'" not in run.out, run.out
    lines = run.out.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("files "))
    files = lines[first : first + len(policy_set.files)]
    shown = [line[len("files  ") :] for line in files]
    assert all(line.startswith(" " * len("files  ")) for line in files[1:]), run.out
    assert [line.split("path: ", 1)[1].split(";")[0] for line in shown] == sorted(policy_set.files)
    assert all("digest: sha256:" in line and "size: " in line for line in shown), run.out
