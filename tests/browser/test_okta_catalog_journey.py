"""Okta's catalog app "SCIM 2.0 Test App (OAuth Bearer Token)", end to end (DESIGN §7): the
primary admin sets up SAML and SCIM in the browser, Okta provisions people and a team over HTTP
with PATCH (as catalog apps do), the admin reads the Activity tab, and people sign in from the
Okta tile: one lands on their home page, the deactivated one is refused, and comes back with their
history once Okta assigns them again."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from sso.models import SamlConnection
from tests.browser import journey
from tests.browser.journey import Person, ScimHttpClient, okta_user, patch, where
from tests.scim.conftest import OKTA_AGENT
from tests.sso.idp import okta_idp

pytestmark = pytest.mark.django_db(transaction=True)

RILEY = Person("Riley", "Report", "riley.report@acme.example", external_id="00u1riley0REPORT")
MORGAN = Person("Morgan", "Manager", "morgan.manager@acme.example", external_id="00u2morgan0MGR")


def test_okta_catalog_app_journey(page: Page, shot: Any, problems: Any, live_server: Any) -> None:
    base = live_server.url
    acme, admin = journey.organisation_with_admin("acme", "Acme Ltd")
    okta = journey.IdentityProvider(page, okta_idp(), tile_path="/home/acme_auzlearn_1/0oa1b2c3")

    # The primary admin signs in with their password and opens Okta's settings.
    page.goto(f"{base}/sign-in/")
    shot("sign-in")
    journey.sign_in_as_admin(page, base, acme, admin)
    journey.open_single_sign_on(page)
    shot("overview-before")
    journey.open_provider(page, "Okta")
    shot("saml-tab-empty")

    # SAML tab: the values to paste into Okta, copied with the copy buttons.
    connection = SamlConnection.objects.get(organisation=acme, provider="okta")
    okta.acs_url = journey.copy(page, "Single sign-on URL")
    okta.audience = journey.copy(page, "Audience URI (SP Entity ID)")
    okta.default_relay_state = journey.copy(page, "Default RelayState")
    assert okta.acs_url == connection.acs_url and okta.acs_url.startswith(f"{base}/sso/saml/")
    assert okta.audience == connection.sp_entity_id
    assert okta.default_relay_state == "/"

    # Okta's Identity Provider metadata, downloaded as a file and uploaded here.
    journey.upload_metadata_file(page, okta.idp.metadata_xml(), "okta-metadata.xml")
    journey.expect_metadata_shown(page, okta.idp)
    journey.turn_sso_on(page, "Okta")
    shot("saml-tab-configured")

    # SCIM tab: Enable SCIM, Update, Generate Key; the key and the Tenant URL go to Okta.
    journey.open_tab(page, "Okta", "SCIM")
    journey.enable_scim(page)
    shown_key = journey.generate_key(page)
    shot("scim-tab-new-key")
    key = journey.copy(page, "Secret Key")
    tenant_url = journey.copy(page, "Tenant URL")
    assert key == shown_key and len(key) >= 32
    assert tenant_url == f"{base}/scim/v2/{acme.public_id}"
    page.get_by_role("button", name="Update").click()
    journey.expect_message(page, "SCIM is on:")
    assert key not in page.content(), "the key is shown once, never again"
    expect(journey.fact(page, "Key")).to_contain_text(key[:8])

    # The two tabs on a phone.
    with journey.phone_width(page):
        journey.expect_readable_at_360px(page)
        shot("scim-tab-360px")
        journey.open_tab(page, "Okta", "SAML")
        journey.expect_readable_at_360px(page)
        shot("saml-tab-360px")

    # Okta, with the Tenant URL and the key as a Bearer token, provisions.
    okta_scim = ScimHttpClient(tenant_url, key, OKTA_AGENT)
    riley_id, morgan_id, team_id = okta_provisions_two_people_and_a_team(okta_scim)
    assert okta_scim.post("Users", okta_user(MORGAN)).status == 409  # a retried create
    deactivated = okta_scim.patch(
        f"Users/{morgan_id}", patch({"op": "replace", "value": {"active": False}})
    )
    assert deactivated.status == 200 and deactivated.document["active"] is False

    # Back in the browser: the Activity tab lists each request; the failed one says why.
    admin_reads_the_scim_activity(page, shot, requests=len(okta_scim.sent))
    journey.open_single_sign_on(page)
    okta_card = page.get_by_role("listitem").filter(
        has=page.get_by_role("heading", name="Okta", exact=True)
    )
    expect(okta_card).to_contain_text("SSO on")
    expect(okta_card).to_contain_text("Sent the last SCIM request")
    scim_summary = page.get_by_role("region", name="Provisioning (SCIM)")
    expect(scim_summary).to_contain_text("SCIM on")
    expect(scim_summary).to_contain_text("Succeeded (200) · from Okta")
    shot("overview-after")
    journey.sign_out(page)

    # Riley signs in from the Okta tile and sees their name, manager (deactivated just now)
    # and team.
    okta.open_tile(RILEY)
    journey.expect_landing_page(page, base, RILEY)
    expect(journey.fact(page, "Manager")).to_have_text(
        f"{MORGAN.full_name} ({MORGAN.email}) · no longer active"
    )
    expect(journey.fact(page, "Teams")).to_have_text("Sales")
    shot("landing-page")
    journey.sign_out(page)

    # Morgan was unassigned in Okta (deactivated here): the tile is refused.
    with journey.refused_with_403(page, problems):
        okta.open_tile(MORGAN)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your access was removed")
    shot("access-removed")
    assert journey.me(page) == {"authenticated": False}

    # Okta assigns Morgan again: the same account comes back, history and all.
    morgan = User.objects.get(public_id=morgan_id)
    reactivated = okta_scim.patch(
        f"Users/{morgan_id}", patch({"op": "replace", "value": {"active": True}})
    )
    assert reactivated.status == 200 and reactivated.document["active"] is True
    okta.open_tile(MORGAN)
    journey.expect_landing_page(page, base, MORGAN)
    expect(journey.fact(page, "Teams")).to_have_text("Sales")
    journey.history_is_intact(acme, morgan, team_id=team_id, report_id=riley_id)


def okta_provisions_two_people_and_a_team(okta_scim: ScimHttpClient) -> tuple[str, str, str]:
    """Test API Credentials, an import, Riley then their manager Morgan (the report first, so
    the manager is named before they exist), and Push Groups with both."""
    connection_test = okta_scim.get("Users?startIndex=1&count=2")
    assert connection_test.status == 200
    assert connection_test.document["totalResults"] == 1  # the admin, made with a password
    assert okta_scim.get("Users?startIndex=1&count=100").status == 200  # Import Now

    ids = {}
    for person, manager in ((RILEY, MORGAN), (MORGAN, None)):
        lookup = okta_scim.get("Users?" + where(f'userName eq "{person.username}"'))
        assert lookup.status == 200 and lookup.resources == []
        reference = (
            {"value": manager.external_id, "displayName": manager.email} if manager else None
        )
        created = okta_scim.post("Users", okta_user(person, manager=reference))
        assert created.status == 201, created.document
        ids[person.username] = created.document["id"]
    riley_id, morgan_id = ids[RILEY.username], ids[MORGAN.username]
    manager = okta_scim.get(f"Users/{riley_id}").document[journey.ENTERPRISE_USER]["manager"]
    assert (manager["value"], manager["displayName"]) == (morgan_id, MORGAN.email)

    team = okta_scim.post(
        "Groups", {"schemas": [journey.CORE_GROUP], "displayName": "Sales", "members": []}
    )
    assert team.status == 201
    team_id = team.document["id"]
    pushed = okta_scim.patch(
        f"Groups/{team_id}",
        patch(
            {"op": "replace", "value": {"id": team_id, "displayName": "Sales"}},
            {"op": "add", "path": "members", "value": journey.members(riley_id, morgan_id)},
        ),
    )
    assert pushed.status == 204
    return riley_id, morgan_id, team_id


def admin_reads_the_scim_activity(page: Page, shot: Any, *, requests: int) -> None:
    journey.open_tab(page, "Okta", "Activity")
    page.get_by_role("navigation", name="Which activity").get_by_role(
        "link", name="SCIM requests"
    ).click()
    rows = journey.scim_log_rows(page)
    expect(rows).to_have_count(requests)
    expect(rows.first).to_contain_text("PATCH /Users/")  # newest first: the deactivation
    # By its status badge: a bare "409" could also be part of an id or a duration.
    failed = rows.filter(has=page.get_by_text("409 Failed", exact=True))
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text(
        f"Okta tried to create user {MORGAN.username}, but: An active user with"
    )
    expect(failed).to_contain_text("already exists")
    shot("activity-scim")
    page.get_by_role("navigation", name="Show requests").get_by_role("link", name="Failed").click()
    expect(journey.scim_log_rows(page)).to_have_count(1)
