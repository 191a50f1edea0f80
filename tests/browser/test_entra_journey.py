"""Microsoft Entra ID, end to end: the Entra page speaks Entra's words (Identifier, Reply URL,
claim URIs, Tenant URL and Secret Token), Entra provisions with its own shapes (capitalised ops,
"False" strings, the manager as a bare id, excludedAttributes=members, DELETE), and a person
signs in from our sign-in page: work email → Entra → back, in the browser.

Over https, as in production: the sign-in cookie must survive Entra's cross-site POST to the
ACS (see journey.https_front_end)."""

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Organisation, User
from sso.models import SamlConnection
from tests.browser import journey
from tests.browser.journey import Person, ScimHttpClient, entra_user, patch, where
from tests.scim.conftest import ENTRA_AGENT
from tests.sso.dns_stub import StubDns
from tests.sso.idp import CLAIMS, entra_idp

pytestmark = pytest.mark.django_db(transaction=True)

DANA = Person("Dana", "Developer", "dana.dev@initech.example", str(uuid.uuid4()))
QUINN = Person("Quinn", "Lead", "quinn.lead@initech.example", str(uuid.uuid4()))
CASEY = Person("Casey", "Leaver", "casey.leaver@initech.example", str(uuid.uuid4()))
ENTRA_GROUP_SCHEMA = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/Group"


def test_entra_journey(page: Page, shot: Any, live_server: Any, settings: Any) -> None:
    with journey.https_front_end(page, live_server.url, settings) as site:
        base = site.url
        initech, admin = journey.organisation_with_admin("initech", "Initech")
        entra = journey.IdentityProvider(page, entra_idp())

        journey.sign_in_as_admin(page, base, initech, admin)
        journey.open_single_sign_on(page)
        journey.open_provider(page, "Microsoft Entra ID")
        admin_configures_entra_sign_in(page, entra, initech)
        admin_verifies_the_email_domain(page, settings, "initech.example")
        shot("saml-tab-configured")

        # SCIM tab: Entra's words for the two values, then the key.
        journey.open_tab(page, "Microsoft Entra ID", "SCIM")
        steps = page.get_by_role("region", name="Connect Microsoft Entra ID")
        expect(steps).to_contain_text("Provisioning Mode")
        expect(journey.fact(steps, "Tenant URL")).to_have_text("the Tenant URL")
        expect(journey.fact(steps, "Secret Token")).to_have_text("the Secret Key")
        expect(steps).to_contain_text("Test Connection")
        journey.enable_scim(page)
        journey.generate_key(page)
        secret_token = journey.copy(page, "Secret Key")
        tenant_url = journey.copy(page, "Tenant URL")
        assert tenant_url == f"{base}/scim/v2/{initech.public_id}"
        shot("scim-tab-new-key")

        entra_scim = ScimHttpClient(tenant_url, secret_token, ENTRA_AGENT, cafile=site.cafile)
        entra_provisions(entra_scim)
        journey.sign_out(page)

        # Dana signs in from our page: work email → Entra's sign-in → back to us, signed in.
        entra.signed_in = DANA  # Dana's browser already has a session at Entra
        page.goto(f"{base}/sign-in/")
        page.get_by_role("link", name=re.compile("^Sign in with single sign-on")).click()
        page.get_by_label("Work email or organisation").fill(DANA.email)
        with page.expect_request(re.compile(r"^https://login\.microsoftonline\.com/")) as to_idp:
            page.get_by_role("button", name="Continue").click()
        journey.expect_landing_page(page, base, DANA)
        expect(journey.fact(page, "Manager")).to_have_text(f"{QUINN.full_name} ({QUINN.email})")
        expect(journey.fact(page, "Teams")).to_have_text("Engineering")
        shot("landing-page")
        assert to_idp.value.url.startswith(entra.idp.sso_url + "?SAMLRequest=")
        [request] = entra.authn_requests
        assert request["issuer"] == entra.audience and request["acs_url"] == entra.acs_url
        assert journey.me(page)["username"] == DANA.username


def admin_verifies_the_email_domain(page: Page, settings: Any, domain: str) -> None:
    """/sso/ sends an email to the IdP only by a verified domain: the admin adds Initech's, puts
    the TXT record the page shows into its DNS (a stub DNS server here), and clicks Verify."""
    page.get_by_label("Domain", exact=True).fill(domain.upper())
    page.get_by_role("button", name="Add domain").click()
    journey.expect_message(page, f"{domain} added.")
    name = journey.copy(page, f"record name for {domain}")
    value = journey.copy(page, f"record value for {domain}")
    assert name == f"_auzlearn.{domain}" and value.startswith("auzlearn-verification=")
    with StubDns() as dns_server:
        settings.SSO_DNS_NAMESERVERS = [dns_server.address]
        dns_server.txt[name] = [value]
        page.get_by_role("button", name=f"Verify {domain}").click()
    journey.expect_message(page, f"{domain} is verified.")
    expect(page.get_by_role("heading", name=f"{domain} Verified")).to_be_visible()


def admin_configures_entra_sign_in(
    page: Page, entra: journey.IdentityProvider, initech: Organisation
) -> None:
    """The values in Entra's words, its claim URIs, its Federation Metadata XML, SSO on."""
    connection = SamlConnection.objects.get(organisation=initech, provider="entra")
    expect(page.get_by_label(re.compile(r"^Identifier \(Entity ID\)"))).to_have_value(
        connection.sp_entity_id
    )
    entra.audience = journey.copy(page, "Identifier (Entity ID)")
    entra.acs_url = journey.copy(page, "Reply URL (Assertion Consumer Service URL)")
    assert (entra.audience, entra.acs_url) == (connection.sp_entity_id, connection.acs_url)
    assert entra.acs_url.startswith("https://")
    for label, claim in (
        ("First name", "givenname"),
        ("Last name", "surname"),
        ("Email", "emailaddress"),
    ):
        expect(page.get_by_label(re.compile(f"^{label}"))).to_have_value(f"{CLAIMS}/{claim}")
    steps = page.get_by_role("region", name="Set up sign-in in Microsoft Entra ID")
    expect(steps).to_contain_text("Basic SAML Configuration")
    expect(steps).to_contain_text("Attributes & Claims")

    journey.upload_metadata_file(page, entra.idp.metadata_xml(), "auzlearn.xml")
    journey.expect_metadata_shown(page, entra.idp)
    expect(journey.fact(page, "Sign-in URL (SSO)")).to_have_text(entra.idp.sso_url)
    journey.set_switches(page, **{"Sign in with Microsoft Entra ID": True})
    journey.expect_message(page, "Saved.")


def entra_provisions(entra_scim: ScimHttpClient) -> None:
    """Test Connection, three people, Quinn as Dana's manager (a bare id), a group read without
    its members and filled with capitalised ops, and Casey soft-deleted, then deleted."""
    test_connection = entra_scim.get("Users?" + where(f'userName eq "{uuid.uuid4()}"'))
    assert test_connection.status == 200 and test_connection.document["totalResults"] == 0

    ids = {}
    for person in (DANA, QUINN, CASEY):
        assert entra_scim.get("Users?" + where(f'userName eq "{person.username}"')).resources == []
        created = entra_scim.post("Users", entra_user(person))
        assert created.status == 201, created.document
        ids[person.username] = created.document["id"]
    dana_id, quinn_id, casey_id = (ids[p.username] for p in (DANA, QUINN, CASEY))
    manager_path = f"{journey.ENTERPRISE_USER}:manager"
    linked = entra_scim.patch(
        f"Users/{dana_id}", patch({"op": "Add", "path": manager_path, "value": quinn_id})
    )
    assert linked.status == 200
    assert linked.document[journey.ENTERPRISE_USER]["manager"]["value"] == quinn_id

    lookup = entra_scim.get(
        "Groups?excludedAttributes=members&" + where('displayName eq "Engineering"')
    )
    assert lookup.status == 200 and lookup.resources == []
    group = entra_scim.post(
        "Groups",
        {
            "schemas": [journey.CORE_GROUP, ENTRA_GROUP_SCHEMA],
            "externalId": str(uuid.uuid4()),
            "displayName": "Engineering",
            "meta": {"resourceType": "Group"},
        },
    )
    assert group.status == 201
    group_id = group.document["id"]
    added = entra_scim.patch(
        f"Groups/{group_id}",
        patch(
            {
                "op": "Add",
                "path": "members",
                "value": [{"value": i} for i in (dana_id, quinn_id, casey_id)],
            }
        ),
    )
    assert added.status == 204
    read = entra_scim.get(f"Groups/{group_id}?excludedAttributes=members")
    assert read.status == 200 and "members" not in read.document

    # Casey leaves: Entra disables the account ("False" as a string), then hard-deletes it.
    disabled = entra_scim.patch(
        f"Users/{casey_id}", patch({"op": "Replace", "path": "active", "value": "False"})
    )
    assert disabled.status == 200 and disabled.document["active"] is False
    assert entra_scim.delete(f"Users/{casey_id}").status == 204
    assert entra_scim.get(f"Users/{casey_id}").status == 404
    casey = User.objects.get(public_id=casey_id)
    assert casey.deleted_at is not None, "a tombstone: the row and its history stay"
    assert casey.teams.filter(display_name="Engineering").exists()
