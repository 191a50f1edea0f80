"""The support admin's SSO pages: SAML connections (metadata and certificates read-only,
switches through sso.services, never deleted) and sign-in attempts (read-only)."""

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from accounts.models import ActorKind, AuditEvent
from sso import services
from sso.metadata import parse_metadata
from sso.models import SamlConnection, SignInAttempt, SignInOutcome
from tests import factories
from tests.sso import idp as test_idp

SYSTEM = factories.SYSTEM


def _url(model: str, view: str, *args: object) -> str:
    return reverse(f"admin:sso_{model}_{view}", args=args)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def _configured(org, idp, provider: str) -> SamlConnection:
    connection = services.connection_for(organisation=org, provider=provider)
    xml = idp.metadata_xml()
    return services.connection_configure(
        connection=connection,
        actor=SYSTEM,
        metadata=parse_metadata(xml),
        metadata_xml=xml.decode(),
    )


@pytest.fixture
def sso_world(org, other_org, learner):
    okta = _configured(org, test_idp.okta_idp(), "okta")
    entra = _configured(
        other_org,
        test_idp.entra_idp(
            keys=[test_idp.make_key_pair("soon", days_valid=30), test_idp.make_key_pair("later")]
        ),
        "entra",
    )
    empty = services.connection_for(organisation=org, provider="google")
    attempts = [
        SignInAttempt.objects.create(
            organisation=org,
            connection=okta,
            outcome=SignInOutcome.SIGNED_IN,
            name_id=learner.username,
            user=learner,
            ip="203.0.113.9",
            attributes={"FirstName": ["Lee"]},
            checks=[{"code": "status", "name": "Status is Success", "passed": True, "detail": ""}],
            clock_difference_seconds=1.5,
        ),
        SignInAttempt.objects.create(
            organisation=other_org,
            connection=entra,
            outcome=SignInOutcome.REFUSED,
            reason_code="unknown_user",
            reason="No account with this NameID in the organisation.",
            name_id="stranger@globex.test",
        ),
    ]
    return {"okta": okta, "entra": entra, "empty": empty, "attempts": attempts}


def test_every_sso_admin_page_renders(staff_client, sso_world):
    pages = [
        _url("samlconnection", "changelist"),
        *[_url("samlconnection", "change", c.pk) for c in SamlConnection.objects.all()],
        _url("signinattempt", "changelist"),
        *[_url("signinattempt", "change", a.pk) for a in sso_world["attempts"]],
    ]

    for page in pages:
        response = staff_client.get(page)
        assert response.status_code == 200, page


def test_connection_list_shows_the_soonest_certificate_expiry(staff_client, sso_world):
    response = staff_client.get(_url("samlconnection", "changelist"))

    assertContains(response, "Soonest certificate expiry")
    assertContains(response, test_idp.okta_idp().entity_id)
    soon = test_idp.make_key_pair("soon", days_valid=30).not_valid_after
    assertContains(response, f'expiry nowrap">{soon.day} {soon:%b %Y}, ')


def test_connection_change_form_shows_metadata_and_certificates_read_only(staff_client, sso_world):
    response = staff_client.get(_url("samlconnection", "change", sso_world["entra"].pk))

    form = response.context["adminform"].form
    assert set(form.fields) == {"enabled", "allow_idp_initiated", "jit_provisioning"}
    assertContains(response, "<td>CN=soon</td>")
    assertContains(response, "<td>CN=later</td>")
    assertContains(response, "&lt;EntityDescriptor")  # the metadata XML, as text
    assertContains(response, sso_world["entra"].acs_url)
    assertNotContains(response, 'name="idp_entity_id"')
    assertNotContains(response, 'name="certificates"')


def test_support_turns_a_connection_on_through_the_service(staff_client, sso_world, staff_user):
    okta = sso_world["okta"]

    response = staff_client.post(
        _url("samlconnection", "change", okta.pk), {"enabled": "on", "allow_idp_initiated": "on"}
    )

    assert response.status_code == 302
    okta.refresh_from_db()
    assert okta.enabled
    event = AuditEvent.objects.get(action="saml.switches")
    assert (event.actor_kind, event.actor_user) == (ActorKind.ADMIN, staff_user)
    assert event.changes == {"provider": "okta", "enabled": [False, True]}


def test_support_cannot_turn_on_a_connection_without_metadata(staff_client, sso_world):
    empty = sso_world["empty"]

    response = staff_client.post(_url("samlconnection", "change", empty.pk), {"enabled": "on"})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["enabled"] == [
        "Single sign-on cannot be turned on before the metadata is uploaded."
    ]
    empty.refresh_from_db()
    assert not empty.enabled
    assert not AuditEvent.objects.filter(action="saml.switches").exists()


def test_connections_are_neither_added_nor_deleted_in_the_admin(staff_client, sso_world):
    okta = sso_world["okta"]

    assert staff_client.get(_url("samlconnection", "add")).status_code == 403
    assert staff_client.post(_url("samlconnection", "delete", okta.pk)).status_code == 403
    assert SamlConnection.objects.filter(pk=okta.pk).exists()


def test_sign_in_attempts_are_read_only(staff_client, sso_world):
    attempt = sso_world["attempts"][0]

    page = staff_client.get(_url("signinattempt", "change", attempt.pk))

    assertContains(page, "Status is Success")  # the checks, as JSON
    assertContains(page, "&quot;FirstName&quot;")
    assertNotContains(page, 'name="_save"')
    assert staff_client.get(_url("signinattempt", "add")).status_code == 403
    assert staff_client.post(_url("signinattempt", "delete", attempt.pk)).status_code == 403
    assert staff_client.post(
        _url("signinattempt", "change", attempt.pk), {"name_id": "x"}
    ).status_code in (302, 403)
    attempt.refresh_from_db()
    assert attempt.name_id != "x"


def test_sign_in_attempts_filter_by_organisation_outcome_and_reason_and_search_by_name_id(
    staff_client, sso_world, org
):
    changelist = _url("signinattempt", "changelist")

    refused = staff_client.get(changelist, {"outcome": "refused"})
    by_reason = staff_client.get(changelist, {"reason_code": "unknown_user"})
    by_org = staff_client.get(changelist, {"organisation__id__exact": org.pk})
    searched = staff_client.get(changelist, {"q": "stranger@"})

    for response in (refused, by_reason, searched):
        assert [a.name_id for a in response.context["cl"].result_list] == ["stranger@globex.test"]
    assert [a.name_id for a in by_org.context["cl"].result_list] == ["lee@acme.test"]


def test_sign_in_attempt_list_takes_a_constant_number_of_queries(
    staff_client, sso_world, org, django_assert_max_num_queries
):
    with CaptureQueriesContext(db_connection) as few:
        staff_client.get(_url("signinattempt", "changelist"))
    SignInAttempt.objects.bulk_create(
        SignInAttempt(
            organisation=org,
            connection=sso_world["okta"],
            outcome=SignInOutcome.REFUSED,
            name_id=f"p{n}@acme.test",
        )
        for n in range(30)
    )

    with django_assert_max_num_queries(len(few)):
        response = staff_client.get(_url("signinattempt", "changelist"))
    assert response.status_code == 200


def test_people_without_staff_rights_cannot_open_the_sso_admin(client, primary_admin, sso_world):
    client.force_login(primary_admin)

    response = client.get(_url("samlconnection", "changelist"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
