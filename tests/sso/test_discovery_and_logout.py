"""Finding the identity provider from our sign-in page, and signing out."""

from urllib.parse import parse_qs, urlsplit

import pytest

from sso import services
from sso.metadata import parse_metadata
from tests import factories
from tests.sso import idp as test_idp


def _connect(org, idp, provider="okta", enabled=True):
    return factories.saml_connection(org, idp, provider=provider, enabled=enabled)


@pytest.fixture
def okta():
    return test_idp.okta_idp()


@pytest.mark.parametrize("entry", ["lee@acme.test", "LEE@ACME.TEST", "acme", " Acme "])
def test_work_email_or_organisation_leads_to_the_identity_provider(
    client, org, learner, okta, entry
):
    connection = _connect(org, okta)
    response = client.post("/sso/", {"entry": entry, "next": "/me.json"})
    assert response.status_code == 302
    assert response["Location"] == connection.login_url + "?next=%2Fme.json"
    idp_redirect = client.get(response["Location"])
    assert idp_redirect["Location"].startswith(okta.sso_url)


def test_an_email_known_in_two_organisations_leads_nowhere(client, org, other_org, okta):
    factories.user(org, "shared@example.com")
    factories.user(other_org, "shared@example.com")
    _connect(org, okta)
    _connect(other_org, test_idp.okta_idp())
    response = client.post("/sso/", {"entry": "shared@example.com"})
    assert response.status_code == 200
    assert b"We could not find single sign-on" in response.content


@pytest.mark.parametrize("entry", ["nobody@acme.test", "no-such-org", "globex"])
def test_unknown_entries_and_organisations_without_sso_get_a_clear_message(
    client, org, other_org, okta, entry
):
    _connect(org, okta)
    response = client.post("/sso/", {"entry": entry})
    assert response.status_code == 200
    assert b"We could not find single sign-on" in response.content


def test_a_disabled_connection_is_not_offered(client, org, learner, okta):
    _connect(org, okta, enabled=False)
    response = client.post("/sso/", {"entry": "acme"})
    assert b"We could not find single sign-on" in response.content


def test_two_enabled_providers_offer_a_choice(client, org, okta):
    _connect(org, okta)
    _connect(org, test_idp.entra_idp(), provider="entra")
    response = client.post("/sso/", {"entry": "acme"})
    assert response.status_code == 200
    assert b"Okta" in response.content and b"Microsoft Entra ID" in response.content


def test_the_password_page_links_to_single_sign_on(client):
    assert b'href="/sso/' in client.get("/sign-in/").content


def _sign_in(client, idp, connection, person):
    xml = idp.response(
        acs_url=connection.acs_url, audience=connection.sp_entity_id, name_id=person.username
    )
    client.post(urlsplit(connection.acs_url).path, idp.post_form(xml))
    assert client.get("/me.json").json()["authenticated"] is True


def test_sign_out_ends_the_session_and_goes_to_the_idps_single_logout(client, org, learner):
    okta = test_idp.okta_idp(slo_url="https://acme.okta.com/app/acme_auzlearn_1/exk1abcd/slo/saml")
    connection = _connect(org, okta)
    _sign_in(client, okta, connection, learner)
    response = client.post(urlsplit(connection.logout_url).path)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == okta.slo_url
    assert "SAMLRequest" in parse_qs(location.query)
    assert client.get("/me.json").json() == {"authenticated": False}


def test_sign_out_without_idp_logout_just_signs_out(client, org, learner):
    google = test_idp.google_idp(slo_url=None)
    connection = _connect(org, google, provider="google")
    _sign_in(client, google, connection, learner)
    response = client.post(urlsplit(connection.logout_url).path)
    assert response.status_code == 302 and response["Location"] == "/sign-in/"
    assert client.get("/me.json").json() == {"authenticated": False}


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
