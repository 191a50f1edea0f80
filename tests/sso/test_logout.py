"""Signing out (DESIGN §6): only our own POST with its CSRF token, or a LogoutRequest or
LogoutResponse signed for real by the connection's IdP (tests/sso/idp.py) and passing every
check, signs anybody out. Each attack is a message an attacker could make or capture, and must
change nothing and be answered with a plain 400 page."""

import base64
import re
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from sso import logout as saml_logout
from sso.models import AcceptedAssertion
from tests import factories
from tests.sso import idp as test_idp

OKTA_SLO = "https://acme.okta.com/app/acme_auzlearn_1/exk1abcd2EFGH3ijk4l5/slo/saml"


def _connect(org, idp, provider="okta"):
    return factories.saml_connection(org, idp, provider=provider)


@pytest.fixture
def okta():
    return test_idp.okta_idp(slo_url=OKTA_SLO)


@pytest.fixture
def connection(org, okta):
    return _connect(org, okta)


def path(connection) -> str:
    return urlsplit(connection.logout_url).path


def sign_in(client, idp, connection, person) -> None:
    """A real SAML sign-in at the ACS, as the IdP's page posts it."""
    xml = idp.response(
        acs_url=connection.acs_url, audience=connection.sp_entity_id, name_id=person.username
    )
    client.post(urlsplit(connection.acs_url).path, idp.post_form(xml))
    assert signed_in(client)


def signed_in(client) -> bool:
    return client.get("/me.json").json()["authenticated"] is True


def idp_logout_request(idp, connection, name_id, **options) -> str:
    """The query string of a LogoutRequest as the IdP sends it; options go to the XML, except
    sign/signing_key/signature/relay_state, which go to the binding."""
    binding = {
        name: options.pop(name)
        for name in ("sign", "signing_key", "signature", "relay_state")
        if name in options
    }
    options.setdefault("destination", connection.logout_url)
    xml = idp.logout_request(name_id=name_id, **options)
    return idp.redirect_query(xml, message="SAMLRequest", **binding)


def idp_logout_response(idp, connection, in_response_to, **options) -> str:
    binding = {
        name: options.pop(name) for name in ("sign", "signing_key", "signature") if name in options
    }
    options.setdefault("destination", connection.logout_url)
    xml = idp.logout_response(in_response_to=in_response_to, **options)
    return idp.redirect_query(xml, message="SAMLResponse", **binding)


def assert_refused(response, words: str = "") -> None:
    assert response.status_code == 400
    page = response.content.decode()
    assert "That sign-out was not accepted" in page
    assert words in page
    assert "Traceback" not in page and "File &quot;" not in page


# --- our own sign-out button ------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        # Another site's link or <img>: the browser says where it came from.
        {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_REFERER": "https://evil.example/"},
    ],
)
def test_a_plain_get_shows_a_sign_out_button_and_signs_nobody_out(
    client, okta, connection, learner, headers
):
    sign_in(client, okta, connection, learner)

    response = client.get(path(connection), **headers)

    assert response.status_code == 200
    page = response.content.decode()
    assert f'<form method="post" action="{path(connection)}">' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert "and of Okta" in page
    assert signed_in(client)
    assert "no-store" in response["Cache-Control"]


def test_a_plain_get_when_signed_out_says_so(client, connection):
    response = client.get(path(connection))
    assert response.status_code == 200
    assert b"You are signed out" in response.content


def test_a_post_without_the_csrf_token_signs_nobody_out(okta, connection, learner):
    browser = Client(enforce_csrf_checks=True)
    sign_in(browser, okta, connection, learner)

    response = browser.post(path(connection))

    assert response.status_code == 403
    assert signed_in(browser)


def test_a_post_with_another_sites_token_signs_nobody_out(okta, connection, learner):
    browser = Client(enforce_csrf_checks=True)
    sign_in(browser, okta, connection, learner)
    browser.get(path(connection))  # the browser has its CSRF cookie

    response = browser.post(path(connection), {"csrfmiddlewaretoken": "x" * 64})

    assert response.status_code == 403
    assert signed_in(browser)


def test_the_pages_button_signs_out_here_and_then_at_the_idp(okta, connection, learner):
    browser = Client(enforce_csrf_checks=True)
    sign_in(browser, okta, connection, learner)
    page = browser.get("/").content.decode()
    # The layout's Sign out posts to the SAML logout URL of the connection signed in through.
    assert f'<form method="post" action="{path(connection)}" class="inline">' in page
    [token] = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)

    response = browser.post(path(connection), {"csrfmiddlewaretoken": token})

    assert not signed_in(browser)
    # A page that moves on by itself (Refresh) and by its link, not a redirect: a form's
    # redirects may lead only to us under our Content-Security-Policy.
    assert response.status_code == 200
    idp_url = response["Refresh"].removeprefix("0; url=")
    assert idp_url.startswith(OKTA_SLO + "?SAMLRequest=")
    assert "Continue to Okta" in response.content.decode()
    sent = test_idp.decode_logout_request(idp_url)
    assert sent["name_id"] == learner.username
    assert sent["destination"] == OKTA_SLO
    assert sent["issuer"] == connection.sp_entity_id
    assert browser.session[saml_logout.SESSION_PENDING]["request_id"] == sent["id"]


def test_sign_out_without_idp_single_logout_just_signs_out(client, org, learner):
    google = test_idp.google_idp()  # Google Workspace has no SAML single logout
    connection = _connect(org, google, provider="google")
    sign_in(client, google, connection, learner)

    response = client.post(path(connection))

    assert response.status_code == 302 and response["Location"] == "/sign-in/"
    assert not signed_in(client)


def test_a_password_session_posting_here_is_signed_out_here_only(client, connection, learner):
    client.force_login(learner)

    response = client.post(path(connection))

    assert response.status_code == 302 and response["Location"] == "/sign-in/"
    assert not signed_in(client)


def test_a_session_of_another_connection_is_not_sent_to_this_idp(client, org, okta, learner):
    entra = test_idp.entra_idp()
    signed_in_through = _connect(org, entra, provider="entra")
    other = _connect(org, okta)
    sign_in(client, entra, signed_in_through, learner)

    response = client.post(path(other))

    assert response.status_code == 302 and response["Location"] == "/sign-in/"
    assert not signed_in(client)


def test_password_sessions_sign_out_through_djangos_view(client, learner):
    client.force_login(learner)
    page = client.get("/").content.decode()
    assert f'action="{reverse("accounts:logout")}"' in page
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert signed_in(client)


def test_an_unknown_connection_is_a_404(client, db):
    assert client.get("/sso/saml/0123456789abcdef0123/logout/").status_code == 404


# --- the IdP's LogoutRequest ------------------------------------------------------------------


IDPS_WITH_SINGLE_LOGOUT: dict[str, Callable[[], test_idp.TestIdP]] = {
    "okta": lambda: test_idp.okta_idp(slo_url=OKTA_SLO),
    "entra": test_idp.entra_idp,
    "saml": test_idp.generic_idp,
}


@pytest.mark.parametrize("provider", IDPS_WITH_SINGLE_LOGOUT)
def test_a_signed_logout_request_signs_the_person_out_and_answers_the_idp(
    client, org, learner, provider
):
    idp = IDPS_WITH_SINGLE_LOGOUT[provider]()
    connection = _connect(org, idp, provider=provider)
    sign_in(client, idp, connection, learner)
    query = idp_logout_request(
        idp, connection, learner.username, request_id="_slo1", relay_state="opaque-idp-state"
    )

    response = client.get(f"{path(connection)}?{query}")

    assert response.status_code == 302
    assert not signed_in(client)
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == idp.slo_url
    answer = parse_qs(location.query)
    assert answer["RelayState"] == ["opaque-idp-state"]
    xml = saml_logout_response_xml(answer["SAMLResponse"][0])
    assert 'InResponseTo="_slo1"' in xml and "status:Success" in xml
    assert AcceptedAssertion.objects.filter(
        connection=connection, assertion_id="logout:_slo1"
    ).exists()


def saml_logout_response_xml(encoded: str) -> str:
    return zlib.decompress(base64.b64decode(encoded), -zlib.MAX_WBITS).decode()


def test_a_logout_request_for_someone_else_answers_the_idp_and_changes_nothing(
    client, okta, connection, learner
):
    sign_in(client, okta, connection, learner)
    query = idp_logout_request(okta, connection, "someone.else@acme.test")

    response = client.get(f"{path(connection)}?{query}")

    assert response.status_code == 302 and response["Location"].startswith(OKTA_SLO + "?")
    assert signed_in(client)


def test_a_logout_request_to_a_password_session_changes_nothing(client, okta, connection, learner):
    client.force_login(learner)
    query = idp_logout_request(okta, connection, learner.username)

    response = client.get(f"{path(connection)}?{query}")

    assert response.status_code == 302
    assert signed_in(client)


def _other_key():
    return test_idp.make_key_pair("attacker")


OTHER_LOGOUT_URL = "https://lms.example.com/sso/saml/ffffffffffffffffffff/logout/"
# Each attack: what it changes in the message (given the connection), and what the page says.
LOGOUT_REQUEST_ATTACKS = {
    "unsigned": (lambda c: {"sign": False}, "is not signed"),
    "signed with another key": (
        lambda c: {"signing_key": _other_key()},
        "not signed by a certificate",
    ),
    "signed with SHA-1": (lambda c: {"signature": "rsa-sha1"}, "SHA-1"),
    "for another address": (lambda c: {"destination": OTHER_LOGOUT_URL}, "another address"),
    # python3-saml alone would take it: it compares Destination by prefix.
    "for a longer address": (
        lambda c: {"destination": c.logout_url + "extra/"},
        "another address",
    ),
    "without a destination": (lambda c: {"destination": None}, "another address"),
    "from another issuer": (
        lambda c: {"issuer": "http://www.okta.com/evil"},
        "another identity provider",
    ),
    "without an issuer": (lambda c: {"issuer": None}, "Issuer"),
    "issued long ago": (
        lambda c: {"issue_instant": datetime.now(UTC) - timedelta(hours=1)},
        "has expired",
    ),
    "issued in the future": (
        lambda c: {"issue_instant": datetime.now(UTC) + timedelta(hours=1)},
        "no valid time of issue",
    ),
    "without a time of issue": (lambda c: {"issue_instant": None}, "no valid time of issue"),
    "past its NotOnOrAfter": (
        lambda c: {"not_on_or_after": datetime.now(UTC) - timedelta(minutes=10)},
        "has expired",
    ),
}


@pytest.mark.parametrize("attack", LOGOUT_REQUEST_ATTACKS)
def test_a_logout_request_that_fails_a_check_changes_nothing(
    client, okta, connection, learner, attack
):
    change, words = LOGOUT_REQUEST_ATTACKS[attack]
    sign_in(client, okta, connection, learner)
    query = idp_logout_request(okta, connection, learner.username, **change(connection))

    response = client.get(f"{path(connection)}?{query}")

    assert_refused(response, words)
    assert signed_in(client)
    assert not AcceptedAssertion.objects.filter(assertion_id__startswith="logout:").exists()


def test_another_organisations_idp_cannot_sign_anybody_out(
    client, okta, connection, learner, other_org
):
    globex_idp = test_idp.okta_idp(slo_url=OKTA_SLO, signing_key=test_idp.make_key_pair("globex"))
    _connect(other_org, globex_idp)
    sign_in(client, okta, connection, learner)
    # Everything right but the key: Globex's Okta app, which is its own and signs its own.
    query = idp_logout_request(globex_idp, connection, learner.username)

    assert_refused(client.get(f"{path(connection)}?{query}"), "not signed by a certificate")
    assert signed_in(client)


def test_a_replayed_logout_request_is_refused(client, okta, connection, learner):
    sign_in(client, okta, connection, learner)
    query = idp_logout_request(okta, connection, learner.username)
    assert client.get(f"{path(connection)}?{query}").status_code == 302
    sign_in(client, okta, connection, learner)  # back again; a captured copy comes later

    response = client.get(f"{path(connection)}?{query}")

    assert_refused(response, "already used")
    assert signed_in(client)


def test_a_logout_request_tampered_after_signing_is_refused(client, okta, connection, learner):
    sign_in(client, okta, connection, learner)
    signed = idp_logout_request(okta, connection, "attacker@acme.test")
    forged = okta.redirect_query(
        okta.logout_request(destination=connection.logout_url, name_id=learner.username),
        message="SAMLRequest",
        sign=False,
    )
    # The victim's NameID with the signature of the attacker's own request.
    tail = signed[signed.index("&SigAlg=") :]

    assert_refused(client.get(f"{path(connection)}?{forged}{tail}"), "not signed by a certificate")
    assert signed_in(client)


def test_a_logout_request_with_a_parameter_twice_is_refused(client, okta, connection, learner):
    sign_in(client, okta, connection, learner)
    query = idp_logout_request(okta, connection, learner.username)
    other = idp_logout_request(okta, connection, "someone.else@acme.test")
    first = other.split("&")[0]

    assert_refused(client.get(f"{path(connection)}?{query}&{first}"))
    assert signed_in(client)


@pytest.mark.parametrize(
    "query",
    [
        "SAMLRequest=",
        "SAMLRequest=%%%not-base64",
        "SAMLRequest=PGZvbz4=",  # base64 of <foo>, not DEFLATEd
        "SAMLRequest=" + "A" * 100_000,
        "SAMLRequest=x&SAMLResponse=y",
    ],
)
def test_logout_requests_that_are_not_saml_messages_are_a_400(
    client, okta, connection, learner, query
):
    sign_in(client, okta, connection, learner)
    assert_refused(client.get(f"{path(connection)}?{query}"))
    assert signed_in(client)


def test_a_deflate_bomb_is_refused_before_it_is_inflated(client, okta, connection, learner):
    sign_in(client, okta, connection, learner)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    bomb = compressor.compress(b"<" + b"a" * 5_000_000) + compressor.flush()
    assert len(bomb) < saml_logout.MAX_MESSAGE_BYTES
    query = "SAMLRequest=" + quote(base64.b64encode(bomb).decode(), safe="")

    assert_refused(client.get(f"{path(connection)}?{query}"), "too large")


def test_a_logout_request_with_a_dtd_is_refused(client, okta, connection, learner):
    sign_in(client, okta, connection, learner)
    xml = okta.logout_request(destination=connection.logout_url, name_id=learner.username)
    xml = test_idp.with_doctype(xml)
    query = okta.redirect_query(xml, message="SAMLRequest")

    assert_refused(client.get(f"{path(connection)}?{query}"))
    assert signed_in(client)


def test_a_connection_without_single_logout_takes_no_logout_messages(client, org, learner):
    # Without an SLO URL python3-saml would answer at the RelayState: an open redirect.
    okta = test_idp.okta_idp()
    connection = _connect(org, okta)
    sign_in(client, okta, connection, learner)
    query = idp_logout_request(okta, connection, learner.username, relay_state="https://evil/")

    assert_refused(client.get(f"{path(connection)}?{query}"), "not set up")
    assert signed_in(client)


# --- the IdP's LogoutResponse -----------------------------------------------------------------


def sign_out_at_idp(browser, okta, connection, person) -> str:
    """Sign in, press Sign out: the id of the LogoutRequest sent to the IdP."""
    sign_in(browser, okta, connection, person)
    response = browser.post(path(connection))
    return test_idp.decode_logout_request(response["Refresh"].removeprefix("0; url="))["id"]


def test_the_idps_answer_to_our_logout_request_ends_the_sign_out(client, okta, connection, learner):
    request_id = sign_out_at_idp(client, okta, connection, learner)
    query = idp_logout_response(okta, connection, request_id)

    response = client.get(f"{path(connection)}?{query}")

    assert response.status_code == 302 and response["Location"] == "/sign-in/"
    assert saml_logout.SESSION_PENDING not in client.session


def test_an_idp_that_could_not_sign_out_is_reported(client, okta, connection, learner):
    request_id = sign_out_at_idp(client, okta, connection, learner)
    query = idp_logout_response(okta, connection, request_id, status=test_idp.RESPONDER)

    response = client.get(f"{path(connection)}?{query}")

    assert response.status_code == 200
    assert b"Signed out of auzlearn only" in response.content
    assert not signed_in(client)


LOGOUT_RESPONSE_ATTACKS = {
    "unsigned": ({"sign": False}, "is not signed"),
    "signed with another key": ({"signing_key": _other_key()}, "not signed by a certificate"),
    "for another address": ({"destination": OTHER_LOGOUT_URL}, "another address"),
    "from another issuer": ({"issuer": "http://www.okta.com/evil"}, "another identity provider"),
    "answering an unknown request": ({"in_response_to": "_not-ours"}, "not a sign-out"),
    "answering no request": ({"in_response_to": None}, "not a sign-out"),
}


@pytest.mark.parametrize("attack", LOGOUT_RESPONSE_ATTACKS)
def test_a_logout_response_that_fails_a_check_changes_nothing(
    client, okta, connection, learner, attack
):
    options, words = LOGOUT_RESPONSE_ATTACKS[attack]
    request_id = sign_out_at_idp(client, okta, connection, learner)
    sign_in(client, okta, connection, learner)  # signed in again meanwhile
    pending_before = client.session.get(saml_logout.SESSION_PENDING)
    options = {"in_response_to": request_id, **options}
    query = idp_logout_response(okta, connection, **options)

    response = client.get(f"{path(connection)}?{query}")

    assert_refused(response, words)
    assert signed_in(client)
    assert client.session.get(saml_logout.SESSION_PENDING) == pending_before


def test_a_logout_response_is_used_once(client, okta, connection, learner):
    request_id = sign_out_at_idp(client, okta, connection, learner)
    query = idp_logout_response(okta, connection, request_id)
    assert client.get(f"{path(connection)}?{query}").status_code == 302
    sign_in(client, okta, connection, learner)

    response = client.get(f"{path(connection)}?{query}")

    assert_refused(response, "not a sign-out")
    assert signed_in(client)


def test_a_logout_response_brought_to_another_browser_changes_nothing(
    client, okta, connection, learner, primary_admin
):
    # The attacker signs out of their own session and keeps the IdP's answer; the victim's
    # browser is sent to it from another site.
    attacker = Client()
    request_id = sign_out_at_idp(attacker, okta, connection, primary_admin)
    captured = idp_logout_response(okta, connection, request_id)
    sign_in(client, okta, connection, learner)

    response = client.get(f"{path(connection)}?{captured}")

    assert_refused(response, "not a sign-out")
    assert signed_in(client)


def test_a_pending_logout_request_expires(client, okta, connection, learner):
    request_id = sign_out_at_idp(client, okta, connection, learner)
    now = datetime.now(UTC)
    later = now + saml_logout.PENDING_LIFETIME + timedelta(seconds=1)

    assert saml_logout.pending_request_id(client.session, connection, now) == request_id
    assert saml_logout.pending_request_id(client.session, connection, later) is None
