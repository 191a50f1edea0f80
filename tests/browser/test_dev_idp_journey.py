"""What `make run` shows without an Okta tenant (issue 14): the demo organisation's Okta
connection trusts the development IdP at /dev-idp/. A learner signs in from it as from the Okta
tile, another starts at our sign-in page and the IdP answers our AuthnRequest, the primary admin
sees both sign-ins on the Activity tab and passes a Test sign-in. Over plain http, as `make run`
serves it: the IdP is on our own site, so the cookie binding our AuthnRequest to the browser
comes back with the IdP's POST. Every page under our Content-Security-Policy, the IdP's too."""

import re
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from accounts.models import Organisation
from sso.models import SamlConnection, SignInAttempt, SignInOutcome
from tests.browser import journey
from tests.browser.journey import Person
from tests.devidp.routing import urls_with_debug

pytestmark = pytest.mark.django_db(transaction=True)

BEN = Person("Ben", "Okafor", "ben@demo.test", external_id="")
CLEO = Person("Cleo", "Martin", "cleo@demo.test", external_id="")
DEMO_PASSWORD = "auzlearn-demo"  # the demo command's, printed by `make run`


@pytest.fixture
def make_run(settings: Any, tmp_path: Path) -> Iterator[Organisation]:
    """What `make run` sets up: DEBUG on (so /dev-idp/ is routed) and `manage.py demo`."""
    settings.DEV_IDP_DIR = str(tmp_path / "dev-idp")
    with urls_with_debug(settings, True):
        call_command("demo", stdout=StringIO())
        yield Organisation.objects.get(slug="demo")


def test_dev_idp_journey(page: Page, shot: Any, live_server: Any, make_run: Organisation) -> None:
    base = live_server.url
    heading = page.get_by_role("heading", level=1)

    # Ben opens the development IdP, as he would click auzlearn's tile on his Okta dashboard.
    page.goto(f"{base}/dev-idp/")
    expect(heading).to_have_text("Development identity provider")
    expect(page.get_by_role("heading", name="Demo Organisation · Okta")).to_be_visible()
    shot("dev-idp")
    page.get_by_role("button", name=BEN.full_name).click()
    journey.expect_landing_page(page, base, BEN)
    expect(journey.fact(page, "Manager")).to_have_text("Ada Lovelace (ada@demo.test)")
    expect(journey.fact(page, "Teams")).to_have_text("Onboarding")
    shot("landing-page")
    journey.sign_out(page)

    # Cleo starts at our sign-in page; the IdP answers our AuthnRequest.
    page.goto(f"{base}/sign-in/")
    page.get_by_role("link", name=re.compile("^Sign in with single sign-on")).click()
    page.get_by_label("Work email or organisation").fill("demo")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/dev-idp/sso/\?SAMLRequest="))
    expect(page.get_by_text("auzlearn asked for a sign-in")).to_be_visible()
    shot("dev-idp-answering-our-request")
    page.get_by_role("button", name=CLEO.full_name).click()
    journey.expect_landing_page(page, base, CLEO)
    journey.sign_out(page)

    # The primary admin finds both sign-ins on the Activity tab, newest first.
    journey.sign_in_with_password(page, base, make_run, "admin@demo.test", DEMO_PASSWORD)
    expect(heading).to_have_text("Welcome, Avery")
    journey.open_single_sign_on(page)
    journey.open_provider(page, "Okta")
    expect(page.get_by_role("heading", name=re.compile("^Single sign-on"))).to_contain_text("On")
    journey.open_tab(page, "Okta", "Activity")
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(CLEO.username)
    expect(rows.last).to_contain_text(BEN.username)
    expect(rows.filter(has=page.get_by_text("Signed in", exact=True))).to_have_count(2)
    shot("activity-sign-ins")

    # A Test sign-in on the SAML tab, through the development IdP, as the admin.
    journey.open_tab(page, "Okta", "SAML")
    page.get_by_role("button", name="Test sign-in").click()
    expect(heading).to_have_text("Development identity provider")
    page.get_by_role("button", name="Avery Admin").click()
    result = page.get_by_role("region", name=re.compile("^Test sign-in"))
    expect(result.get_by_role("heading")).to_have_text("Test sign-in Test passed")
    expect(result).to_contain_text("Every check passed.")
    shot("test-sign-in-passed")
    assert journey.me(page)["username"] == "admin@demo.test", "a test signs nobody in"

    connection = SamlConnection.objects.get(organisation=make_run, provider="okta")
    outcomes = SignInAttempt.objects.filter(connection=connection).order_by("pk")
    assert [(a.outcome, a.name_id) for a in outcomes] == [
        (SignInOutcome.SIGNED_IN, BEN.username),
        (SignInOutcome.SIGNED_IN, CLEO.username),
        (SignInOutcome.TEST_PASSED, "admin@demo.test"),
    ]
