"""Test sign-in on the SAML tab (DESIGN §6): before turning SSO on, the admin signs in at the
IdP as themselves and comes back to every check of the response, passed or failed, without being
signed in as anyone else. Over https, as in production (see journey.https_front_end)."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from sso.models import SamlConnection, SignInAttempt, SignInOutcome
from tests.browser import journey
from tests.browser.journey import Person
from tests.sso.idp import make_key_pair, okta_idp

pytestmark = pytest.mark.django_db(transaction=True)


def test_test_sign_in_passes_then_fails_on_a_key_the_metadata_does_not_list(
    page: Page, shot: Any, live_server: Any, settings: Any
) -> None:
    with journey.https_front_end(page, live_server.url, settings) as site:
        base = site.url
        umbrella, admin = journey.organisation_with_admin("umbrella", "Umbrella plc")
        okta = journey.IdentityProvider(page, okta_idp())
        okta.signed_in = Person(admin.given_name, admin.family_name, admin.username, "00u0admin")

        journey.sign_in_as_admin(page, base, umbrella, admin)
        journey.open_single_sign_on(page)
        journey.open_provider(page, "Okta")
        test_button = page.get_by_role("button", name="Test sign-in")
        expect(test_button).to_be_disabled()
        expect(page.get_by_text("Upload Okta's metadata first.")).to_be_visible()

        # Okta gets our values; its metadata (one signing certificate) comes back here.
        okta.acs_url = journey.copy(page, "Single sign-on URL")
        okta.audience = journey.copy(page, "Audience URI (SP Entity ID)")
        journey.upload_metadata_file(page, okta.idp.metadata_xml(), "metadata.xml")

        # A Test sign-in signed with the certificate of the metadata passes, check by check.
        test_button.click()
        result = page.get_by_role("region", name=re.compile("^Test sign-in"))
        expect(result.get_by_role("heading")).to_have_text("Test sign-in Test passed")
        expect(result).to_contain_text("Every check passed. You can turn single sign-on on.")
        checks = page.get_by_role("region", name="Checks").get_by_role("listitem")
        expect(
            checks.filter(has_text="Signed with a certificate of this connection")
        ).to_contain_text("Passed")
        total = checks.count()
        assert total >= 10
        expect(checks.filter(has_text="Passed")).to_have_count(total)
        expect(journey.fact(page, "NameID")).to_have_text(admin.username)
        shot("test-passed")
        still_the_admin(page, admin.username)

        # Okta now signs with a key its metadata does not list: the same test fails, and says where.
        okta.signing_key = make_key_pair("Not the certificate in the metadata")
        page.get_by_role("link", name="← Back to the SAML tab").click()
        expect(page.get_by_text("Last test:")).to_contain_text("Test passed")
        test_button.click()
        expect(result.get_by_role("heading")).to_have_text("Test sign-in Test failed")
        failed = checks.filter(has=page.get_by_text("Failed", exact=True))
        expect(failed).to_have_count(2)
        expect(failed.first).to_contain_text("Signed with a certificate of this connection")
        expect(failed.first).to_contain_text("certificate is not in the uploaded metadata")
        expect(failed.last).to_contain_text("python3-saml strict validation")
        expect(checks.filter(has_text="Passed")).to_have_count(total - 2)
        expect(result).to_contain_text("certificate is not in the uploaded metadata")
        shot("test-failed")
        still_the_admin(page, admin.username)

        page.get_by_role("link", name="← Back to the SAML tab").click()
        expect(page.get_by_text("Last test:")).to_contain_text("Test failed")
        connection = SamlConnection.objects.get(organisation=umbrella, provider="okta")
        assert not connection.enabled, "testing needs no SSO, and turns nothing on"
        outcomes = SignInAttempt.objects.filter(connection=connection).values_list(
            "outcome", flat=True
        )
        assert sorted(outcomes) == [SignInOutcome.TEST_FAILED, SignInOutcome.TEST_PASSED]
        assert len(okta.authn_requests) == 2


def still_the_admin(page: Page, username: str) -> None:
    """A Test sign-in signs nobody in: the browser is still the admin's."""
    assert journey.me(page)["username"] == username
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings")
    ).to_be_visible()
