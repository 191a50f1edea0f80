"""The landing page, /me.json and the error pages."""

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertTemplateUsed

from accounts import services
from accounts.models import Role
from tests import factories

HOME_URL = reverse("accounts:home")
ME_URL = reverse("accounts:me")
SIGN_IN_URL = reverse("accounts:login")


@pytest.fixture
def manager(org):
    return factories.user(
        org,
        "mia",
        role=Role.MANAGER,
        email="mia.manager@acme.test",
        given_name="Mia",
        family_name="Manager",
    )


@pytest.fixture
def placed_learner(org, learner, manager):
    """The learner with a manager and two teams; a third team they are not in."""
    services.user_set_manager(user=learner, actor=factories.SYSTEM, manager=manager)
    factories.team(org, "accessibility", members=[learner])
    factories.team(org, "Onboarding", members=[learner, manager])
    factories.team(org, "Finance", members=[manager])
    return learner


@pytest.fixture
def globex_people(other_org):
    """Another organisation with lookalike people and teams that must never show up."""
    boss = factories.user(other_org, "boss@globex.test", given_name="Gordon", family_name="Globex")
    twin = factories.user(
        other_org, "lee@acme.test", email="lee@globex.test", given_name="Twin", family_name="Lee"
    )
    services.user_set_manager(user=twin, actor=factories.SYSTEM, manager=boss)
    factories.team(other_org, "Globex Secret Team", members=[twin, boss])
    services.organisation_update(organisation=other_org, actor=factories.SYSTEM, name="Globex")
    return twin


# --- landing page ----------------------------------------------------------------------------


def test_anonymous_visitor_of_home_is_sent_to_sign_in(client, db):
    response = client.get(HOME_URL)

    assert response.status_code == 302
    assert response.url == f"{SIGN_IN_URL}?next={HOME_URL}"


def test_home_shows_the_person_their_organisation_manager_and_teams(client, org, placed_learner):
    services.organisation_update(organisation=org, actor=factories.SYSTEM, name="Acme Ltd")
    client.force_login(placed_learner)

    response = client.get(HOME_URL)

    assert response.status_code == 200
    assertTemplateUsed(response, "accounts/home.html")
    assertContains(response, "Welcome, Lee")
    assertContains(response, "<dd>Lee Learner</dd>", html=False)
    assertContains(response, "<dd>lee@acme.test</dd>", count=2)  # userName and email
    assertContains(response, "<dd>Acme Ltd</dd>")
    assertContains(response, "<dd>Mia Manager (mia.manager@acme.test)</dd>")
    assertContains(response, "<li>accessibility</li>")
    assertContains(response, "<li>Onboarding</li>")
    assertNotContains(response, "Finance")
    html = response.content.decode()
    # Sorted ignoring case, as people read them.
    assert html.index("<li>accessibility</li>") < html.index("<li>Onboarding</li>")


def test_home_shows_userName_and_email_separately(client, org):
    person = factories.user(
        org, "JBloggs", email="jo.bloggs@acme.test", given_name="Jo", family_name="Bloggs"
    )
    client.force_login(person)

    response = client.get(HOME_URL)

    assertContains(response, "<dd>JBloggs</dd>")
    assertContains(response, "<dd>jo.bloggs@acme.test</dd>")
    assertContains(response, "<dd>Jo Bloggs</dd>")


def test_home_without_manager_or_teams_shows_dashes(client, learner):
    client.force_login(learner)

    response = client.get(HOME_URL)

    assertContains(response, "<dt>Manager</dt><dd>—</dd>", html=False)
    assertContains(response, "<dt>Teams</dt><dd>—</dd>", html=False)


def test_home_escapes_what_the_identity_provider_sent(client, org):
    person = factories.user(org, "mallory@acme.test", given_name="<script>alert(1)</script>")
    client.force_login(person)

    response = client.get(HOME_URL)

    assertNotContains(response, "<script>alert(1)</script>", html=False)
    assertContains(response, "&lt;script&gt;alert(1)&lt;/script&gt;", html=False)


def test_home_shows_no_other_organisations_data(client, placed_learner, globex_people):
    client.force_login(placed_learner)

    response = client.get(HOME_URL)

    for foreign in ("Globex", "Gordon", "boss@globex.test", "lee@globex.test", "Twin"):
        assertNotContains(response, foreign)


def test_settings_link_is_shown_only_to_primary_admins(client, learner, primary_admin):
    client.force_login(learner)
    assertNotContains(client.get(HOME_URL), reverse("console:overview"))

    client.force_login(primary_admin)
    assertContains(client.get(HOME_URL), f'href="{reverse("console:overview")}"')


def test_home_has_a_sign_out_form_with_a_csrf_token(client, learner):
    client.force_login(learner)

    response = client.get(HOME_URL)

    assertContains(response, f'action="{reverse("accounts:logout")}"')
    assertContains(response, 'name="csrfmiddlewaretoken"')


# --- /me.json --------------------------------------------------------------------------------


def test_me_json_describes_the_signed_in_person(client, placed_learner, globex_people):
    client.force_login(placed_learner)

    response = client.get(ME_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    assert response.json() == {
        "authenticated": True,
        "organisation": "acme",
        "username": "lee@acme.test",
        "email": "lee@acme.test",
        "first_name": "Lee",
        "last_name": "Learner",
        "manager": {"username": "mia", "email": "mia.manager@acme.test", "name": "Mia Manager"},
        "teams": ["accessibility", "Onboarding"],
        "profile": {
            "given_name": "Lee",
            "family_name": "Learner",
            "emails": [{"value": "lee@acme.test", "type": "work"}],
        },
        "custom_attributes": [],
    }


def test_me_json_of_a_person_without_manager_or_teams(client, learner):
    client.force_login(learner)

    body = client.get(ME_URL).json()

    assert set(body) == {
        "authenticated",
        "organisation",
        "username",
        "email",
        "first_name",
        "last_name",
        "manager",
        "teams",
        "profile",
        "custom_attributes",
    }
    assert body["manager"] is None
    assert body["teams"] == []


def test_me_json_of_the_same_username_in_another_organisation(
    client, placed_learner, globex_people
):
    client.force_login(globex_people)

    body = client.get(ME_URL).json()

    assert body["organisation"] == "globex"
    assert body["email"] == "lee@globex.test"
    assert body["manager"]["username"] == "boss@globex.test"
    assert body["teams"] == ["Globex Secret Team"]


def test_me_json_when_signed_out(client, db):
    response = client.get(ME_URL)

    assert response.status_code == 200
    assert response.json() == {"authenticated": False}


def test_me_json_after_sign_out(client, learner):
    client.force_login(learner)
    client.post(reverse("accounts:logout"))

    assert client.get(ME_URL).json() == {"authenticated": False}


def test_me_json_of_support_staff_has_no_organisation(client, staff_user):
    client.force_login(staff_user)

    body = client.get(ME_URL).json()

    assert body["authenticated"] is True
    assert body["organisation"] is None
    assert body["username"] == "support"


def test_me_json_refuses_post(client, learner):
    client.force_login(learner)

    assert client.post(ME_URL).status_code == 405


# --- error pages -----------------------------------------------------------------------------


@pytest.mark.parametrize("signed_in", [False, True])
def test_unknown_path_gets_our_404_page(client, learner, signed_in):
    if signed_in:
        client.force_login(learner)

    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assertTemplateUsed(response, "404.html")
    assertContains(response, "Page not found", status_code=404)
    html = response.content.decode()
    assert "Traceback" not in html
    assert "URLconf" not in html  # Django's technical 404 lists the URL patterns
    assert "auzlearn.urls" not in html
