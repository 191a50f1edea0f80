"""Finding the identity provider from our sign-in page (home realm discovery): by a verified
email domain or the organisation's short name, never by looking anybody up. Signing out is in
test_logout.py."""

import html
import re
from urllib.parse import urlsplit

import pytest

from sso import services
from sso.metadata import parse_metadata
from sso.models import DomainVerification
from tests import factories
from tests.sso import idp as test_idp


def _connect(org, idp, provider="okta", enabled=True):
    return factories.saml_connection(org, idp, provider=provider, enabled=enabled)


def _domain(org, name, *, verified=True):
    domain = services.domain_add(organisation=org, actor=factories.SYSTEM, domain=name)
    if verified:
        services.domain_verify(
            domain=domain, actor=factories.SYSTEM, method=DomainVerification.SUPPORT
        )
    return domain


@pytest.fixture
def okta():
    return test_idp.okta_idp()


def _not_found(response, entry):
    """The page that says nothing was found, with the entry taken out: what remains must be
    the same whatever the entry was."""
    assert response.status_code == 200
    page = response.content.decode()
    assert "We could not find single sign-on" in page
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page).replace(
        html.escape(entry), "ENTRY"
    )


@pytest.mark.parametrize(
    "entry",
    [
        "lee@acme.test",
        "LEE@ACME.TEST",
        "nobody.yet@acme.test",  # no account: the same answer, routed by the domain alone
        "lee@acme.test.",
        "acme.test",
        "acme",
        " Acme ",
    ],
)
def test_a_verified_domain_or_the_organisation_leads_to_the_identity_provider(
    client, org, learner, okta, entry
):
    connection = _connect(org, okta)
    _domain(org, "acme.test")
    response = client.post("/sso/", {"entry": entry, "next": "/me.json"})
    assert response.status_code == 302
    assert response["Location"] == connection.login_url + "?next=%2Fme.json"
    idp_redirect = client.get(response["Location"])
    assert idp_redirect["Location"].startswith(okta.sso_url)


def test_an_internationalised_domain_routes_in_either_form(client, org, okta):
    connection = _connect(org, okta)
    _domain(org, "bücher.example")
    for entry in ["anna@BÜCHER.example", "anna@xn--bcher-kva.example"]:
        response = client.post("/sso/", {"entry": entry})
        assert response["Location"] == connection.login_url


def test_unverified_and_unknown_domains_answer_exactly_alike(client, org, other_org, okta):
    _connect(org, okta)
    _domain(org, "acme.test", verified=False)
    factories.user(org, "known@acme.test")
    factories.user(other_org, "known@globex.test")
    entries = [
        "known@acme.test",  # a person who exists, at a domain claimed but not verified
        "nobody@acme.test",
        "known@globex.test",  # a person who exists, at a domain nobody claimed
        "nobody@nowhere.test",
    ]

    pages = {_not_found(client.post("/sso/", {"entry": entry}), entry) for entry in entries}

    assert len(pages) == 1


def test_nobody_is_looked_up(client, org, learner, okta, django_assert_num_queries):
    _connect(org, okta)
    _domain(org, "acme.test")
    # One query, for the connections: no person is read, whatever the entry.
    with django_assert_num_queries(1) as queries:
        client.post("/sso/", {"entry": "lee@acme.test"})
    assert "accounts_user" not in queries.captured_queries[0]["sql"]


def test_an_email_at_a_domain_nobody_verified_leads_nowhere_even_when_known(
    client, org, other_org, okta
):
    factories.user(org, "shared@example.com")
    factories.user(other_org, "shared@example.com")
    _connect(org, okta)
    _connect(other_org, test_idp.okta_idp())
    response = client.post("/sso/", {"entry": "shared@example.com"})
    _not_found(response, "shared@example.com")


@pytest.mark.parametrize(
    "entry", ["nobody@acme.test", "no-such-org", "globex", "not an email@", "@", "a@b@c"]
)
def test_unknown_entries_and_organisations_without_sso_get_a_clear_message(
    client, org, other_org, okta, entry
):
    _connect(org, okta)
    response = client.post("/sso/", {"entry": entry})
    _not_found(response, entry)


def test_a_disabled_connection_is_not_offered(client, org, learner, okta):
    _connect(org, okta, enabled=False)
    _domain(org, "acme.test")
    for entry in ["acme", "lee@acme.test"]:
        _not_found(client.post("/sso/", {"entry": entry}), entry)


def test_two_enabled_providers_offer_a_choice(client, org, okta):
    _connect(org, okta)
    _connect(org, test_idp.entra_idp(), provider="entra")
    _domain(org, "acme.test")
    for entry in ["acme", "lee@acme.test"]:
        response = client.post("/sso/", {"entry": entry})
        assert response.status_code == 200
        assert b"Okta" in response.content and b"Microsoft Entra ID" in response.content


def test_the_password_page_links_to_single_sign_on(client):
    assert b'href="/sso/' in client.get("/sign-in/").content


def test_sp_metadata_is_served_before_the_idp_is_configured(client, org):
    connection = services.connection_for(organisation=org, provider="entra")
    response = client.get(urlsplit(connection.sp_entity_id).path)
    assert response.status_code == 200
    assert connection.acs_url in response.content.decode()
    assert client.get(urlsplit(connection.login_url).path).status_code == 404


def test_uploading_the_same_metadata_again_writes_no_audit_event(org, okta):
    from accounts.models import AuditEvent

    connection = _connect(org, okta)
    before = AuditEvent.objects.filter(action="saml.configure").count()
    xml = okta.metadata_xml()
    services.connection_configure(
        connection=connection,
        actor=factories.SYSTEM,
        metadata=parse_metadata(xml),
        metadata_xml=xml.decode(),
    )
    assert AuditEvent.objects.filter(action="saml.configure").count() == before
