"""The organisation's own attributes and SAML attribute mapping, end to end (issue 13): the admin
adds an attribute on the SCIM tab and reads what to type into Okta, then, for Google Workspace
(SAML only, no SCIM), maps Google's attribute statements to a profile field and to that
attribute, sees on a Test sign-in what each would set, and a person's sign-in sets them. Over
https, as in production (see journey.https_front_end)."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import AuditEvent, CustomAttribute, User
from tests import factories
from tests.browser import journey
from tests.browser.journey import Person
from tests.sso.idp import google_idp

pytestmark = pytest.mark.django_db(transaction=True)

URN = "urn:ietf:params:scim:schemas:extension:auzlearn:2.0:User"
PAT = Person("Pat", "Planner", "pat.planner@initech.example", external_id="pat-google-id")
GOOGLE_SENDS = {"Department": ["Sales"], "Cost centre": ["CC-104"]}


def test_admin_adds_an_attribute_and_maps_google_attributes_to_it(
    page: Page, shot: Any, live_server: Any, settings: Any
) -> None:
    with journey.https_front_end(page, live_server.url, settings) as site:
        base = site.url
        initech, admin = journey.organisation_with_admin("initech", "Initech")
        factories.user(initech, PAT.username, given_name="Pat", family_name="Planner")
        google = journey.IdentityProvider(page, google_idp(), tile_path="/a/initech/apps/auzlearn")

        # SCIM tab: the attribute, and the exact strings for Okta's profile editor.
        journey.sign_in_as_admin(page, base, initech, admin)
        journey.open_single_sign_on(page)
        journey.open_provider(page, "Okta")
        journey.open_tab(page, "Okta", "SCIM")
        own = page.get_by_role("region", name="Your own attributes")
        expect(own.get_by_text("None yet.")).to_be_visible()
        own.get_by_label("Name", exact=True).fill("costCentre")
        own.get_by_label("Type", exact=True).select_option(label="Text (string)")
        own.get_by_label("Description (optional)").fill("Finance's code for the person's unit")
        own.get_by_role("button", name="Add attribute").click()
        journey.expect_message(page, "costCentre added.")
        attribute = own.get_by_role("listitem").filter(has_text="costCentre")
        expect(attribute).to_contain_text("Finance's code for the person's unit")
        expect(journey.fact(attribute, "External name")).to_have_text("costCentre")
        expect(journey.fact(attribute, "External namespace")).to_have_text(URN)
        expect(journey.fact(attribute, "Data type")).to_have_text("string")
        assert journey.copy(page, "External namespace") == URN
        shot("scim-tab-own-attribute")

        # Google Workspace's SAML tab: our values into Google, its metadata back, SSO on.
        journey.open_single_sign_on(page)
        journey.open_provider(page, "Google Workspace")
        google.acs_url = journey.copy(page, "ACS URL")
        google.audience = journey.copy(page, "Entity ID")
        journey.upload_metadata_file(page, google.idp.metadata_xml(), "GoogleIDPMetadata.xml")
        journey.turn_sso_on(page, "Google Workspace")

        # The mapping: Google's Department to the profile, its Cost centre to costCentre.
        mapping = page.get_by_role("region", name="More attributes")
        expect(mapping.get_by_text("No attributes mapped")).to_be_visible()
        for attribute_name, sets in [("Department", "Department"), ("Cost centre", "costCentre")]:
            mapping.get_by_label("Attribute name").fill(attribute_name)
            mapping.get_by_label("Sets").select_option(label=sets)
            mapping.get_by_role("button", name="Add mapping").click()
            journey.expect_message(page, f"“{attribute_name}” now sets {sets} at each sign-in.")
        rows = mapping.get_by_role("row")
        expect(rows).to_have_count(3)  # the header and two mappings
        expect(rows.nth(2)).to_contain_text("Cost centre")
        expect(rows.nth(2)).to_contain_text("costCentre (your own attribute)")
        shot("saml-tab-mapping")

        # A Test sign-in as the admin shows what each mapped attribute would set.
        google.signed_in = Person(admin.given_name, admin.family_name, admin.username, "adm")
        google.extra_attributes = {"Department": ["IT"], "Cost centre": ["CC-001"]}
        page.get_by_role("button", name="Test sign-in").click()
        result = page.get_by_role("region", name=re.compile("^Test sign-in"))
        expect(result.get_by_role("heading")).to_have_text("Test sign-in Test passed")
        mapped = page.get_by_role("region", name="Mapped attributes").get_by_role("listitem")
        expect(mapped).to_have_count(2)
        expect(mapped.first).to_contain_text("Would set Department to “IT”.")
        expect(mapped.last).to_contain_text("Would set costCentre to “CC-001”.")
        shot("test-sign-in-mapped")
        admin.refresh_from_db()
        assert (admin.department, admin.custom_attributes) == ("", {})

        # Pat signs in from Google's apps menu: both are set, through the services.
        google.extra_attributes = GOOGLE_SENDS
        google.open_tile(PAT)
        journey.expect_landing_page(page, base, PAT)
        pat = User.objects.get(username=PAT.username)
        assert pat.department == "Sales"
        assert pat.custom_attributes == {"costCentre": "CC-104"}
        actions = AuditEvent.objects.filter(target_id=str(pat.public_id)).values_list(
            "action", "actor_label"
        )
        label = f"SAML sign-in {PAT.username}"
        assert ("user.update", label) in actions
        assert ("user.set_custom_attributes", label) in actions
        assert list(CustomAttribute.objects.values_list("name", flat=True)) == ["costCentre"]
