"""SAML single logout in the browser, under the site's real Content-Security-Policy: the Sign out
button of our pages signs out here and then at the identity provider, which answers with a
signed LogoutResponse; a sign-out started at the IdP signs out here too; another site's link to
our logout URL changes nothing.

The IdP (tests/sso/idp.py, a plain SAML 2.0 one with single logout) answers the browser's
requests to its host, as in the other journeys, and signs its logout messages for real."""

import base64
import html
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Organisation
from tests import factories
from tests.browser import journey
from tests.browser.journey import Person
from tests.sso.idp import LogoutRequestSent, decode_logout_request, generic_idp

pytestmark = pytest.mark.django_db(transaction=True)

ROBIN = Person("Robin", "Reader", "robin.reader@initech.example", "robin-1")
# Where the IdP's own "Sign out of everything" leads (its single logout, started there).
SIGN_OUT_EVERYWHERE = "/saml2/idp/sign-out-everywhere"


@dataclass
class IdpWithSingleLogout(journey.IdentityProvider):
    """The IdP's pages, plus its single logout endpoint and its own sign-out page."""

    logout_url: str = ""  # ours, from our SP metadata
    logout_requests: list[LogoutRequestSent] = field(default_factory=list)  # ours, received
    logout_answers: list[str] = field(default_factory=list)  # our LogoutResponses, received

    def _answer(self, event: dict[str, Any]) -> None:
        url = event["request"]["url"]
        path = urlsplit(url).path
        assert self.idp.slo_url is not None
        if path == urlsplit(self.idp.slo_url).path and "SAMLRequest=" in url:
            sent = decode_logout_request(url)
            self.logout_requests.append(sent)
            self.signed_in = None
            xml = self.idp.logout_response(destination=self.logout_url, in_response_to=sent["id"])
            self._redirect(event, self.idp.redirect_query(xml, message="SAMLResponse"))
        elif path == urlsplit(self.idp.slo_url).path and "SAMLResponse=" in url:
            self.logout_answers.append(url)
            self._fulfil(event, "<h1>You are signed out of every application</h1>")
        elif path == SIGN_OUT_EVERYWHERE and self.signed_in is not None:
            xml = self.idp.logout_request(
                destination=self.logout_url, name_id=self.signed_in.username
            )
            self.signed_in = None
            self._redirect(event, self.idp.redirect_query(xml, message="SAMLRequest"))
        elif path == "/elsewhere":
            # Another site's page with a link to our logout URL. (An <img> of it is refused by
            # Chromium itself here: a public site may not load from a loopback address.)
            self._fulfil(event, f'<a href="{html.escape(self.logout_url)}">Prizes</a>')
        else:
            super()._answer(event)

    def _redirect(self, event: dict[str, Any], query: str) -> None:
        location = f"{self.logout_url}?{query}"
        self._devtools.send(
            "Fetch.fulfillRequest",
            {
                "requestId": event["requestId"],
                "responseCode": 302,
                "responseHeaders": [{"name": "Location", "value": location}],
                "body": "",
            },
        )

    def _fulfil(self, event: dict[str, Any], body: str) -> None:
        page = (
            '<!doctype html><html lang="en"><head><title>IdP</title>'
            f'<link rel="icon" href="data:,"></head><body>{body}</body></html>'
        )
        self._devtools.send(
            "Fetch.fulfillRequest",
            {
                "requestId": event["requestId"],
                "responseCode": 200,
                "responseHeaders": [{"name": "Content-Type", "value": "text/html; charset=utf-8"}],
                "body": base64.b64encode(page.encode()).decode(),
            },
        )


def signed_in_from_the_tile(page: Page, base: str) -> tuple[IdpWithSingleLogout, Organisation]:
    initech, _ = journey.organisation_with_admin("initech", "Initech")
    factories.user(initech, ROBIN.username, given_name=ROBIN.given_name, family_name="Reader")
    idp = generic_idp()
    connection = factories.saml_connection(initech, idp, provider="saml")
    site = IdpWithSingleLogout(
        page,
        idp,
        tile_path="/saml2/idp/tile",
        acs_url=connection.acs_url,
        audience=connection.sp_entity_id,
        default_relay_state="/",
        logout_url=connection.logout_url,
    )
    site.open_tile(ROBIN)
    journey.expect_landing_page(page, base, ROBIN)
    return site, initech


def test_sign_out_signs_out_here_and_at_the_identity_provider(page: Page, live_server: Any) -> None:
    base = live_server.url
    idp, _ = signed_in_from_the_tile(page, base)

    journey.sign_out(page)  # the header's button; ends on our sign-in page

    expect(page).to_have_url(f"{base}/sign-in/")
    [sent] = idp.logout_requests
    assert sent["name_id"] == ROBIN.username and sent["destination"] == idp.idp.slo_url
    assert journey.me(page) == {"authenticated": False}


def test_signing_out_at_the_identity_provider_signs_out_here(page: Page, live_server: Any) -> None:
    base = live_server.url
    idp, _ = signed_in_from_the_tile(page, base)

    page.goto(idp.origin + SIGN_OUT_EVERYWHERE)

    expect(page.get_by_role("heading")).to_have_text("You are signed out of every application")
    [answer] = idp.logout_answers
    assert answer.startswith(f"{idp.idp.slo_url}?SAMLResponse=")
    page.goto(f"{base}/sign-in/")
    assert journey.me(page) == {"authenticated": False}


def test_another_sites_link_signs_nobody_out(page: Page, live_server: Any) -> None:
    base = live_server.url
    idp, _ = signed_in_from_the_tile(page, base)

    page.goto(idp.origin + "/elsewhere")
    page.get_by_role("link", name="Prizes").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign out")
    assert journey.me(page)["username"] == ROBIN.username
    page.get_by_role("link", name="Stay signed in").click()
    journey.expect_landing_page(page, base, ROBIN)
