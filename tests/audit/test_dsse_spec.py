"""Finding 7: the verifier accepts what the DSSE spec allows, and names each problem once,
pointing at the file at fault."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path

from service.audit.envelope import PAYLOAD_TYPE, open_envelope
from service.audit.keys import KeyFiles, Keyring, init_keys, load_keyring, load_signing_key
from service.audit.ledger import Ledger
from service.audit.verify import verify_envelopes
from service.settings import get_settings
from tests.audit.factory import StoreFactory, record_many
from tests.audit.test_cli import Mlgate, ledger_path, mlgate, recorded

__all__ = ["mlgate", "recorded"]


def rewrite(raw: bytes, change: str) -> bytes:
    """The same envelope written another way the DSSE spec allows."""
    document = json.loads(raw)
    signature = document["signatures"][0]
    if change == "url-safe":
        for holder, name in ((document, "payload"), (signature, "sig")):
            decoded = base64.b64decode(holder[name])
            holder[name] = base64.urlsafe_b64encode(decoded).decode().rstrip("=")
    elif change == "no keyid":
        del signature["keyid"]
    return json.dumps(document).encode()


def test_url_safe_base64_without_padding_verifies(ledger: Ledger, keyring: Keyring) -> None:
    record_many(ledger, 3)
    export = list(ledger.envelopes())
    rewritten = [rewrite(raw, "url-safe") for raw in export]
    assert any(b"-" in r or b"_" in r for r in rewritten)  # the alphabets do differ here

    # The chain links the stored bytes, so only the last record can be re-encoded alone.
    report = verify_envelopes([*export[:2], rewritten[2]], keyring)

    assert report.ok, report.problems
    assert open_envelope(rewritten[0]).payload == open_envelope(export[0]).payload


def test_an_envelope_without_a_keyid_verifies_against_the_keyring(
    ledger: Ledger, keyring: Keyring
) -> None:
    record_many(ledger, 2)
    export = list(ledger.envelopes())

    report = verify_envelopes([export[0], rewrite(export[1], "no keyid")], keyring)

    assert report.ok, report.problems


def test_a_signature_without_keyid_or_sig_is_named_not_a_raw_key_error() -> None:
    raw = json.dumps(
        {"payload": "e30", "payloadType": PAYLOAD_TYPE, "signatures": [{"keyid": "k"}]}
    ).encode()
    report = verify_envelopes([raw], Keyring([]))

    assert "signatures[0].sig must be a base64 string" in report.problems[0].message


def test_a_kept_checkpoint_the_ledger_also_stored_is_reported_once(
    recorded: Ledger, mlgate: Mlgate, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "cp.json"
    assert mlgate("audit", "checkpoint", "--output", str(checkpoint)).code == 0
    with sqlite3.connect(ledger_path()) as conn:
        conn.execute("DELETE FROM records WHERE seq = 5")

    run = mlgate("audit", "verify", "--checkpoint", str(checkpoint))

    problems = run.out.splitlines()[:-1]
    assert run.code == 1
    assert len(problems) == len(set(problems)) == 1, problems
    assert problems[0].startswith("seq 5: truncated: ")


def test_a_history_re_signed_under_a_replaced_keyring_blames_the_keyring(
    recorded: Ledger, mlgate: Mlgate, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "cp.json"
    assert mlgate("audit", "checkpoint", "--output", str(checkpoint)).code == 0
    # An attacker with the database and the key directory: a new key, a new keyring, and every
    # record and stored checkpoint re-signed with it.
    settings = get_settings()
    files = KeyFiles.from_settings(settings)
    files.keyring.unlink()
    files.private_key.unlink()
    init_keys(files)
    key = load_signing_key(files.private_key)
    with sqlite3.connect(ledger_path()) as conn:
        conn.execute("DELETE FROM records")
        conn.execute("DELETE FROM record_inputs")
        conn.execute("DELETE FROM checkpoints")
    with StoreFactory("sqlite", ledger_path()).ledger(files) as forged:
        record_many(forged, 5)
    assert load_keyring(files.keyring).get(key.keyid) is not None

    run = mlgate("audit", "verify", "--checkpoint", str(checkpoint))

    assert run.code == 1
    lines = run.out.splitlines()
    assert lines[0].startswith("seq 5: keyring mismatch: the checkpoint ")
    assert str(checkpoint) in lines[0]
    assert "keyring was replaced" in lines[0]
    assert "bad checkpoint" not in run.out
