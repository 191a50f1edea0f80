"""The development IdP against our real ACS: its responses, signed with its own key, pass every
check Okta's pass, started at the IdP (with RelayState) or by us (answering our AuthnRequest);
a response changed after signing does not; and with DEBUG off none of its URLs exist."""

import base64
import re
import zlib
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from django.test import Client
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from accounts.models import Organisation, User
from devidp import connections, keys
from sso.metadata import MetadataError, parse_metadata
from sso.models import PendingSignIn, SamlConnection, SignInAttempt, SignInOutcome
from tests import factories
from tests.devidp.pages import Form, forms
from tests.devidp.routing import urls_with_debug
from tests.sso.idp import okta_idp, signature_is_intact, tamper_text

pytestmark = pytest.mark.django_db
DS = "http://www.w3.org/2000/09/xmldsig#"
DEV_IDP_PATHS = ["/dev-idp/", "/dev-idp/metadata/", "/dev-idp/sso/", "/dev-idp/sign-in/"]


def person(organisation: Organisation, username: str) -> User:
    return User.objects.for_organisation(organisation).get(username=username)


def form_to(html: bytes, path_fragment: str) -> Form:
    return next(form for form in forms(html) if path_fragment in form.action)


def choose(client: Client, page: bytes, who: User) -> Form:
    """Click the person's button on the IdP's page; the form it answers with, to our ACS."""
    chooser = form_to(page, "/dev-idp/sign-in/")
    assert chooser.buttons[who.full_name] == str(who.public_id)
    answer = client.post(chooser.path, chooser.choosing("person", str(who.public_id)))
    assert answer.status_code == 200
    assert b'src="/static/js/auto-submit.js"' in answer.content
    return form_to(answer.content, "/acs/")


def response_xml(form: Form) -> bytes:
    return base64.b64decode(form.fields["SAMLResponse"])


def last_attempt(connection: SamlConnection) -> SignInAttempt:
    return SignInAttempt.objects.filter(connection=connection).latest("pk")


def check(attempt: SignInAttempt, code: str) -> dict[str, Any]:
    return next(item for item in attempt.checks if item["code"] == code)


def test_a_sign_in_started_at_the_idp_passes_our_acs_and_follows_relay_state(
    demo: Organisation, demo_connection: SamlConnection
) -> None:
    client = Client()
    ben = person(demo, "ben@demo.test")

    dashboard = client.get("/dev-idp/?RelayState=/me.json")
    assert dashboard.status_code == 200
    assert "Content-Security-Policy" in dashboard
    for username in ("admin@demo.test", "ada@demo.test", "ben@demo.test", "cleo@demo.test"):
        assert username.encode() in dashboard.content
    to_acs = choose(client, dashboard.content, ben)
    assert to_acs.action == demo_connection.acs_url
    assert to_acs.fields["RelayState"] == "/me.json"
    xml = response_xml(to_acs)
    assert b"InResponseTo" not in xml

    landed = client.post(to_acs.path, to_acs.fields)

    assert landed.status_code == 302 and landed["Location"] == "/me.json"
    assert client.get("/me.json").json()["username"] == "ben@demo.test"
    attempt = last_attempt(demo_connection)
    assert attempt.outcome == SignInOutcome.SIGNED_IN and attempt.name_id == "ben@demo.test"
    assert all(item["passed"] for item in attempt.checks)
    assert "IdP-initiated" in check(attempt, "in_response_to")["detail"]


def test_responses_are_signed_as_okta_signs_them(
    demo: Organisation, demo_connection: SamlConnection
) -> None:
    client = Client()
    xml = response_xml(
        choose(client, client.get("/dev-idp/").content, person(demo, "ada@demo.test"))
    )
    root = etree.fromstring(xml)
    signatures = root.findall(f".//{{{DS}}}Signature")
    # The Response and its assertion, each over its own ID, RSA-SHA256 with SHA-256 digests.
    assert [s.getparent().tag.rsplit("}")[1] for s in signatures] == ["Response", "Assertion"]
    for signature in signatures:
        method = signature.find(f"{{{DS}}}SignedInfo/{{{DS}}}SignatureMethod")
        digest = signature.find(f"{{{DS}}}SignedInfo/{{{DS}}}Reference/{{{DS}}}DigestMethod")
        assert method.get("Algorithm") == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
        assert digest.get("Algorithm") == "http://www.w3.org/2001/04/xmlenc#sha256"
    assert signature_is_intact(xml, _key_pair())
    assert root.get("Destination") == demo_connection.acs_url
    audience = root.find(".//{urn:oasis:names:tc:SAML:2.0:assertion}Audience")
    assert audience.text == demo_connection.sp_entity_id


def test_a_sign_in_we_start_is_answered_in_response_to_our_authn_request(
    demo: Organisation, demo_connection: SamlConnection
) -> None:
    client = Client()
    cleo = person(demo, "cleo@demo.test")

    started = client.get(urlsplit(demo_connection.login_url).path + "?next=/me.json")
    assert started.status_code == 302
    to_idp = urlsplit(started["Location"])
    assert f"{to_idp.scheme}://{to_idp.netloc}{to_idp.path}" == connections.sso_url()
    asked = client.get(to_idp.path + "?" + to_idp.query)
    assert asked.status_code == 200
    to_acs = choose(client, asked.content, cleo)

    pending = PendingSignIn.objects.get(connection=demo_connection)
    root = etree.fromstring(response_xml(to_acs))
    assert root.get("InResponseTo") == pending.request_id
    assert root.get("Destination") == demo_connection.acs_url
    landed = client.post(to_acs.path, to_acs.fields)

    assert landed.status_code == 302 and landed["Location"] == "/me.json"
    assert client.get("/me.json").json()["username"] == "cleo@demo.test"
    attempt = last_attempt(demo_connection)
    assert attempt.outcome == SignInOutcome.SIGNED_IN
    assert check(attempt, "in_response_to")["detail"] == (
        "It answers the sign-in request this browser started."
    )


def test_a_response_changed_after_signing_is_refused(
    demo: Organisation, demo_connection: SamlConnection
) -> None:
    client = Client()
    to_acs = choose(client, client.get("/dev-idp/").content, person(demo, "ben@demo.test"))
    forged = tamper_text(response_xml(to_acs), "NameID", "admin@demo.test")
    fields = {**to_acs.fields, "SAMLResponse": base64.b64encode(forged).decode()}

    refused = client.post(to_acs.path, fields)

    assert refused.status_code == 403
    assert client.get("/me.json").json() == {"authenticated": False}
    attempt = last_attempt(demo_connection)
    assert attempt.outcome == SignInOutcome.REFUSED and attempt.reason_code == "signature"


def test_no_other_connection_accepts_its_responses(
    demo: Organisation, demo_connection: SamlConnection
) -> None:
    """Another organisation's Okta connection (a real IdP's metadata) refuses a response the
    development IdP signed for it: its key is trusted only where manage.py demo put it."""
    acme = factories.organisation("acme")
    factories.user(acme, "ben@demo.test")
    other = factories.saml_connection(acme, okta_idp())
    assert connections.trusting() == [demo_connection]
    fields = connections.response_fields(
        other, person(demo, "ben@demo.test"), in_response_to=None, relay_state=None
    )

    refused = Client().post(urlsplit(other.acs_url).path, fields)

    assert refused.status_code == 403
    attempt = last_attempt(other)
    assert attempt.outcome == SignInOutcome.REFUSED
    assert check(attempt, "signature")["passed"] is False
    assert check(attempt, "issuer")["passed"] is False


def test_a_deactivated_person_can_be_chosen_and_is_refused_by_our_acs(
    demo: Organisation, demo_connection: SamlConnection
) -> None:
    from accounts import services

    cleo = services.user_deactivate(user=person(demo, "cleo@demo.test"), actor=factories.SYSTEM)
    client = Client()
    dashboard = client.get("/dev-idp/")
    assert b"deactivated" in dashboard.content
    to_acs = choose(client, dashboard.content, cleo)

    refused = client.post(to_acs.path, to_acs.fields)

    assert refused.status_code == 403
    assert b"Your access was removed" in refused.content


def redirect_request(xml: bytes) -> str:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return base64.b64encode(compressor.compress(xml) + compressor.flush()).decode()


def our_authn_request(client: Client, connection: SamlConnection) -> bytes:
    started = client.get(urlsplit(connection.login_url).path)
    encoded = parse_qs(urlsplit(started["Location"]).query)["SAMLRequest"][0]
    return zlib.decompress(base64.b64decode(encoded), -zlib.MAX_WBITS)


def test_a_request_for_an_acs_url_that_is_not_the_connections_is_refused(
    demo: Organisation, demo_connection: SamlConnection
) -> None:
    client = Client()
    xml = our_authn_request(client, demo_connection).replace(
        demo_connection.acs_url.encode(), b"https://evil.example/acs/"
    )
    saml_request = redirect_request(xml)

    asked = client.get("/dev-idp/sso/?SAMLRequest=" + quote(saml_request, safe=""))
    posted = client.post(
        "/dev-idp/sign-in/",
        {"SAMLRequest": saml_request, "person": str(person(demo, "ben@demo.test").public_id)},
    )

    for answer in (asked, posted):
        assert answer.status_code == 400
        assert b"https://evil.example/acs/" in answer.content
        assert b"SAMLResponse" not in answer.content


def test_a_request_from_a_connection_that_does_not_trust_it_is_refused(
    demo: Organisation,
) -> None:
    acme = factories.organisation("acme")
    other = factories.saml_connection(acme, okta_idp())
    client = Client()
    saml_request = redirect_request(our_authn_request(client, other))

    asked = client.get("/dev-idp/sso/?SAMLRequest=" + quote(saml_request, safe=""))

    assert asked.status_code == 400
    assert other.sp_entity_id.encode() in asked.content


@pytest.mark.parametrize(
    "saml_request",
    [
        "",
        "not base64 at all!",
        base64.b64encode(b"not deflated").decode(),
        redirect_request(b"<notxml"),
        redirect_request(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'),
        redirect_request(b"<Response xmlns='urn:oasis:names:tc:SAML:2.0:protocol'/>"),
        redirect_request(
            b"<samlp:AuthnRequest xmlns:samlp='urn:oasis:names:tc:SAML:2.0:protocol' ID='_1'/>"
        ),
        redirect_request(b"<a>" + b"x" * 200_000 + b"</a>"),
        "A" * 20_000,
    ],
    ids=[
        "empty",
        "not-base64",
        "not-deflate",
        "not-xml",
        "dtd",
        "not-authn-request",
        "no-issuer",
        "inflates-too-far",
        "too-long",
    ],
)
def test_a_request_it_cannot_read_is_answered_400_without_a_response(
    demo: Organisation, saml_request: str
) -> None:
    asked = Client().get("/dev-idp/sso/?SAMLRequest=" + quote(saml_request, safe=""))

    assert asked.status_code == 400
    assert b"Sign-in request refused" in asked.content
    assert b"SAMLResponse" not in asked.content


def test_choosing_someone_of_another_organisation_is_a_404(
    demo: Organisation, demo_connection: SamlConnection
) -> None:
    stranger = factories.user(factories.organisation("acme"), "eve@acme.test")
    client = Client()
    chooser = form_to(client.get("/dev-idp/").content, "/dev-idp/sign-in/")

    for value in (str(stranger.public_id), "not-a-uuid"):
        assert client.post(chooser.path, chooser.choosing("person", value)).status_code == 404
    unknown = {**chooser.fields, "connection": "x" * 20, "person": str(stranger.public_id)}
    assert client.post(chooser.path, unknown).status_code == 404


def test_its_metadata_says_what_the_demo_connection_pins(
    demo_connection: SamlConnection, settings: Any
) -> None:
    answer = Client().get("/dev-idp/metadata/")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/samlmetadata+xml"

    # Over http, as `make run` serves it, no upload makes a connection trust it...
    with pytest.raises(MetadataError) as refused:
        parse_metadata(answer.content)
    assert refused.value.code == "sso_url_not_https"
    # ...and read as a real IdP's over https, it states exactly what the demo command pinned.
    settings.PUBLIC_BASE_URL = "https://lms.example"
    parsed = parse_metadata(connections.metadata_xml())
    assert parsed == connections.idp_metadata()
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    assert [c["fingerprint_sha256"] for c in demo_connection.certificates] == [
        keys.signing_key().fingerprint_sha256
    ]
    assert demo_connection.idp_entity_id == connections.entity_id()
    assert demo_connection.idp_sso_url == connections.sso_url()


@pytest.mark.parametrize("path", DEV_IDP_PATHS)
def test_with_debug_off_its_urls_do_not_exist(settings: Any, path: str) -> None:
    with urls_with_debug(settings, False):
        with pytest.raises(Resolver404):
            resolve(path)
        with pytest.raises(NoReverseMatch):
            reverse("devidp:dashboard")
        assert Client().get(path).status_code == 404
        assert Client().post(path).status_code in (403, 404)  # CSRF refuses before routing


@pytest.mark.parametrize("path", DEV_IDP_PATHS)
def test_with_debug_on_its_urls_exist(debug_on: None, path: str) -> None:
    assert resolve(path).namespace == "devidp"


def _key_pair() -> Any:
    """The development IdP's certificate, as tests.sso.idp checks signatures with it."""
    from tests.sso.idp import KeyPair

    key = keys.signing_key()
    return KeyPair(key.private_key_pem, key.certificate_pem, key.certificate_der_b64)


def test_relay_state_of_the_dashboard_is_the_start_url_by_default(demo: Organisation) -> None:
    chooser = form_to(Client().get("/dev-idp/").content, "/dev-idp/sign-in/")
    assert chooser.fields["RelayState"] == "/"
    assert re.fullmatch(r"[0-9a-z]{20}", chooser.fields["connection"])
