"""The SAML tab's two rough edges of issue 14: turning SSO on before a Test sign-in has passed asks
first (a page of its own, no script), and a Test sign-in that cannot come back (plain-http site,
IdP on another site) says so instead of failing at the IdP."""

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertTemplateUsed

from accounts.models import AuditEvent, Role
from sso import services
from sso.metadata import parse_metadata
from sso.models import PendingSignIn, SamlConnection, SignInAttempt, SignInOutcome
from sso.same_site import cross_site_over_http
from tests import factories
from tests.sso import idp as test_idp

SWITCHES = {"enabled": "on", "allow_idp_initiated": "on"}
UNTESTED = "Turn on sign-in with Okta without a passed Test sign-in?"


def url(name: str, provider: str = "okta") -> str:
    return reverse(f"sso_settings:{name}", args=[provider])


@pytest.fixture
def admin_client(client, primary_admin):
    client.force_login(primary_admin)
    return client


@pytest.fixture
def connection(org) -> SamlConnection:
    okta = test_idp.okta_idp()
    connection = services.connection_for(organisation=org, provider="okta")
    xml = okta.metadata_xml()
    services.connection_configure(
        connection=connection,
        actor=factories.SYSTEM,
        metadata=parse_metadata(xml),
        metadata_xml=xml.decode(),
    )
    return connection


def record_test(connection: SamlConnection, outcome: str) -> SignInAttempt:
    return SignInAttempt.objects.create(
        organisation=connection.organisation, connection=connection, outcome=outcome
    )


# --- turning SSO on ------------------------------------------------------------------------------


def test_turning_sso_on_without_a_test_asks_first_and_changes_nothing(admin_client, connection):
    asked = admin_client.post(url("saml-switches"), SWITCHES)

    assert asked.status_code == 200
    assertTemplateUsed(asked, "settings/confirm.html")
    assertContains(asked, UNTESTED)
    assertContains(asked, "No Test sign-in with Okta has passed yet.")
    assertContains(asked, '<input type="hidden" name="enabled" value="on">')
    assertContains(asked, '<input type="hidden" name="allow_idp_initiated" value="on">')
    assertContains(asked, '<input type="hidden" name="confirm" value="yes">')
    assertContains(asked, "Yes, turn it on without a test")
    assertContains(asked, f'href="{url("saml")}">Cancel</a>')
    assertNotContains(asked, "<script>")  # a page of its own, not a script's dialog
    connection.refresh_from_db()
    assert not connection.enabled
    assert not AuditEvent.objects.filter(action="saml.switches").exists()


def test_confirming_turns_it_on(admin_client, connection):
    response = admin_client.post(url("saml-switches"), {**SWITCHES, "confirm": "yes"})

    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.enabled and connection.allow_idp_initiated


def test_a_failed_last_test_asks_too(admin_client, connection):
    record_test(connection, SignInOutcome.TEST_PASSED)
    record_test(connection, SignInOutcome.TEST_FAILED)  # the latest

    assertContains(admin_client.post(url("saml-switches"), SWITCHES), UNTESTED)


def test_after_a_passed_test_it_turns_on_at_once(admin_client, connection):
    record_test(connection, SignInOutcome.TEST_FAILED)
    record_test(connection, SignInOutcome.TEST_PASSED)

    response = admin_client.post(url("saml-switches"), SWITCHES)

    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.enabled


def test_a_passed_sign_in_that_was_not_a_test_does_not_count(admin_client, connection):
    record_test(connection, SignInOutcome.SIGNED_IN)

    assertContains(admin_client.post(url("saml-switches"), SWITCHES), UNTESTED)


def test_another_organisations_passed_test_does_not_count(admin_client, connection, other_org):
    other = services.connection_for(organisation=other_org, provider="okta")
    SignInAttempt.objects.create(
        organisation=other_org, connection=other, outcome=SignInOutcome.TEST_PASSED
    )

    assertContains(admin_client.post(url("saml-switches"), SWITCHES), UNTESTED)


def test_untested_and_requiring_sso_are_asked_together(admin_client, connection):
    asked = admin_client.post(url("saml-switches"), {**SWITCHES, "sso_required": "on"})

    assertContains(asked, "Change how people sign in?")
    assertContains(asked, "No Test sign-in with Okta has passed yet.")
    assertContains(asked, "With SSO required")


def test_changing_another_switch_while_on_asks_nothing(admin_client, connection):
    admin_client.post(url("saml-switches"), {**SWITCHES, "confirm": "yes"})

    response = admin_client.post(url("saml-switches"), {"enabled": "on"})

    assert response.status_code == 302


@pytest.mark.parametrize("role", [Role.ADMIN, Role.LEARNER])
def test_only_primary_admins_can_confirm(client, org, connection, role):
    client.force_login(factories.user(org, f"{role}@acme.test", role=role))

    response = client.post(url("saml-switches"), {**SWITCHES, "confirm": "yes"})

    assert response.status_code == 403
    connection.refresh_from_db()
    assert not connection.enabled


def test_another_organisations_admin_confirms_only_their_own(client, other_org, connection):
    globex_admin = factories.user(other_org, "admin@globex.test", role=Role.PRIMARY_ADMIN)
    client.force_login(globex_admin)

    client.post(url("saml-switches"), {**SWITCHES, "confirm": "yes"})

    connection.refresh_from_db()
    assert not connection.enabled  # Globex has no metadata: refused there, nothing here


# --- Test sign-in that cannot come back --------------------------------------------------------


def test_over_plain_http_a_cross_site_idp_is_refused_before_the_idp(
    admin_client, connection, settings
):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"

    response = admin_client.post(url("saml-test"))

    assert response.status_code == 302
    assert response.url == url("saml") + "#test-heading"
    assert not PendingSignIn.objects.exists()
    assert "auzlearn_saml_pending" not in str(response.cookies)
    page = admin_client.get(url("saml"))
    assertContains(page, "A Test sign-in cannot work here: this site runs on plain http", count=2)
    assertContains(page, "Serve auzlearn over https and set PUBLIC_BASE_URL")
    assertContains(page, 'aria-describedby="test-blocked">Test sign-in</button>')


def test_over_https_the_same_idp_is_tested(admin_client, connection, settings):
    settings.PUBLIC_BASE_URL = "https://lms.example.com"

    response = admin_client.post(url("saml-test"))

    assert response.status_code == 302
    assert response.url.startswith(connection.idp_sso_url)
    assert PendingSignIn.objects.count() == 1
    assertNotContains(admin_client.get(url("saml")), "cannot work here")


def test_the_warning_waits_for_metadata(admin_client, org, settings):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"

    page = admin_client.get(url("saml"))

    assertNotContains(page, "cannot work here")
    assertContains(page, 'disabled aria-describedby="test-help">Test sign-in</button>')


@pytest.mark.parametrize(
    ("ours", "idp", "cross"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/dev-idp/sso/", False),
        ("http://127.0.0.1:8000", "http://127.0.0.1:9000/sso", False),  # ports are one site
        ("http://127.0.0.1:8000", "http://localhost:8000/sso", True),
        ("http://127.0.0.1:8000", "https://127.0.0.1:8000/sso", True),  # schemeful
        ("http://lms.acme.com", "http://idp.acme.com/sso", False),
        ("http://lms.acme.co.uk", "http://idp.acme.co.uk/sso", False),
        ("http://lms.acme.co.uk", "http://idp.other.co.uk/sso", True),
        ("http://lms.acme.com", "https://acme.okta.com/app/sso/saml", True),
        ("http://lms.acme.com", "not a url", True),
        ("https://lms.acme.com", "https://acme.okta.com/app/sso/saml", False),
        ("https://lms.acme.com", "http://anything.example", False),
    ],
)
def test_cross_site_over_http(ours, idp, cross):
    assert cross_site_over_http(ours, idp) is cross
