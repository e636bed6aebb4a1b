"""Key rotation: old records keep verifying inside their key's window; later ones are reported."""

from __future__ import annotations

import json

from service.audit.keys import KeyFiles, init_keys, load_keyring, load_signing_key
from service.audit.ledger import Ledger
from tests.audit.factory import StoreFactory, record_many
from tests.audit.test_tampering import kinds_by_seq


def test_records_signed_before_a_rotation_still_verify(ledger: Ledger, key_files: KeyFiles) -> None:
    old = load_signing_key(key_files.private_key).keyid
    record_many(ledger, 3)
    new = init_keys(key_files, rotate=True).keyid
    record_many(ledger, 3, start=3)
    keyids = [ledger.get_seq(seq).keyid for seq in range(1, 7)]
    assert keyids == [old] * 3 + [new] * 3
    report = ledger.verify(load_keyring(key_files.keyring))
    assert report.ok, report.problems


def test_a_record_signed_after_its_key_expired_is_reported(
    stores: StoreFactory, key_files: KeyFiles
) -> None:
    with stores.ledger(key_files) as ledger:
        record_many(ledger, 5)
        cutoff = ledger.get_seq(4).recorded_at
        # The verifier's keyring says the key was retired at seq 4's time: 4 and 5 came after.
        document = json.loads(key_files.keyring.read_text())
        document["keys"][0]["valid_until"] = cutoff
        key_files.keyring.write_text(json.dumps(document))
        report = ledger.verify(load_keyring(key_files.keyring))
    assert kinds_by_seq(report) == {4: {"key not valid"}, 5: {"key not valid"}}
    assert f"recorded at {cutoff}" in report.problems[0].message
    assert f".. {cutoff}" in report.problems[0].message  # the window it fell outside
