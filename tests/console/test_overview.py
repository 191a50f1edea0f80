"""Settings → Single Sign-on: the providers overview, for primary admins only."""

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertTemplateUsed

from accounts import services
from accounts.models import Role
from tests import factories

OVERVIEW_URL = reverse("console:overview")
PROVIDER_NAMES = ["Okta", "Microsoft Entra ID", "Google Workspace", "Other SAML 2.0"]


@pytest.fixture
def named_orgs(org, other_org):
    services.organisation_update(organisation=org, actor=factories.SYSTEM, name="Acme Ltd")
    services.organisation_update(organisation=other_org, actor=factories.SYSTEM, name="Globex Corp")
    return org, other_org


def test_overview_is_at_the_documented_path():
    assert OVERVIEW_URL == "/settings/sso/"


def test_primary_admin_sees_every_provider_not_configured(client, named_orgs, primary_admin):
    client.force_login(primary_admin)

    response = client.get(OVERVIEW_URL)

    assert response.status_code == 200
    assertTemplateUsed(response, "settings/overview.html")
    assertContains(response, "<h1>Single Sign-on</h1>")
    assertContains(response, '<p class="settings-org">Acme Ltd</p>')
    html = response.content.decode()
    positions = [html.index(f"<h2>{name}</h2>") for name in PROVIDER_NAMES]
    assert positions == sorted(positions)  # in the documented order
    cards = html.split('<li class="provider-card">')[1:]
    assert len(cards) == len(PROVIDER_NAMES)
    for name, card in zip(PROVIDER_NAMES, cards, strict=True):
        assert f"<h2>{name}</h2>" in card
        assert "Not configured" in card
        assert ">Configured<" not in card
    assert 'aria-current="page"' in html


def test_other_organisations_primary_admin_sees_only_their_own_organisation(
    client, named_orgs, primary_admin
):
    _, globex = named_orgs
    globex_admin = factories.user(globex, "admin@globex.test", role=Role.PRIMARY_ADMIN)
    client.force_login(globex_admin)

    response = client.get(OVERVIEW_URL)

    assert response.status_code == 200
    assert response.context["organisation"] == globex
    assertContains(response, "Globex Corp")
    assertNotContains(response, "Acme")
    assertNotContains(response, "admin@acme.test")


def test_organisation_in_the_url_is_ignored(client, named_orgs, primary_admin):
    _, globex = named_orgs
    client.force_login(primary_admin)

    response = client.get(OVERVIEW_URL, {"organisation": globex.slug, "org": globex.public_id})

    assert response.status_code == 200
    assertContains(response, "Acme Ltd")
    assertNotContains(response, "Globex")


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.LEARNER])
def test_other_roles_are_refused(client, named_orgs, role):
    org, _ = named_orgs
    person = factories.user(org, f"{role}@acme.test", role=role)
    client.force_login(person)

    response = client.get(OVERVIEW_URL)

    assert response.status_code == 403
    assertTemplateUsed(response, "403.html")
    assertContains(response, "Only the primary admin", status_code=403)
    assertNotContains(response, "Okta", status_code=403)
    assertNotContains(response, "Acme Ltd", status_code=403)


def test_support_staff_are_refused(client, staff_user):
    client.force_login(staff_user)

    response = client.get(OVERVIEW_URL)

    assert response.status_code == 403
    assertNotContains(response, "Okta", status_code=403)


def test_deactivated_primary_admin_is_sent_to_sign_in(client, primary_admin):
    client.force_login(primary_admin)
    services.user_deactivate(user=primary_admin, actor=factories.SYSTEM)

    response = client.get(OVERVIEW_URL)

    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={OVERVIEW_URL}"


def test_anonymous_visitor_is_sent_to_sign_in_with_next(client, db):
    response = client.get(OVERVIEW_URL)

    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={OVERVIEW_URL}"


def test_signing_in_from_the_redirect_lands_on_the_overview(client, primary_admin):
    redirect = client.get(OVERVIEW_URL)

    response = client.post(
        redirect.url,
        {"organisation": "acme", "login": "admin@acme.test", "password": factories.PASSWORD},
        follow=True,
    )

    assert response.redirect_chain == [(OVERVIEW_URL, 302)]
    assert response.status_code == 200
    assertTemplateUsed(response, "settings/overview.html")


def test_overview_refuses_post(client, primary_admin):
    client.force_login(primary_admin)

    assert client.post(OVERVIEW_URL).status_code == 405
