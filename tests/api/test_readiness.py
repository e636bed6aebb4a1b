"""/readyz says whether a record can be written now. Besides the free-space floor (test_health.py)
two signals decide: how the last decision's write went, and a probe write. Each is met here by
a real failure of the app's own ledger, SQLite or PostgreSQL, and each clears once records can
be written again."""

from __future__ import annotations

import contextlib
import resource
import signal
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
import pytest

from service.api.app import create_app
from service.api.auth import add_token
from service.settings import Settings
from tests.api.conftest import request_body
from tests.conftest import POSTGRES_URL

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

LAST_WRITE = "the last decision could not be recorded: could not write the audit record to the"
PROBE_REFUSED = "could not write the audit record to the SQLite ledger"
GRANT = "grant this role INSERT/UPDATE on the ledger tables (and CREATE on the schema)"


@contextlib.contextmanager
def app_serving(settings: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The app over `settings` in this process, with a `gate` token's headers."""
    token = add_token(settings.resolved_tokens_file, "ci", "gate")
    app = create_app(settings, engines=1)
    try:
        with TestClient(app) as client:
            yield client, {"Authorization": f"Bearer {token}"}
    finally:
        app.state.runtime.close()


def decide(client: TestClient, headers: dict[str, str]) -> Any:
    return client.post("/v1/decisions/promotion", json=request_body(), headers=headers)


def ledger_readiness(client: TestClient, headers: dict[str, str]) -> tuple[int, str]:
    """/readyz's status and its ledger check, asked with `headers`' token (only a token's
    holder is told why a check fails)."""
    response = client.get("/readyz", headers=headers)
    return response.status_code, response.json()["checks"]["ledger"]


@contextlib.contextmanager
def files_cannot_grow() -> Iterator[None]:
    """No file this process writes can grow, as on a full disk: a write past a file's end fails
    (EFBIG) as it would with ENOSPC, in SQLite's log as in the probe's file. Running as root
    does not lift it, unlike a read-only directory. It holds for the whole process, so only a
    request or two is made under it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG from write(), not death
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "route"])
def test_a_decision_the_disk_refused_keeps_it_unready_until_a_record_is_written(
    tmp_path: Path, fast_path: bool
) -> None:
    with app_serving(Settings(home=tmp_path, fast_path=fast_path)) as (client, headers):
        assert ledger_readiness(client, headers) == (200, "ok")
        with files_cannot_grow():
            refused = decide(client, headers)
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"] == "audit_write_failed"

        # The disk has room again: the chain lock, the free space and the probe write all
        # pass, so only the last write's outcome can say a record just failed to be written.
        status, why = ledger_readiness(client, headers)
        assert status == 503
        assert why.startswith(f"{LAST_WRITE} SQLite ledger <the ledger file> (disk I/O"), why
        assert "(disk I/O error)" in why
        assert why.endswith(
            "the disk refused the write (full, over quota or failing); check free space"
        )

        assert decide(client, headers).status_code == 200
        assert ledger_readiness(client, headers) == (200, "ok")


def test_a_probe_write_that_fails_makes_it_unready_until_it_succeeds(tmp_path: Path) -> None:
    with app_serving(Settings(home=tmp_path)) as (client, headers):
        assert ledger_readiness(client, headers) == (200, "ok")
        # No decision has failed, and taking the chain lock writes nothing: only the probes
        # (a record's rows rolled back, a write with fsync beside the ledger) meet the full disk.
        with files_cannot_grow():
            status, why = ledger_readiness(client, headers)
        assert status == 503
        assert why.startswith(PROBE_REFUSED), why
        assert "check free space" in why
        assert ledger_readiness(client, headers) == (200, "ok")
        assert sorted(path.name for path in tmp_path.glob(".mlgate-ready-probe-*")) == []


def test_once_the_hold_is_over_the_probe_write_decides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An instance taken out of rotation after a failed write is sent no decisions, so no
    # success clears the failure: the probe must bring it back once the disk has room.
    with app_serving(Settings(home=tmp_path)) as (client, headers):
        with files_cannot_grow():
            assert decide(client, headers).status_code == 503
            assert "check free space" in ledger_readiness(client, headers)[1]
            # The hold over, as FAILURE_HOLD_SECONDS later (waiting it out adds only time).
            monkeypatch.setattr("service.api.readiness.FAILURE_HOLD_SECONDS", 0.0)
            status, why = ledger_readiness(client, headers)
        assert status == 503
        assert why.startswith(PROBE_REFUSED), why

        assert ledger_readiness(client, headers) == (200, "ok")


@pytest.fixture
def postgres_writer(postgres_url: str) -> Iterator[tuple[str, psycopg.Connection[Any], str]]:
    """The test's schema as a role that is no superuser, so privileges bind it: its URL, a
    superuser connection with the schema on its search_path, and the role's name.

    The role is set with `-c role=` (the session user stays the test's), so the server's
    authentication rules need not know it; the test's user must be able to create roles.
    """
    parts = urlsplit(postgres_url)
    query = dict(parse_qsl(parts.query))
    schema = query["application_name"]
    role = f"{schema}_writer"
    query["options"] += f" -crole={role}"
    url = urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role}")
        try:
            admin.execute(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {role}")
            admin.execute(f"SET search_path = {schema}")
            yield url, admin, role
        finally:
            admin.execute(f"DROP OWNED BY {role}")  # the ledger's tables, which it created
            admin.execute(f"DROP ROLE {role}")


def test_postgresql_a_refused_record_keeps_it_unready_until_a_record_is_written(
    tmp_path: Path, postgres_writer: tuple[str, psycopg.Connection[Any], str]
) -> None:
    url, admin, role = postgres_writer
    with app_serving(Settings(home=tmp_path, ledger_url=url)) as (client, headers):
        assert ledger_readiness(client, headers) == (200, "ok")
        admin.execute(f"REVOKE INSERT ON records FROM {role}")
        refused = decide(client, headers)
        assert refused.status_code == 503, refused.text
        assert "permission denied for table records" in refused.json()["message"]
        admin.execute(f"GRANT INSERT ON records TO {role}")

        # The role may insert again, so whatever readiness tries itself passes: only the last
        # write's outcome can say a record just failed.
        status, why = ledger_readiness(client, headers)
        assert status == 503
        assert why.startswith(f"{LAST_WRITE} PostgreSQL ledger "), why
        assert "(permission denied for table records)" in why
        assert why.endswith(GRANT)

        assert decide(client, headers).status_code == 200
        assert ledger_readiness(client, headers) == (200, "ok")


# Two ways a server refuses a record while the chain lock is still granted: each is made, then
# undone.
REFUSALS = {
    "revoked-insert": (
        "REVOKE INSERT ON records FROM {role}",
        "GRANT INSERT ON records TO {role}",
        "(permission denied for table records)",
        GRANT,
    ),
    "trigger": (
        "CREATE FUNCTION refuse_records() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'records are frozen for maintenance'; END $$; "
        "CREATE TRIGGER refuse_records BEFORE INSERT ON records "
        "FOR EACH ROW EXECUTE FUNCTION refuse_records()",
        "DROP TRIGGER refuse_records ON records",
        "(records are frozen for maintenance)",
        "see the PostgreSQL log",
    ),
}


@pytest.mark.parametrize("refusal", REFUSALS)
def test_postgresql_a_probe_write_the_server_refuses_makes_it_unready(
    tmp_path: Path, postgres_writer: tuple[str, psycopg.Connection[Any], str], refusal: str
) -> None:
    url, admin, role = postgres_writer
    refuse, allow, cause, hint = REFUSALS[refusal]
    with app_serving(Settings(home=tmp_path, ledger_url=url)) as (client, headers):
        assert ledger_readiness(client, headers) == (200, "ok")
        # What start-up recorded: the policy revision in force, with its files.
        records = admin.execute("SELECT count(*) FROM records").fetchone()
        inputs = admin.execute(
            "SELECT (SELECT count(*) FROM inputs), (SELECT count(*) FROM record_inputs)"
        ).fetchone()
        admin.execute(refuse.format(role=role))

        # No decision has been sent: what readiness writes must meet the refusal itself.
        status, why = ledger_readiness(client, headers)
        assert status == 503
        assert why.startswith("could not write the audit record to the PostgreSQL ledger "), why
        assert cause in why
        assert why.endswith(hint)

        admin.execute(allow.format(role=role))
        assert ledger_readiness(client, headers) == (200, "ok")
        # The probes left nothing behind: the first decision follows the revision's record.
        assert records == (1,)
        assert admin.execute("SELECT count(*) FROM records").fetchone() == records
        assert (
            admin.execute(
                "SELECT (SELECT count(*) FROM inputs), (SELECT count(*) FROM record_inputs)"
            ).fetchone()
            == inputs
        )
        assert decide(client, headers).json()["audit"]["seq"] == 2


def test_postgresql_a_password_in_the_ledger_urls_query_is_never_answered(
    tmp_path: Path, postgres_writer: tuple[str, psycopg.Connection[Any], str]
) -> None:
    """libpq takes a password as a query parameter of the URL (`?password=`, `sslpassword=`
    for the client key's passphrase) as well as in its user part. Seen: the ledger's
    description kept the query as written, so a refused record put the password in the gate's
    503 and in /readyz, which any client may ask without a token. Expected: neither names it."""
    url, admin, role = postgres_writer
    secret = "hunter2-in-the-query"
    with_password = f"{url}&password={secret}&sslpassword={secret}-key"
    with app_serving(Settings(home=tmp_path, ledger_url=with_password)) as (client, headers):
        admin.execute(f"REVOKE INSERT ON records FROM {role}")
        refused = decide(client, headers)
        status, why = ledger_readiness(client, headers)
        admin.execute(f"GRANT INSERT ON records TO {role}")

    assert refused.status_code == 503, refused.text
    assert "PostgreSQL ledger" in refused.json()["message"]
    assert secret not in refused.text
    assert status == 503
    assert "PostgreSQL ledger" in why
    assert secret not in why


def test_postgresql_the_ledgers_url_is_named_by_its_setting_to_clients(
    tmp_path: Path, postgres_writer: tuple[str, psycopg.Connection[Any], str]
) -> None:
    """A SQLite ledger is named to clients as `<the ledger file>`, never by its path; a
    PostgreSQL ledger was named by its URL, user, host, port, database and options: a reporter
    token (the least a token may do) asking for a policy revision not on record, or asking
    /readyz while records are refused, learnt where the service's database is. Expected: the
    setting's name, MLGATE_LEDGER_URL, in its place."""
    url, admin, role = postgres_writer
    settings = Settings(home=tmp_path, ledger_url=url)
    with app_serving(settings) as (client, _):
        reporter = add_token(settings.resolved_tokens_file, "prometheus", "reporter")
        as_reporter = {"Authorization": f"Bearer {reporter}"}
        missing = client.get("/v1/policies/sha256:" + "0" * 64, headers=as_reporter)
        admin.execute(f"REVOKE INSERT ON records FROM {role}")
        status, why = ledger_readiness(client, as_reporter)
        admin.execute(f"GRANT INSERT ON records TO {role}")

    where = urlsplit(url)
    assert missing.status_code == 404, missing.text
    assert "PostgreSQL ledger $MLGATE_LEDGER_URL" in missing.json()["message"]
    assert status == 503
    assert "PostgreSQL ledger $MLGATE_LEDGER_URL" in why
    for answer in (missing.text, why):
        assert str(where.netloc) not in answer
        assert where.query not in answer
