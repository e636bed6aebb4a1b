"""A ledger whose tail was cut off refuses every append (Ledger._check_chain_kept), and the
readiness probe runs that check: /readyz is unavailable while every decision would be a 503."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.api.conftest import in_process, request_body


def test_readyz_is_unavailable_while_every_append_is_refused_as_a_cut(tmp_path: Path) -> None:
    with in_process(tmp_path / "home", fast_path=True) as api:
        assert api.decide(request_body()).status_code == 200
        with sqlite3.connect(api.settings.home / "ledger.sqlite3") as db:
            db.execute("DELETE FROM records WHERE seq = (SELECT max(seq) FROM records)")

        ready = api.client.get("/readyz")
        refused = api.decide(request_body())

    assert refused.status_code == 503, refused.text
    assert ready.status_code == 503, ready.text
