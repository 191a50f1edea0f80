"""An Okta app made with the App Integration Wizard (SCIM, authentication mode HTTP Header), end
to end (DESIGN §7): the same admin journey as the catalog app, but Okta sends every change as a
PUT of the whole resource (deactivation, reactivation, profile updates, team membership)."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from sso.models import SamlConnection
from tests.browser import journey
from tests.browser.journey import Person, ScimHttpClient, okta_user, where
from tests.scim.conftest import OKTA_AGENT
from tests.sso.idp import okta_idp

pytestmark = pytest.mark.django_db(transaction=True)

SAM = Person("Sam", "Support", "sam.support@globex.example", external_id="00u3sam0SUPPORT")
LEE = Person("Lee", "Lead", "lee.lead@globex.example", external_id="00u4lee0LEAD")
NOT_PROVISIONED = "0e7b6a52-3c55-4f4e-9d55-2d1a0c8f9b11"  # a member whose create failed in Okta


def test_okta_app_integration_wizard_journey(
    page: Page, shot: Any, problems: Any, live_server: Any
) -> None:
    base = live_server.url
    globex, admin = journey.organisation_with_admin("globex", "Globex Corporation")
    okta = journey.IdentityProvider(page, okta_idp(), tile_path="/home/globex_auzlearn_1/0oa9z8")

    # The admin signs in and gives Okta our SAML values; the metadata is pasted this time.
    journey.sign_in_as_admin(page, base, globex, admin)
    journey.open_single_sign_on(page)
    journey.open_provider(page, "Okta")
    okta.acs_url = journey.copy(page, "Single sign-on URL")
    okta.audience = journey.copy(page, "Audience URI (SP Entity ID)")
    okta.default_relay_state = journey.copy(page, "Default RelayState")
    connection = SamlConnection.objects.get(organisation=globex, provider="okta")
    assert (okta.acs_url, okta.audience) == (connection.acs_url, connection.sp_entity_id)
    journey.paste_metadata(page, okta.idp.metadata_xml())
    journey.expect_metadata_shown(page, okta.idp)
    journey.turn_sso_on(page, "Okta")

    # SCIM tab, from the keyboard: the switch, Update, Generate Key, the copy buttons.
    journey.open_tab(page, "Okta", "SCIM")
    page.get_by_role("switch", name="Enable SCIM").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Update").press("Enter")
    journey.expect_message(page, "SCIM is on:")
    journey.generate_key(page)
    page.get_by_role("button", name="Copy the Secret Key").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#copy-status")).to_have_text("Copied the Secret Key")
    key = page.evaluate("navigator.clipboard.readText()")
    tenant_url = journey.copy(page, "Tenant URL")
    assert key == page.get_by_role("textbox", name="Secret Key").input_value()
    page.get_by_role("button", name="Update").click()
    journey.expect_message(page, "SCIM is on:")

    # Okta (HTTP Header: the key as a Bearer token) provisions with POST and PUT only.
    okta_scim = ScimHttpClient(tenant_url, key, OKTA_AGENT)
    sam_id, lee_id, team_id = okta_aiw_provisions(okta_scim)
    deactivated = put_user(okta_scim, lee_id, active=False)
    assert deactivated.status == 200 and deactivated.document["active"] is False

    # The Activity tab explains the failed team update in plain words.
    journey.open_tab(page, "Okta", "Activity")
    page.get_by_role("link", name="SCIM requests").click()
    expect(journey.scim_log_rows(page)).to_have_count(len(okta_scim.sent))
    page.get_by_role("navigation", name="Show requests").get_by_role("link", name="Failed").click()
    failed = journey.scim_log_rows(page)
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text(f"PUT /Groups/{team_id}")
    expect(failed).to_contain_text(
        "Okta tried to replace team Support, but: These member ids are not users of this "
        f'organisation: "{NOT_PROVISIONED}". Provision the users first; nothing was changed.'
    )
    shot("activity-scim-failed")
    journey.sign_out(page)

    # Sam signs in from the Okta tile: name, manager and team.
    okta.open_tile(SAM)
    journey.expect_landing_page(page, base, SAM)
    expect(journey.fact(page, "Manager")).to_have_text(
        f"{LEE.full_name} ({LEE.email}) · no longer active"
    )
    expect(journey.fact(page, "Teams")).to_have_text("Support")
    shot("landing-page")
    journey.sign_out(page)

    # Lee was deactivated (a PUT with active false): refused.
    with journey.refused_with_403(page, problems):
        okta.open_tile(LEE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your access was removed")

    # Okta assigns Lee again, with a PUT of the whole user: the same account, history and all.
    lee = User.objects.get(public_id=lee_id)
    reactivated = put_user(okta_scim, lee_id, active=True)
    assert reactivated.status == 200 and reactivated.document["active"] is True
    okta.open_tile(LEE)
    journey.expect_landing_page(page, base, LEE)
    expect(journey.fact(page, "Teams")).to_have_text("Support")
    journey.history_is_intact(globex, lee, team_id=team_id, report_id=sam_id)


def okta_aiw_provisions(okta_scim: ScimHttpClient) -> tuple[str, str, str]:
    """Test Connector Configuration, Import, Sam then their manager Lee, a profile update and a
    team, each change a PUT of the whole resource; one team update names a person Okta never
    managed to create, and fails without changing anything."""
    assert okta_scim.get("Users?startIndex=1&count=2").status == 200
    assert okta_scim.get("Users?startIndex=1&count=100").status == 200

    ids = {}
    for person, manager in ((SAM, LEE), (LEE, None)):
        lookup = okta_scim.get("Users?" + where(f'userName eq "{person.username}"'))
        assert lookup.status == 200 and lookup.resources == []
        reference = (
            {"value": manager.external_id, "displayName": manager.email} if manager else None
        )
        created = okta_scim.post("Users", okta_user(person, manager=reference))
        assert created.status == 201, created.document
        ids[person.username] = created.document["id"]
    sam_id, lee_id = ids[SAM.username], ids[LEE.username]

    sam = okta_scim.get(f"Users/{sam_id}").document
    sam["title"] = "Support engineer"
    updated = okta_scim.put(f"Users/{sam_id}", sam)
    assert updated.status == 200 and updated.document["title"] == "Support engineer"
    manager = updated.document[journey.ENTERPRISE_USER]["manager"]
    assert manager["value"] == lee_id

    team = okta_scim.post(
        "Groups", {"schemas": [journey.CORE_GROUP], "displayName": "Support", "members": []}
    )
    assert team.status == 201
    team_id = team.document["id"]
    assert put_team(okta_scim, team_id, sam_id, lee_id).status == 200
    assert put_team(okta_scim, team_id, sam_id, lee_id, NOT_PROVISIONED).status == 400
    members = okta_scim.get(f"Groups/{team_id}").document["members"]
    assert {member["value"] for member in members} == {sam_id, lee_id}
    return sam_id, lee_id, team_id


def put_user(okta_scim: ScimHttpClient, user_id: str, *, active: bool) -> journey.ScimAnswer:
    """Okta AIW apps deactivate and reactivate with a PUT of the whole user, as last read."""
    document = okta_scim.get(f"Users/{user_id}").document
    document["active"] = active
    return okta_scim.put(f"Users/{user_id}", document)


def put_team(okta_scim: ScimHttpClient, team_id: str, *member_ids: str) -> journey.ScimAnswer:
    """Okta AIW apps send the full member list with every membership change."""
    body = {
        "schemas": [journey.CORE_GROUP],
        "id": team_id,
        "displayName": "Support",
        "members": journey.members(*member_ids),
    }
    return okta_scim.put(f"Groups/{team_id}", body)
