"""The review page in a real headless chromium against `mlgate serve`: a reviewer signs in with
an auditor token, filters the decisions, opens one and sees its waived warning with the
sign-off behind it, follows its policy revision to the kept files, reads /docs offline, and
sees a record edited in the database flagged. No request leaves loopback; screenshots are kept
under test-artifacts/page/.

The tests run in file order on one server and one browser (the last one tampers)."""

from __future__ import annotations

import base64
import json
import sqlite3
from typing import Any
from urllib.parse import urlsplit

from service.engine.catalogue import rule_catalogue
from service.engine.policyset import load_policy_set
from service.settings import PROJECT_ROOT
from tests.page.conftest import Browser, Recorded, off_loopback


def _by() -> Any:
    from selenium.webdriver.common.by import By

    return By


def follow(browser: Browser, element: Any) -> None:
    """Click `element` (a link or a submit button) and wait until the next page replaced the
    current one: a click does not wait for the navigation it starts."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    current = browser.driver.find_element(_by().TAG_NAME, "html")
    element.click()
    WebDriverWait(browser.driver, 30).until(expected_conditions.staleness_of(current))


def stayed_on_loopback(browser: Browser) -> None:
    urls = browser.network()
    assert off_loopback(urls) == [], "the page asked for something beyond this machine"
    assert browser.failures == [], "a resource of the page failed to load"


def sign_in(browser: Browser, recorded: Recorded, role: str = "auditor") -> None:
    by = _by()
    browser.driver.find_element(by.ID, "token").send_keys(recorded.server.tokens[role])
    follow(browser, browser.driver.find_element(by.ID, "sign-in"))


def listed_ids(browser: Browser) -> list[str]:
    by = _by()
    links = browser.driver.find_elements(by.CSS_SELECTOR, "#decisions tbody tr td:first-child a")
    return [str(link.get_attribute("href")).rsplit("/", 1)[-1] for link in links]


def path_of(browser: Browser) -> str:
    return urlsplit(browser.driver.current_url).path


def test_a_reviewer_signs_in_and_filters_the_decisions(
    recorded: Recorded, browser: Browser
) -> None:
    from selenium.webdriver.support.ui import Select

    by, driver = _by(), browser.driver
    driver.get(recorded.server.url + "/review")
    assert path_of(browser) == "/review/sign-in"

    sign_in(browser, recorded, "gate")
    refused = driver.find_element(by.ID, "problem").text
    assert "role 'gate' of token 'local-gate' may not do this" in refused
    assert driver.get_cookies() == []
    browser.screenshot("sign-in-refused-gate-token")

    sign_in(browser, recorded, "auditor")
    assert path_of(browser) == "/review"
    every = [recorded.staging_deny, recorded.waived, recorded.production_deny]
    assert listed_ids(browser)[:3] == [d["decision_id"] for d in every]

    Select(driver.find_element(by.NAME, "stage")).select_by_visible_text("production")
    Select(driver.find_element(by.NAME, "outcome")).select_by_visible_text("allow")
    follow(browser, driver.find_element(by.ID, "filter"))

    assert listed_ids(browser) == [recorded.waived["decision_id"]]
    assert "stage=production" in driver.current_url and "outcome=allow" in driver.current_url
    browser.screenshot("decisions-filtered")
    stayed_on_loopback(browser)


def test_a_decision_shows_its_waived_warning_and_the_sign_off(
    recorded: Recorded, browser: Browser
) -> None:
    by, driver = _by(), browser.driver
    waived, waiver = recorded.waived, recorded.waiver
    driver.get(recorded.server.url + "/review?stage=production&outcome=allow")
    follow(browser, driver.find_element(by.CSS_SELECTOR, "#decisions tbody a"))
    assert path_of(browser) == f"/review/decisions/{waived['decision_id']}"
    assert driver.find_element(by.ID, "outcome").text == "allow"

    (warning,) = driver.find_elements(by.CSS_SELECTOR, "#warnings tbody tr")
    text = warning.text
    assert "METRIC_ABOVE_CEILING" in text
    assert "waived by m.okafor" not in text  # the first-run approver, not a fixture's name
    assert "waived by local-approver as model-risk-officer" in text
    assert "latency fix ships in the next version" in text
    catalogue = {e.code: e for e in rule_catalogue(load_policy_set(PROJECT_ROOT / "policies"))}
    assert catalogue["METRIC_ABOVE_CEILING"].title in text
    for control in waived["warnings"][0]["controls"]:
        assert control in text
    link = warning.find_element(by.CSS_SELECTOR, f"a[href='#signoff-{waiver['id']}']")
    assert link.text == f"sign-off {waiver['id']}"

    signoffs = driver.find_elements(by.CSS_SELECTOR, "#signoffs tbody tr")
    assert sorted(str(row.get_attribute("id")) for row in signoffs) == sorted(
        f"signoff-{i}" for i in waived["signoff_records"]
    )
    waiver_row = driver.find_element(by.ID, f"signoff-{waiver['id']}").text
    assert "waiver" in waiver_row and "latency fix ships in the next version" in waiver_row
    approval_row = driver.find_element(by.ID, f"signoff-{recorded.approval['id']}").text
    assert "approval" in approval_row and "MRV-2026-114 reviewed" in approval_row

    evidence = driver.find_element(by.ID, "evidence").text
    for digest in waived["evidence_digests"].values():
        assert digest in evidence
    for source in waived["provenance"].values():
        assert source in evidence
    assert driver.find_element(by.ID, "revision").text == waived["policy_revision"]
    browser.screenshot("decision-with-waived-warning")
    stayed_on_loopback(browser)


def test_the_decisions_policy_revision_shows_its_kept_files(
    recorded: Recorded, browser: Browser
) -> None:
    by, driver = _by(), browser.driver
    revision = recorded.waived["policy_revision"]
    driver.get(f"{recorded.server.url}/review/decisions/{recorded.waived['decision_id']}")
    follow(browser, driver.find_element(by.ID, "revision"))
    assert path_of(browser) == f"/review/revisions/{revision}"

    kept = recorded.api.client.get(
        f"/v1/policies/{revision}", headers=recorded.api.headers("auditor")
    ).json()
    rows = driver.find_elements(by.CSS_SELECTOR, "#files tbody tr td:first-child a")
    assert [row.text for row in rows] == [f["path"] for f in kept["files"]]
    browser.screenshot("policy-revision")

    follow(browser, driver.find_element(by.LINK_TEXT, "promotion/promotion.rego"))
    (shown,) = [f for f in kept["files"] if f["path"] == "promotion/promotion.rego"]
    source = driver.find_element(by.ID, "source").get_attribute("textContent")
    assert source == shown["content"]
    assert source == (PROJECT_ROOT / "policies" / "promotion" / "promotion.rego").read_text()
    stayed_on_loopback(browser)


def test_the_network_watch_sees_and_stops_a_request_beyond_loopback(browser: Browser) -> None:
    """The check the other tests rely on can fail: a page asking another host is seen in the
    DevTools log, and the request goes no further than the closed proxy port on loopback
    (`.invalid` is a name reserved never to resolve, RFC 2606)."""
    browser.network()
    browser.driver.get("data:text/html,<img src='http://page-test.invalid/pixel.png'>")

    assert off_loopback(browser.network()) == ["http://page-test.invalid/pixel.png"]
    assert browser.failures == ["Image: net::ERR_PROXY_CONNECTION_FAILED"]
    browser.failures.clear()


def test_docs_render_offline(recorded: Recorded, browser: Browser) -> None:
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    by, driver = _by(), browser.driver
    driver.get(recorded.server.url + "/docs")
    title = WebDriverWait(driver, 30).until(
        expected_conditions.visibility_of_element_located(
            (by.CSS_SELECTOR, ".swagger-ui .info .title")
        )
    )
    assert title.text.startswith("mlgate")
    assert len(driver.find_elements(by.CSS_SELECTOR, ".opblock")) > 20
    browser.screenshot("docs")
    urls = browser.network()
    assert any(url.endswith("/static-offline-docs/swagger-ui-bundle.js") for url in urls)
    assert any(url.endswith("/openapi.json") for url in urls)
    assert off_loopback(urls) == []
    assert browser.failures == []


def _edit_envelope(recorded: Recorded, seq: int, **edit: Any) -> None:
    """Rewrite record `seq`'s signed predicate in the SQLite ledger as a database editor would,
    without the signing key (the old signature kept)."""
    db = sqlite3.connect(recorded.server.home / "ledger.sqlite3")
    (raw,) = db.execute("SELECT envelope FROM records WHERE seq = ?", (seq,)).fetchone()
    envelope = json.loads(raw)
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"].update(edit)
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    forged = json.dumps(envelope).encode()
    db.execute("UPDATE records SET envelope = ? WHERE seq = ?", (forged, seq))
    db.commit()
    db.close()


def test_a_record_edited_in_the_database_is_flagged(recorded: Recorded, browser: Browser) -> None:
    by, driver = _by(), browser.driver
    driver.get(recorded.server.url + "/review/verify")
    assert driver.find_element(by.ID, "chain-status").text.startswith("Verified: ")
    seq = recorded.staging_deny["audit"]["seq"]

    _edit_envelope(recorded, seq, outcome="allow", reasons=[])

    driver.get(recorded.server.url + "/review")
    banner = driver.find_element(by.ID, "tampered")
    assert banner.text.startswith("The ledger has been tampered with")
    assert f"record seq {seq} " in banner.text
    # page.css was loaded and applied: the banner is red on pink, not unstyled text.
    assert banner.value_of_css_property("background-color") == "rgba(253, 232, 232, 1)"
    assert listed_ids(browser) == []
    browser.screenshot("tampered-listing")

    follow(browser, driver.find_element(by.LINK_TEXT, "Chain verification"))
    status = driver.find_element(by.ID, "chain-status").text
    assert status.startswith("The ledger does not verify")
    flagged = driver.find_elements(by.CSS_SELECTOR, "#problems tbody tr.flagged")
    assert {row.find_element(by.CSS_SELECTOR, "td").text for row in flagged} >= {str(seq)}
    browser.screenshot("tampered-verification")

    driver.get(f"{recorded.server.url}/review/decisions/{recorded.staging_deny['decision_id']}")
    assert f"record seq {seq} " in driver.find_element(by.ID, "tampered").text
    stayed_on_loopback(browser)
    assert any(url.endswith("/review/static/page.css") for url in browser.requests)
