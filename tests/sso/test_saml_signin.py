"""SAML sign-in end to end through the ACS, with responses signed for real by the test IdP,
and mutated copies of them for each attack (STYLE 15). Every refusal is recorded with its
reason and shown to the person as a plain page."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from accounts import services as accounts_services
from accounts.models import User
from sso import services
from sso.models import AcceptedAssertion, SignInAttempt, SignInOutcome
from sso.saml_views import PENDING_COOKIE
from tests import factories
from tests.sso import idp as test_idp


def _connect(org, idp, **options):
    return factories.saml_connection(org, idp, **options)


@pytest.fixture
def okta():
    return test_idp.okta_idp()


@pytest.fixture
def connection(org, okta):
    return _connect(org, okta)


def _respond(idp, connection, name_id, **kwargs):
    kwargs.setdefault("attributes", idp.default_attributes("Lee", "Learner", name_id))
    return idp.response(
        acs_url=connection.acs_url, audience=connection.sp_entity_id, name_id=name_id, **kwargs
    )


def _acs_path(connection):
    return urlsplit(connection.acs_url).path


def _post(client, idp, connection, xml, relay_state=None):
    return client.post(_acs_path(connection), idp.post_form(xml, relay_state))


def _signed_in_as(client):
    return client.get("/me.json").json().get("username")


def _attempt():
    return SignInAttempt.objects.get()


# --- happy paths ---------------------------------------------------------------------------


def test_okta_tile_signs_the_person_in_and_lands_on_the_default_relay_state(
    client, connection, okta, learner
):
    response = _post(client, okta, connection, _respond(okta, connection, learner.username), "/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert _signed_in_as(client) == learner.username
    attempt = _attempt()
    assert attempt.outcome == SignInOutcome.SIGNED_IN and attempt.user == learner
    assert attempt.name_id == learner.username
    assert all(check["passed"] for check in attempt.checks)


def test_sp_initiated_round_trip_follows_next(client, connection, okta, learner):
    start = client.get(urlsplit(connection.login_url).path + "?next=/me.json")
    assert start.status_code == 302
    request = test_idp.decode_authn_request(start["Location"])
    assert request["acs_url"] == connection.acs_url
    assert request["issuer"] == connection.sp_entity_id
    assert request["relay_state"] == "/me.json"
    assert start.cookies[PENDING_COOKIE]["path"] == _acs_path(connection)

    xml = _respond(okta, connection, learner.username, in_response_to=request["id"])
    response = _post(client, okta, connection, xml)
    assert response.status_code == 302 and response["Location"] == "/me.json"
    assert _signed_in_as(client) == learner.username


def test_the_session_key_is_rotated_at_sign_in(client, connection, okta, learner):
    client.get("/sign-in/")
    before = client.session.session_key
    _post(client, okta, connection, _respond(okta, connection, learner.username))
    assert client.session.session_key != before


@pytest.mark.parametrize("make_idp", [test_idp.okta_idp, test_idp.entra_idp, test_idp.google_idp])
def test_attributes_of_each_idp_shape_update_the_profile(client, org, learner, make_idp):
    idp = make_idp()
    connection = _connect(org, idp)
    xml = _respond(
        idp,
        connection,
        learner.username,
        attributes=idp.default_attributes("Leigh", "Lerner", "leigh@acme.test"),
    )
    _post(client, idp, connection, xml)
    learner.refresh_from_db()
    assert (learner.given_name, learner.family_name, learner.email) == (
        "Leigh",
        "Lerner",
        "leigh@acme.test",
    )


def test_name_id_may_be_the_email_of_a_person(client, org, connection, okta):
    person = factories.user(org, "lee.l", email="lee@acme.test")
    _post(client, okta, connection, _respond(okta, connection, "LEE@acme.test"))
    assert _signed_in_as(client) == person.username


def test_jit_creates_an_unknown_person_when_allowed(client, org, okta):
    connection = _connect(org, okta, jit=True)
    xml = _respond(
        okta,
        connection,
        "new@acme.test",
        attributes=okta.default_attributes("New", "Person", "new@acme.test"),
    )
    _post(client, okta, connection, xml)
    person = User.objects.get(organisation=org, username="new@acme.test")
    assert (person.given_name, person.email) == ("New", "new@acme.test")
    assert _signed_in_as(client) == "new@acme.test"


def test_without_jit_an_unknown_person_gets_a_clear_page(client, connection, okta):
    response = _post(client, okta, connection, _respond(okta, connection, "new@acme.test"))
    assert response.status_code == 403
    assert b"No account for you yet" in response.content
    assert not User.objects.filter(username="new@acme.test").exists()
    assert _attempt().reason_code == "unknown_user"


def test_jit_is_off_while_scim_provisions_the_organisation(client, org, okta):
    connection = _connect(org, okta, jit=True)
    accounts_services.organisation_update(
        organisation=org, actor=factories.SYSTEM, scim_enabled=True
    )
    response = _post(client, okta, connection, _respond(okta, connection, "new@acme.test"))
    assert response.status_code == 403
    assert not User.objects.filter(username="new@acme.test").exists()


def test_certificate_rollover_accepts_both_listed_certificates(client, org, learner):
    old, new = test_idp.make_key_pair("Old IdP key"), test_idp.make_key_pair("New IdP key")
    idp = test_idp.okta_idp(keys=[old, new], signing_key=old)
    connection = _connect(org, idp)
    _post(client, idp, connection, _respond(idp, connection, learner.username))
    assert _signed_in_as(client) == learner.username
    client.logout()
    xml = _respond(idp, connection, learner.username, signing_key=new)
    _post(client, idp, connection, xml)
    assert _signed_in_as(client) == learner.username


# --- who is refused ------------------------------------------------------------------------


@pytest.mark.parametrize("remove", ["deactivate", "delete"])
def test_deactivated_and_deleted_people_see_that_their_access_was_removed(
    client, connection, okta, learner, remove
):
    getattr(accounts_services, f"user_{remove}")(user=learner, actor=factories.SYSTEM)
    response = _post(client, okta, connection, _respond(okta, connection, learner.username))
    assert response.status_code == 403
    assert b"Your access was removed" in response.content
    assert _signed_in_as(client) is None
    assert _attempt().reason_code == "access_removed"


def test_never_another_organisations_person(client, connection, okta, other_org):
    factories.user(other_org, "lee@globex.test")
    response = _post(client, okta, connection, _respond(okta, connection, "lee@globex.test"))
    assert response.status_code == 403
    assert _signed_in_as(client) is None


def test_sso_turned_off_refuses_sign_in(client, connection, okta, learner):
    services.connection_switches(
        connection=connection,
        actor=factories.SYSTEM,
        enabled=False,
        allow_idp_initiated=True,
        jit_provisioning=False,
    )
    response = _post(client, okta, connection, _respond(okta, connection, learner.username))
    assert response.status_code == 403
    assert b"Single sign-on is off" in response.content
    assert _signed_in_as(client) is None


def test_idp_initiated_is_refused_where_not_allowed(client, org, okta, learner):
    connection = _connect(org, okta, allow_idp_initiated=False)
    response = _post(client, okta, connection, _respond(okta, connection, learner.username))
    assert response.status_code == 403
    assert _attempt().reason_code == "in_response_to"


def test_absolute_relay_state_lands_on_the_home_page(client, connection, okta, learner):
    xml = _respond(okta, connection, learner.username)
    response = _post(client, okta, connection, xml, "https://evil.example/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert _signed_in_as(client) == learner.username


# --- attacks -------------------------------------------------------------------------------


def _now():
    return datetime.now(UTC)


def _forge(okta, connection, learner, mutate):
    return mutate(_respond(okta, connection, learner.username))


ATTACKS = {
    "unsigned": (
        lambda idp, c, u: _respond(idp, c, u, sign_assertion=False, sign_response=False),
        "signature",
    ),
    "signature stripped": (
        lambda idp, c, u: test_idp.strip_signatures(_respond(idp, c, u)),
        "signature",
    ),
    "signed by another key": (
        lambda idp, c, u: _respond(idp, c, u, signing_key=test_idp.make_key_pair("Attacker")),
        "signature",
    ),
    "forged assertion beside the signed one": (
        lambda idp, c, u: test_idp.wrap_forged_assertion_beside(
            _respond(idp, c, "nobody@acme.test"), forged_name_id=u
        ),
        "one_assertion",
    ),
    "forged assertion around the signed one": (
        lambda idp, c, u: test_idp.wrap_forged_assertion_inside(
            _respond(idp, c, "nobody@acme.test"), forged_name_id=u
        ),
        "one_assertion",
    ),
    "signed assertion moved into Extensions": (
        lambda idp, c, u: test_idp.move_signed_assertion_into_extensions(
            _respond(idp, c, "nobody@acme.test"), forged_name_id=u
        ),
        "one_assertion",
    ),
    "signed assertion moved into the Signature's Object": (
        lambda idp, c, u: test_idp.move_signed_assertion_into_signature_object(
            _respond(idp, c, "nobody@acme.test"), forged_name_id=u
        ),
        "one_assertion",
    ),
    "two assertions": (
        lambda idp, c, u: test_idp.duplicate_assertion(_respond(idp, c, u)),
        "one_assertion",
    ),
    "expired": (
        lambda idp, c, u: _respond(
            idp,
            c,
            u,
            not_before=_now() - timedelta(hours=2),
            not_on_or_after=_now() - timedelta(hours=1),
            subject_not_on_or_after=_now() - timedelta(hours=1),
            issue_instant=_now() - timedelta(hours=2),
        ),
        "validity",
    ),
    "not yet valid": (
        lambda idp, c, u: _respond(
            idp,
            c,
            u,
            not_before=_now() + timedelta(hours=1),
            not_on_or_after=_now() + timedelta(hours=2),
            subject_not_on_or_after=_now() + timedelta(hours=2),
            issue_instant=_now() + timedelta(hours=1),
        ),
        "validity",
    ),
    "no expiry": (
        lambda idp, c, u: _respond(
            idp, c, u, include_conditions_expiry=False, subject_not_on_or_after=None
        ),
        "validity",
    ),
    "wrong audience": (
        lambda idp, c, u: idp.response(
            acs_url=c.acs_url,
            audience="https://other.example/sp",
            name_id=u,
        ),
        "audience",
    ),
    "no audience": (
        lambda idp, c, u: _respond(idp, c, u, include_audience=False),
        "audience",
    ),
    "wrong issuer": (
        lambda idp, c, u: _respond(idp, c, u, issuer="http://www.okta.com/exkSOMEONEELSE"),
        "issuer",
    ),
    "SHA-1 signature": (
        lambda idp, c, u: _respond(idp, c, u, digest="sha1", signature="rsa-sha1"),
        "signature",
    ),
    "DOCTYPE with an entity": (
        lambda idp, c, u: test_idp.with_doctype(_respond(idp, c, u), entity=True),
        "xml",
    ),
    "tampered after signing": (
        lambda idp, c, u: test_idp.tamper_text(_respond(idp, c, "nobody@acme.test"), "NameID", u),
        "signature",
    ),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_attacks_are_refused_with_their_reason(client, connection, okta, learner, attack):
    forge, reason = ATTACKS[attack]
    response = _post(client, okta, connection, forge(okta, connection, learner.username))
    assert response.status_code == 403
    assert b"We could not sign you in" in response.content
    assert _signed_in_as(client) is None
    attempt = _attempt()
    assert attempt.outcome == SignInOutcome.REFUSED
    assert attempt.reason_code == reason, attempt.checks
    assert attempt.reason


def test_comment_inside_the_name_id_is_refused(client, connection, okta, learner):
    # The attacker owns "lee@acme.test.evil.example" at the IdP and turns its signed NameID into
    # "lee@acme.test<!---->.evil.example", hoping we read only the first text node.
    signed = _respond(okta, connection, learner.username + ".evil.example")
    xml = test_idp.comment_in_name_id(signed, before=learner.username, after=".evil.example")
    response = _post(client, okta, connection, xml)
    assert response.status_code == 403
    assert _attempt().reason_code == "name_id"


@pytest.mark.parametrize("url_of", ["another tenant", "a prefix of ours", "a longer path"])
def test_destination_and_recipient_must_equal_our_acs_url(
    client, org, connection, okta, learner, url_of
):
    other = _connect(factories.organisation("other"), okta)
    wrong = {
        "another tenant": other.acs_url,
        "a prefix of ours": connection.acs_url.removesuffix("acs/"),
        "a longer path": connection.acs_url + "extra/",
    }[url_of]
    for field, reason in (("destination", "destination"), ("recipient", "recipient")):
        xml = _respond(okta, connection, learner.username, **{field: wrong})
        response = _post(client, okta, connection, xml)
        assert response.status_code == 403
        assert SignInAttempt.objects.filter(reason_code=reason).exists()
    assert _signed_in_as(client) is None


def test_replay_of_an_accepted_response_is_refused(client, connection, okta, learner):
    xml = _respond(okta, connection, learner.username)
    _post(client, okta, connection, xml)
    assert _signed_in_as(client) == learner.username
    client.logout()
    response = _post(client, okta, connection, xml)
    assert response.status_code == 403
    assert SignInAttempt.objects.filter(reason_code="replay").exists()
    assert _signed_in_as(client) is None


def _replay_check(attempt):
    return next(check for check in attempt.checks if check["code"] == "replay")


def test_a_failing_response_still_says_whether_its_assertion_was_used(
    client, connection, okta, learner
):
    used = _respond(okta, connection, learner.username, assertion_id="_used-once")
    _post(client, okta, connection, used)
    client.logout()
    stored = AcceptedAssertion.objects.count()

    for assertion_id, first_use in (("_used-once", False), ("_never-seen", True)):
        wrong = okta.response(
            acs_url=connection.acs_url,
            audience="https://else.example/",
            name_id=learner.username,
            assertion_id=assertion_id,
        )
        assert _post(client, okta, connection, wrong).status_code == 403
        attempt = SignInAttempt.objects.latest("pk")
        assert attempt.reason_code == "audience"
        assert _replay_check(attempt)["passed"] is first_use

    # A refused response is not stored: its assertion id stays usable by nobody but the IdP.
    assert AcceptedAssertion.objects.count() == stored


def test_a_sign_in_stores_its_assertion_as_used(client, connection, okta, learner):
    xml = _respond(okta, connection, learner.username, assertion_id="_once")
    _post(client, okta, connection, xml)

    assert AcceptedAssertion.objects.get().assertion_id == "_once"
    assert _replay_check(_attempt())["passed"] is True


def test_unknown_in_response_to_is_refused(client, connection, okta, learner):
    xml = _respond(okta, connection, learner.username, in_response_to="_not-a-request-of-ours")
    response = _post(client, okta, connection, xml)
    assert response.status_code == 403
    assert _attempt().reason_code == "in_response_to"


def test_response_for_organisation_a_posted_to_bs_acs_is_refused(client, org, okta, other_org):
    ours = _connect(org, okta)
    theirs = _connect(other_org, test_idp.okta_idp())
    person = factories.user(other_org, "lee@acme.test")
    xml = _respond(okta, ours, person.username)
    response = client.post(_acs_path(theirs), okta.post_form(xml))
    assert response.status_code == 403
    assert _signed_in_as(client) is None
    assert SignInAttempt.objects.get(organisation=other_org).outcome == SignInOutcome.REFUSED


def test_oversized_response_is_refused(client, connection, okta):
    response = client.post(_acs_path(connection), {"SAMLResponse": "A" * 400_000})
    assert response.status_code == 403
    assert _attempt().reason_code == "format"


def test_response_to_a_request_of_another_browser_is_refused(client, connection, okta, learner):
    from django.test import Client

    other_browser = Client()
    start = other_browser.get(urlsplit(connection.login_url).path)
    request = test_idp.decode_authn_request(start["Location"])
    xml = _respond(okta, connection, learner.username, in_response_to=request["id"])
    response = _post(client, okta, connection, xml)  # this browser has no pending request
    assert response.status_code == 403
    assert _attempt().reason_code == "in_response_to"


def test_sp_metadata_describes_our_entity_and_acs(client, connection):
    response = client.get(urlsplit(connection.sp_entity_id).path)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'entityID="{connection.sp_entity_id}"' in body
    assert connection.acs_url in body


def test_login_redirect_carries_an_authn_request_over_http_redirect(client, connection, okta):
    start = client.get(urlsplit(connection.login_url).path)
    location = urlsplit(start["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == okta.sso_url
    assert "SAMLRequest" in parse_qs(location.query)


# --- Test sign-in ----------------------------------------------------------------------------


def _start_test(client, connection, admin):
    client.force_login(admin)
    start = client.post(f"/settings/sso/{connection.provider}/saml/test/")
    assert start.status_code == 302
    return test_idp.decode_authn_request(start["Location"])


def test_a_passing_test_sign_in_reports_every_check_and_signs_nobody_else_in(
    client, org, okta, primary_admin, learner, settings
):
    settings.PUBLIC_BASE_URL = "https://lms.example.com"  # an IdP on another site needs https
    connection = _connect(org, okta)
    services.connection_switches(
        connection=connection,
        actor=factories.SYSTEM,
        enabled=False,  # a test works before SSO is turned on
        allow_idp_initiated=True,
        jit_provisioning=False,
    )
    request = _start_test(client, connection, primary_admin)
    xml = _respond(okta, connection, learner.username, in_response_to=request["id"])
    response = _post(client, okta, connection, xml)

    attempt = _attempt()
    assert attempt.outcome == SignInOutcome.TEST_PASSED
    assert response["Location"] == f"/settings/sso/okta/saml/test/{attempt.pk}/"
    assert _signed_in_as(client) == primary_admin.username  # still the admin, not the learner
    assert [check["passed"] for check in attempt.checks] == [True] * len(attempt.checks)
    page = client.get(response["Location"]).content.decode()
    assert learner.username in page and "Audience is our Entity ID" in page


def test_a_failing_test_sign_in_shows_which_checks_failed(
    client, org, okta, primary_admin, learner, settings
):
    settings.PUBLIC_BASE_URL = "https://lms.example.com"  # an IdP on another site needs https
    connection = _connect(org, okta)
    request = _start_test(client, connection, primary_admin)
    impostor = test_idp.make_key_pair("Not the IdP")
    xml = _respond(
        okta, connection, learner.username, in_response_to=request["id"], signing_key=impostor
    )
    _post(client, okta, connection, xml)

    attempt = _attempt()
    assert attempt.outcome == SignInOutcome.TEST_FAILED
    assert attempt.reason_code == "signature"
    results = {check["code"]: check["passed"] for check in attempt.checks}
    assert results["signature"] is False
    assert attempt.reason.startswith("The response was signed with a key whose certificate is not")
    assert results["audience"] is True and results["destination"] is True  # still checked
    assert _signed_in_as(client) == primary_admin.username
