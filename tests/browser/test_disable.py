"""Turning things off (DESIGN §7.5): SCIM off stops Okta's key at once and loses nobody; SSO off,
after SSO had been required, gives learners their password sign-in back. Both ask first."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts import services as accounts_services
from accounts.models import Organisation, User
from scim import keys
from sso import services
from sso.metadata import parse_metadata
from tests import factories
from tests.browser import journey
from tests.browser.journey import Person, ScimHttpClient, okta_user
from tests.scim.conftest import OKTA_AGENT
from tests.sso.idp import TestIdP, okta_idp

pytestmark = pytest.mark.django_db(transaction=True)

PAT = Person("Pat", "Password", "pat@hooli.example", external_id="")
ALEX = Person("Alex", "Assigned", "alex@hooli.example", external_id="00u5alex")
JO = Person("Jo", "Joined", "jo@hooli.example", external_id="00u6jo")


def test_scim_off_stops_the_key_and_sso_off_brings_passwords_back(
    page: Page, shot: Any, problems: Any, live_server: Any
) -> None:
    base = live_server.url
    hooli, admin = journey.organisation_with_admin("hooli", "Hooli")
    okta = journey.IdentityProvider(page, okta_idp(), tile_path="/home/hooli_auzlearn_1/0oa5")
    okta_scim = okta_already_connected(hooli, okta.idp, base)
    okta.acs_url, okta.audience = connection_values(hooli)
    okta.default_relay_state = "/"
    for person in (ALEX, JO):
        assert okta_scim.post("Users", okta_user(person)).status == 201
    factories.user(hooli, PAT.username, given_name=PAT.given_name, family_name=PAT.family_name)

    # The admin requires SSO, and is asked first.
    journey.sign_in_as_admin(page, base, hooli, admin)
    journey.open_single_sign_on(page)
    journey.open_provider(page, "Okta")
    journey.set_switches(page, **{"Require single sign-on": True})
    expect(page.get_by_role("heading", name="Change how people sign in?")).to_be_visible()
    expect(page.get_by_role("region")).to_contain_text("password sign-in is refused")
    shot("confirm-require-sso")
    page.get_by_role("button", name="Yes, save these settings").click()
    journey.expect_message(page, "Saved.")
    expect(page.get_by_role("switch", name="Require single sign-on")).to_be_checked()
    journey.sign_out(page)

    # Pat, a learner with a password, can no longer use it.
    journey.sign_in_with_password(page, base, hooli, PAT.username, factories.PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("signs in with single sign-on")
    shot("password-refused-while-sso-required")

    # The primary admin keeps a break-glass password sign-in, and turns SCIM off.
    journey.sign_in_as_admin(page, base, hooli, admin)
    journey.open_single_sign_on(page)
    journey.open_provider(page, "Okta")
    journey.open_tab(page, "Okta", "SCIM")
    page.get_by_role("switch", name="Enable SCIM").uncheck()
    page.get_by_role("button", name="Update").click()
    expect(page.get_by_role("heading", name="Turn SCIM off?")).to_be_visible()
    shot("confirm-scim-off")
    page.get_by_role(
        "button", name="I understand Okta will stop provisioning: turn SCIM off"
    ).click()
    journey.expect_message(page, "SCIM is off:")
    expect(
        page.get_by_text("SCIM is off, so Okta's requests with this key are refused")
    ).to_be_visible()

    # Okta's key stops working at once; everyone it provisioned stays.
    for refused in (
        okta_scim.get("Users?startIndex=1&count=2"),
        okta_scim.post("Users", okta_user(PAT)),
    ):
        assert refused.status == 403
        assert refused.document["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
        assert "turned off" in refused.document["detail"]
    provisioned = User.objects.filter(organisation=hooli, username__in=[ALEX.username, JO.username])
    assert [user.is_active for user in provisioned] == [True, True]
    journey.open_tab(page, "Okta", "Activity")
    page.get_by_role("link", name="SCIM requests").click()
    page.get_by_role("navigation", name="Show requests").get_by_role("link", name="Failed").click()
    expect(journey.scim_log_rows(page)).to_have_count(2)
    expect(journey.scim_log_rows(page).first).to_contain_text("SCIM provisioning is turned off")

    # SSO off, and no longer required: asked first, since nobody can use the Okta tile after.
    journey.open_tab(page, "Okta", "SAML")
    journey.set_switches(page, **{"Sign in with Okta": False, "Require single sign-on": False})
    expect(page.get_by_role("region")).to_contain_text(
        "Nobody can sign in with Okta once SSO is off"
    )
    shot("confirm-sso-off")
    page.get_by_role("button", name="Yes, save these settings").click()
    journey.expect_message(page, "Saved.")
    expect(page.get_by_role("heading", name="Single sign-on Off")).to_be_visible()
    journey.sign_out(page)

    # The Okta tile no longer signs anyone in; Pat's password works again.
    with journey.refused_with_403(page, problems):
        okta.open_tile(ALEX)
    expect(page.get_by_role("main")).to_contain_text("Single sign-on is off")
    journey.sign_in_with_password(page, base, hooli, PAT.username, factories.PASSWORD)
    journey.expect_landing_page(page, base, PAT)
    shot("password-sign-in-works-again")


def okta_already_connected(organisation: Organisation, idp: TestIdP, base: str) -> ScimHttpClient:
    """Where the Okta journey left off: SSO on from the tile, SCIM on with a key in Okta."""
    connection = services.connection_for(organisation=organisation, provider="okta")
    xml = idp.metadata_xml()
    services.connection_configure(
        connection=connection,
        actor=factories.SYSTEM,
        metadata=parse_metadata(xml),
        metadata_xml=xml.decode(),
    )
    services.connection_switches(
        connection=connection,
        actor=factories.SYSTEM,
        enabled=True,
        allow_idp_initiated=True,
        jit_provisioning=False,
    )
    accounts_services.organisation_update(
        organisation=organisation, actor=factories.SYSTEM, scim_enabled=True
    )
    issued = keys.issue(organisation=organisation, actor=factories.SYSTEM, created_by=None)
    return ScimHttpClient(f"{base}/scim/v2/{organisation.public_id}", issued.secret, OKTA_AGENT)


def connection_values(organisation: Organisation) -> tuple[str, str]:
    connection = services.connection_for(organisation=organisation, provider="okta")
    return connection.acs_url, connection.sp_entity_id
