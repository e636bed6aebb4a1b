"""The review page over plain HTTP: the session cookie's attributes, the roles refused,
cross-site sign-in and sign-out refused, sessions ended by sign-out, by revoking the token and
by time, the bearer-token API untouched by the cookie; and /docs, /redoc and the page loading
nothing from another host."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.api.auth import TokenTable, revoke_tokens, token_hash
from service.api.page.sessions import COOKIE, SessionTable
from service.cli.main import main
from service.decision.model import Caller
from service.settings import get_settings
from tests.api.conftest import TOKEN_IDS, Api, in_process, request_body
from tests.conftest import EVIDENCE_DIR

SITE = "http://testserver"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with in_process(tmp_path_factory.mktemp("mlgate-home"), fast_path=True) as served:
        assert served.decide(request_body()).json()["outcome"] == "allow"
        assert served.decide(request_body("canary")).json()["outcome"] == "allow"
        denied = served.decide(request_body(metrics={"values": {}})).json()
        assert denied["outcome"] == "deny"
        yield served


@pytest.fixture(autouse=True)
def no_cookies(api: Api) -> None:
    api.client.cookies.clear()


def sign_in(api: Api, token: str, origin: str | None = SITE, **form: str) -> Any:
    headers = {"Origin": origin} if origin else {}
    return api.client.post(
        "/review/sign-in",
        data={"token": token, **form},
        headers=headers,
        follow_redirects=False,
    )


def set_cookie(response: Any) -> str:
    [cookie] = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    return str(cookie)


def session_of(response: Any) -> str:
    """The session id the sign-in `response` set."""
    return set_cookie(response).split(";")[0].split("=", 1)[1]


def use(api: Api, session_id: str) -> None:
    """Send `session_id` as the session cookie from now on, as a browser keeps it."""
    api.client.cookies.clear()
    api.client.cookies.set(COOKIE, session_id)


def problem(response: Any) -> str:
    [text] = re.findall(r'id="problem">([^<]*)<', response.text)
    return text.replace("&#39;", "'")


def test_an_auditor_token_opens_a_session_held_in_an_httponly_strict_cookie(api: Api) -> None:
    token = api.tokens["auditor"]

    response = sign_in(api, token, next="/review?outcome=allow")

    assert response.status_code == 303
    assert response.headers["location"] == "/review?outcome=allow"
    cookie = set_cookie(response)
    attributes = [part.strip() for part in cookie.split(";")]
    name, value = attributes[0].split("=", 1)
    assert name == COOKIE
    assert token not in cookie and token_hash(token) not in cookie
    assert len(value) >= 43  # 256 random bits, URL-safe base64
    assert set(attributes[1:]) == {
        "HttpOnly",
        "Max-Age=28800",
        "Path=/review",
        "SameSite=strict",
    }
    api.client.cookies.set(COOKIE, value)
    page = api.client.get("/review?outcome=allow")
    assert page.status_code == 200
    assert "reviewer (auditor)" in page.text


def test_over_tls_the_cookie_is_secure(api: Api) -> None:
    api.client.base_url = "https://testserver"  # type: ignore[assignment,union-attr]
    try:
        response = sign_in(api, api.tokens["auditor"], origin="https://testserver")
    finally:
        api.client.base_url = SITE  # type: ignore[assignment,union-attr]
    assert response.status_code == 303
    assert "Secure" in [part.strip() for part in set_cookie(response).split(";")]


def test_an_admin_token_signs_in_too(api: Api) -> None:
    assert sign_in(api, api.tokens["admin"]).status_code == 303


@pytest.mark.parametrize("role", ["gate", "approver", "reporter"])
def test_a_token_of_a_role_that_does_not_read_the_audit_trail_is_refused(
    api: Api, role: str
) -> None:
    response = sign_in(api, api.tokens[role])

    assert response.status_code == 403
    assert "set-cookie" not in response.headers
    assert problem(response) == (
        f"role '{role}' of token '{TOKEN_IDS[role]}' may not do this; it needs 'auditor' or 'admin'"
    )


def test_a_token_matching_none_is_refused(api: Api) -> None:
    response = sign_in(api, "mlg_not-a-token")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="mlgate"'
    assert "set-cookie" not in response.headers
    assert problem(response) == "the token matches no configured token"


def test_a_form_without_a_token_is_refused_saying_what_was_expected(api: Api) -> None:
    response = api.client.post(
        "/review/sign-in", json={"token": api.tokens["auditor"]}, headers={"Origin": SITE}
    )
    assert response.status_code == 422
    assert problem(response) == (
        "expected a form (application/x-www-form-urlencoded) with a token field"
    )


OTHER_SITE = "the form was sent from {!r}, not from this site (http://testserver)"


@pytest.mark.parametrize(
    ("headers", "said"),
    [
        ({"Origin": "http://evil.example"}, OTHER_SITE.format("http://evil.example")),
        ({"Origin": "null"}, OTHER_SITE.format("null")),
        ({"Referer": "http://evil.example/x"}, OTHER_SITE.format("http://evil.example")),
        (
            {},
            "the request says neither where it came from (no Origin header) nor which page "
            "sent it (no Referer header); sign in from the sign-in page of this site",
        ),
    ],
    ids=["other-origin", "opaque-origin", "other-referer", "neither"],
)
def test_a_sign_in_from_another_site_is_refused(
    api: Api, headers: dict[str, str], said: str
) -> None:
    response = api.client.post(
        "/review/sign-in",
        data={"token": api.tokens["auditor"]},
        headers=headers,
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "set-cookie" not in response.headers
    assert problem(response) == said


def test_a_sign_in_naming_only_a_referer_of_this_site_is_accepted(api: Api) -> None:
    response = api.client.post(
        "/review/sign-in",
        data={"token": api.tokens["auditor"]},
        headers={"Referer": f"{SITE}/review/sign-in"},
        follow_redirects=False,
    )
    assert response.status_code == 303


@pytest.mark.parametrize("target", ["//evil.example/review", "https://evil.example", "/v1/audit"])
def test_after_sign_in_only_a_page_of_the_review_is_a_destination(api: Api, target: str) -> None:
    response = sign_in(api, api.tokens["auditor"], next=target)
    assert response.headers["location"] == "/review"


@pytest.mark.parametrize(
    "path",
    ["/review", "/review/verify", "/review/models/fraud-detector", "/review/decisions/x"],
)
def test_a_page_without_a_session_redirects_to_sign_in(api: Api, path: str) -> None:
    response = api.client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/review/sign-in?next=%2Freview")


def test_sign_out_ends_the_session_and_a_cross_site_sign_out_does_not(api: Api) -> None:
    cookie = session_of(sign_in(api, api.tokens["auditor"]))

    use(api, cookie)
    refused = api.client.post("/review/sign-out", headers={"Origin": "http://evil.example"})
    assert refused.status_code == 403
    assert api.client.get("/review", follow_redirects=False).status_code == 200

    out = api.client.post("/review/sign-out", headers={"Origin": SITE}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/review/sign-in"
    assert set_cookie(out).startswith(f'{COOKIE}=""; ') and "Max-Age=0" in set_cookie(out)
    use(api, cookie)  # a browser that kept the old cookie
    again = api.client.get("/review", follow_redirects=False)
    assert again.status_code == 303  # the old id no longer opens anything


def test_the_cookie_is_no_bearer_token_for_the_api(api: Api) -> None:
    use(api, session_of(sign_in(api, api.tokens["auditor"])))

    response = api.client.get("/v1/audit")

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    bearer = api.client.get("/v1/audit", headers=api.headers("auditor"))
    assert bearer.status_code == 200


def test_the_pages_are_read_only(api: Api) -> None:
    assert api.client.post("/review", headers={"Origin": SITE}).status_code == 405


def test_revoking_the_token_ends_its_sessions(tmp_path: Path) -> None:
    with in_process(tmp_path, fast_path=True) as fresh:
        use(fresh, session_of(sign_in(fresh, fresh.tokens["auditor"])))
        assert fresh.client.get("/review").status_code == 200

        revoke_tokens(fresh.settings.resolved_tokens_file, TOKEN_IDS["auditor"], "auditor")

        assert fresh.client.get("/review", follow_redirects=False).status_code == 303


def test_a_session_ends_when_its_time_is_up(tmp_path: Path) -> None:
    with in_process(tmp_path, fast_path=True) as fresh:
        now = [1_000_000.0]
        table = SessionTable(TokenTable(fresh.settings.resolved_tokens_file), 60.0, lambda: now[0])
        token = fresh.tokens["auditor"]
        session_id, _ = table.open(Caller(id="reviewer", role="auditor"), token_hash(token))

        now[0] += 59.9
        assert table.current(session_id) is not None
        now[0] += 0.1
        assert table.current(session_id) is None


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/review/sign-in"])
def test_the_documents_and_the_page_load_only_this_sites_assets(api: Api, path: str) -> None:
    page = api.client.get(path)
    assert page.status_code == 200
    loaded = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert loaded, "the page loads no asset at all"
    for url in loaded:
        assert url.startswith("/"), f"{path} loads {url} from elsewhere"
        assert api.client.get(url).status_code == 200, url
    assert "https://" not in page.text and "http://" not in page.text


def test_the_page_allows_no_script_and_no_other_origin(api: Api) -> None:
    policy = api.client.get("/review/sign-in").headers["content-security-policy"]
    assert policy.startswith("default-src 'none'; style-src 'self';")


@pytest.mark.parametrize(
    ("query", "said"),
    [
        (
            "since=yesterday",
            "since: expected an RFC 3339 date-time such as 2026-11-21T12:00:00.000Z; "
            "found 'yesterday'",
        ),
        ("outcome=pass", "outcome: expected one of allow, hold, deny, rollback; found 'pass'"),
        # The API refuses a filter given twice; the page would otherwise show one of them.
        ("outcome=allow&outcome=deny", "outcome: given more than once; it takes one value"),
        ("model=a&model=b", "model: given more than once; it takes one value"),
        (
            "gate=shipping",
            "gate: expected one of promotion, monitoring, rollback; found 'shipping'",
        ),
        ("before=0", "before: expected a record seq, 1 to 9223372036854775807; found '0'"),
        # As GET /v1/audit refuses them: a misspelt filter would list every decision, a
        # repeated one keep its last value only.
        (
            "modle=fraud-detector",
            "modle: unknown query parameter; expected one of: model, gate, outcome, stage, "
            "since, until, before",
        ),
        ("outcome=deny&outcome=allow", "outcome: given more than once; it takes one value"),
    ],
)
def test_a_filter_the_listing_cannot_take_is_named_on_the_page(
    api: Api, query: str, said: str
) -> None:
    use(api, session_of(sign_in(api, api.tokens["auditor"])))

    page = api.client.get(f"/review?{query}")

    assert page.status_code == 422
    assert problem(page) == said


def test_the_pages_filters_list_what_the_apis_listing_does(api: Api) -> None:
    """Every filter of the page, alone and together, against GET /v1/audit's answer."""
    every = api.client.get("/v1/audit?kind=decision", headers=api.headers("auditor")).json()
    middle = every["records"][1]["recorded_at"]
    queries = [
        {},
        {"outcome": "deny"},
        {"stage": "canary"},
        {"gate": "promotion", "outcome": "allow"},
        {"model": "fraud-detector", "stage": "staging"},
        {"model": "other-model"},
        {"since": middle},
        {"until": middle},
        {"since": middle, "outcome": "allow"},
    ]
    use(api, session_of(sign_in(api, api.tokens["auditor"])))
    sizes = set()
    for query in queries:
        answer = api.client.get(
            "/v1/audit", params={"kind": "decision", **query}, headers=api.headers("auditor")
        ).json()
        page = api.client.get("/review", params=query)
        assert page.status_code == 200
        listed = re.findall(r'<td><a href="/review/decisions/([^"]+)">', page.text)
        assert listed == [r["id"] for r in answer["records"]], query
        sizes.add(len(listed))
    assert sizes == {0, 1, 2, 3}  # the filters narrow, each differently


def test_a_denied_decisions_page_gives_each_reason_its_rule_and_controls(api: Api) -> None:
    [denied] = api.client.get(
        "/v1/audit",
        params={"kind": "decision", "outcome": "deny", "include": "reasons"},
        headers=api.headers("auditor"),
    ).json()["records"]
    catalogue = {
        rule["code"]: rule
        for rule in api.client.get("/v1/policies", headers=api.headers("auditor")).json()["rules"]
    }
    use(api, session_of(sign_in(api, api.tokens["auditor"])))

    page = api.client.get(f"/review/decisions/{denied['id']}")

    assert page.status_code == 200
    reasons = page.text.split('id="reasons"', 1)[1].split("</table>", 1)[0]
    assert reasons.count("<tr") == 1 + len(denied["reasons"])
    for reason in denied["reasons"]:
        assert f"<code>{reason['code']}</code>" in reasons
        rule = catalogue[reason["code"]]
        assert f"<strong>{rule['title']}</strong>" in reasons
        assert f"{rule['file']}:{rule['line']}</a>" in reasons
        for control in reason["controls"]:
            assert f'<span class="control">{control}</span>' in reasons


def test_an_unknown_decision_is_a_404_page_naming_it(api: Api) -> None:
    use(api, session_of(sign_in(api, api.tokens["auditor"])))
    page = api.client.get("/review/decisions/no-such-decision")
    assert page.status_code == 404
    assert html.unescape(problem(page)) == (
        "no decision 'no-such-decision' in the SQLite ledger <the ledger file>"
    )
    assert str(api.settings.home) not in page.text  # the service's paths are its own


def test_a_waiver_from_a_local_evidence_file_is_said_to_be_one_not_linked_as_a_sign_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A decision made in local mode, in the ledger the service reads (as `mlgate demo` leaves
    it), took its waiver from an evidence file: there is no sign-off record to link to."""
    home = tmp_path / "home"
    monkeypatch.setenv("MLGATE_HOME", str(home))
    for name in ("MLGATE_LEDGER_URL", "MLGATE_SIGNING_KEY", "MLGATE_KEYRING", "MLGATE_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    argv = ["decide", "promotion", "--evidence", str(EVIDENCE_DIR / "waived"), "--to", "production"]
    assert main([*argv, "--format", "json"]) == 0
    waived = json.loads(capsys.readouterr().out)
    get_settings.cache_clear()

    with in_process(home, fast_path=True) as served:
        use(served, session_of(sign_in(served, served.tokens["auditor"])))
        page = served.client.get(f"/review/decisions/{waived['decision_id']}")

    assert page.status_code == 200
    warnings = page.text.split('id="warnings"', 1)[1].split("</table>", 1)[0]
    assert '<span class="waived">waived</span> by c.lindqvist@example.com' in warnings
    assert "None" not in warnings, warnings
    assert "from an evidence file in local mode, not a sign-off record" in warnings


def test_a_reasons_rule_link_opens_its_file_at_the_rules_line(api: Api) -> None:
    """The rule's `file:line` on a decision's page leads to that line of the kept file."""
    [denied] = api.client.get(
        "/v1/audit",
        params={"kind": "decision", "outcome": "deny", "include": "reasons"},
        headers=api.headers("auditor"),
    ).json()["records"]
    use(api, session_of(sign_in(api, api.tokens["auditor"])))
    page = api.client.get(f"/review/decisions/{denied['id']}").text
    reasons = page.split('id="reasons"', 1)[1].split("</table>", 1)[0]
    links = re.findall(r'<a href="(/review/revisions/[^"#]+)#L(\d+)">([^<]+):(\d+)</a>', reasons)

    assert len(links) == len(denied["reasons"]), reasons
    for href, anchor, file, line in links:
        assert anchor == line
        source = api.client.get(href)
        assert source.status_code == 200 and href.endswith(f"/files/{file}")
        [shown] = re.findall(rf'<span class="line" id="L{line}">([^\n]*)</span>', source.text)
        assert shown.startswith(("deny contains", "hold contains", "warn contains")), shown
