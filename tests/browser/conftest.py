"""Browser tests: Debian's chromium driven by Playwright against a live server on loopback.

Each test gets a fresh browser context; any JavaScript error on a page, a request that fails
or answers 5xx, a page of ours without a Content-Security-Policy, or anything the policy blocked
on any page fails the test. Screenshots of key pages go to test-artifacts/screenshots/.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make to set
# up data are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium)"
)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class PageProblems:
    """What went wrong on the pages of a test, collected as it happens."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.allowed: list[str] = []  # URL fragments of requests a test expects to fail

    def expect_failure(self, url_fragment: str) -> None:
        self.allowed.append(url_fragment)

    def note_response(self, response: Any) -> None:
        if response.status >= 500 and not self._allowed(response.url):
            self.items.append(f"{response.status} {response.url}")

    def note_failed_request(self, request: Any) -> None:
        # ERR_ABORTED on anything but a page is the browser cancelling a request it no longer
        # needs: the admin's autocomplete drops the lookup of "le" when "lee" is typed, and a
        # click that leaves a page drops the scripts it was still loading (the changelist's
        # filters.js, once in CI). A failure of ours still shows: a 5xx (note_response), a
        # missing file as the browser's console error, a dropped connection as another error.
        if request.failure == "net::ERR_ABORTED" and request.resource_type != "document":
            return
        if not self._allowed(request.url):
            self.items.append(f"request failed: {request.url} ({request.failure})")

    def note_page_of_ours(self, response: Any) -> None:
        """Every page the app serves carries the policy the violation check relies on."""
        is_ours = urlsplit(response.url).hostname in OUR_HOSTS
        is_page = response.request.resource_type == "document"
        if is_ours and is_page and "content-security-policy" not in response.headers:
            self.items.append(f"no Content-Security-Policy: {response.status} {response.url}")

    def note_csp_violation(self, source: Any, violation: dict[str, Any]) -> None:
        self.items.append(
            "Content-Security-Policy violation on {documentURI}: {effectiveDirective} blocked "
            "{blockedURI} ({sourceFile}:{lineNumber})".format(**violation)
        )

    def _allowed(self, url: str) -> bool:
        return any(fragment in url for fragment in self.allowed)


# The live server and the https front end of tests/browser/journey.py; identity providers have
# names of their own.
OUR_HOSTS = {"localhost", "127.0.0.1"}

# Reports every Content-Security-Policy violation (blocked scripts, inline handlers, styles,
# form targets, frames...) to the test, on every page of the context. Init scripts are not
# subject to the page's policy; the event is dispatched on the document for all of them
# (CSP Level 3, "securitypolicyviolation").
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolation({
    documentURI: event.documentURI,
    effectiveDirective: event.effectiveDirective,
    blockedURI: event.blockedURI || "(inline)",
    sourceFile: event.sourceFile || "?",
    lineNumber: event.lineNumber,
    disposition: event.disposition,
  });
});
"""


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser: Any, live_server: Any, problems: PageProblems) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.expose_binding("__cspViolation", problems.note_csp_violation)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.on("pageerror", lambda error: problems.items.append(f"JavaScript error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.items.append(f"console error: {message.text}")
            if message.type == "error"
            else None
        ),
    )
    page.on("response", problems.note_response)
    page.on("response", problems.note_page_of_ours)
    page.on("requestfailed", problems.note_failed_request)
    yield page
    context.close()
    assert not problems.items, "\n".join(problems.items)


@pytest.fixture
def shot(page: Any, request: pytest.FixtureRequest) -> Any:
    """shot("scim-tab") saves a full-page screenshot named after the test and the step."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}--{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture(autouse=True)
def public_base_url(settings: Any, live_server: Any) -> str:
    """Every absolute URL the app shows (ACS URL, Tenant URL) must point at this live server."""
    settings.PUBLIC_BASE_URL = live_server.url
    return str(live_server.url)
