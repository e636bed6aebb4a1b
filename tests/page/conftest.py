"""The review page's fixtures: `mlgate serve` with a ledger of recorded decisions (a waived
warning and its sign-off among them), and Debian's headless chromium driven by Selenium, its
network watched so that no request leaves loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from service.settings import PROJECT_ROOT, Settings
from tests.api.conftest import Api, LiveServer, serving
from tests.api.test_signoffs import approve, at_canary, version_body, waive
from tests.conftest import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Screenshots of what a reviewer sees, kept for a person to look at (gitignored).
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "page"
WINDOW = (1400, 1000)
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


@dataclass
class Recorded:
    """A running `mlgate serve` and what was recorded in its ledger through its API."""

    server: LiveServer
    api: Api
    waived: dict[str, Any]  # production allow of v7 with a waived warning
    production_deny: dict[str, Any]  # v7 denied in production before the waiver
    staging_deny: dict[str, Any]  # v8 denied at staging (the record the tests tamper with)
    waiver: dict[str, Any]
    approval: dict[str, Any]


def record_decisions(api: Api) -> dict[str, Any]:
    """Decisions as a CI pipeline and an approver make them, through the HTTP API: version 7
    of fraud-detector through staging and canary, denied in production for a calibration error
    above its ceiling, then allowed with that rule waived and approved; version 8 denied at
    staging for lack of metrics."""
    metrics = version_body("7")["evidence"]["metrics"]
    metrics["values"]["calibration_ece"] = 0.035
    at_canary(api, "7")
    approval = approve(api, "7", comment="MRV-2026-114 reviewed")
    assert approval.status_code == 201, approval.text
    denied = api.decide(version_body("7", metrics=metrics)).json()
    assert [r["code"] for r in denied["reasons"]] == ["METRIC_ABOVE_CEILING"], denied
    waiver = waive(api, "7")
    assert waiver.status_code == 201, waiver.text
    allowed = api.decide(version_body("7", metrics=metrics)).json()
    assert allowed["outcome"] == "allow" and allowed["warnings"][0]["waiver"], allowed
    staging = api.decide(version_body("8", "staging", metrics={"values": {}})).json()
    assert staging["outcome"] == "deny", staging
    return {
        "waived": allowed,
        "production_deny": denied,
        "staging_deny": staging,
        "waiver": waiver.json(),
        "approval": approval.json(),
    }


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    with (
        serving(tmp_path_factory.mktemp("review-home")) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        api = Api(client, server.tokens, Settings(home=server.home))
        yield Recorded(server=server, api=api, **record_decisions(api))


@dataclass
class Browser:
    """A headless chromium session; `requests` collects every URL the pages asked for."""

    driver: Any  # selenium.webdriver.Chrome
    artifacts: Path
    requests: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        """The whole page (the window stretched to its height, at most 4000 px) as a PNG."""
        path = self.artifacts / f"{name}.png"
        width, height = WINDOW
        full = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(width, min(max(height, int(full) + 120), 4000))
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(width, height)
        return path

    def network(self) -> list[str]:
        """The URLs requested since the last call (from chromium's DevTools performance log),
        and any load that failed is added to `failures`."""
        urls = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                urls.append(message["params"]["request"]["url"])
            elif message["method"] == "Network.loadingFailed":
                params = message["params"]
                if not params.get("canceled"):
                    self.failures.append(f"{params.get('type')}: {params.get('errorText')}")
        self.requests += urls
        return urls


def off_loopback(urls: list[str]) -> list[str]:
    """The URLs among `urls` that would leave this machine (data: and about: stay)."""
    return [
        url
        for url in urls
        if urlsplit(url).scheme not in ("data", "about", "blob")
        and urlsplit(url).hostname not in LOOPBACK
    ]


def _missing_browser() -> str | None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        return (
            f"{' and '.join(missing)} missing: the review page's browser tests need Debian's "
            "chromium and chromium-driver; `make services` installs them (scripts/browser.sh)"
        )
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[dev]' (make install) installs it"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless, through chromedriver. Every request that is not to
    loopback goes to a proxy port nothing listens on, so it cannot leave the machine; the
    tests also read what was requested from the DevTools log and assert that none tried."""
    problem = _missing_browser()
    if problem:
        pytest.fail(problem)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # the tests may run as root, where chromium's sandbox refuses to start
        "--disable-dev-shm-usage",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        # Loopback is never proxied by chromium; everything else meets a closed port.
        f"--proxy-server=http://127.0.0.1:{free_port()}",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--no-first-run",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    try:
        yield Browser(driver, ARTIFACTS)
    finally:
        driver.quit()
