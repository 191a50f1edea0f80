"""Password sign-in, sign-out and sessions: scoped to an organisation, refused for people whose
access was removed, and never revived by reactivation."""

import html
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.forms import SIGN_IN_FAILED, SSO_REQUIRED
from accounts.models import Organisation, Role, User
from tests import factories

SIGN_IN_URL = reverse("accounts:login")
SIGN_OUT_URL = reverse("accounts:logout")
HOME_URL = reverse("accounts:home")
ME_URL = reverse("accounts:me")


def sign_in(client: Client, organisation: str, login: str, password: str, **extra: str):
    return client.post(
        SIGN_IN_URL,
        {"organisation": organisation, "login": login, "password": password, **extra},
    )


def me(client: Client) -> dict[str, Any]:
    response = client.get(ME_URL)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def assert_signed_in_as(client: Client, user: User) -> None:
    body = me(client)
    assert body["authenticated"] is True
    assert body["username"] == user.username
    assert body["organisation"] == (user.organisation.slug if user.organisation else None)
    assert client.session[SESSION_KEY] == str(user.pk)


def assert_refused(response, client: Client, message: str = SIGN_IN_FAILED) -> None:
    """The form is shown again with one message (the generic one unless said), and nobody is
    signed in."""
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [message]
    assert html.escape(message) in response.content.decode() or message in response.content.decode()
    assert me(client) == {"authenticated": False}
    assert SESSION_KEY not in client.session


def assert_signed_out_everywhere(client: Client) -> None:
    assert me(client) == {"authenticated": False}
    response = client.get(HOME_URL)
    assert response.status_code == 302
    assert response["Location"] == f"{SIGN_IN_URL}?next={HOME_URL}"


# --- signing in ------------------------------------------------------------------------------


def test_sign_in_page_shows_the_form_with_the_organisation_prefilled(client, org):
    response = client.get(SIGN_IN_URL, {"organisation": "acme", "next": "/settings/sso/"})

    assert response.status_code == 200
    assert response.context["form"]["organisation"].value() == "acme"
    html = response.content.decode()
    assert 'name="login"' in html
    assert 'type="password"' in html
    assert '<input type="hidden" name="next" value="/settings/sso/">' in html
    assert "no-store" in response["Cache-Control"]


def test_learner_signs_in_with_username_and_lands_on_home(client, learner):
    response = sign_in(client, "acme", "lee@acme.test", factories.PASSWORD)

    assert response.status_code == 302
    assert response.url == HOME_URL
    assert_signed_in_as(client, learner)
    assert client.get(HOME_URL).status_code == 200


def test_username_is_matched_case_insensitively(client, org):
    person = factories.user(org, "Jo.Bloggs", email="jo@acme.test")

    response = sign_in(client, "acme", "jO.bLOGGS", factories.PASSWORD)

    assert response.status_code == 302
    assert_signed_in_as(client, person)
    assert me(client)["username"] == "Jo.Bloggs"  # stored and returned as received


def test_organisation_slug_is_matched_case_insensitively(client, learner):
    response = sign_in(client, " ACME ", "lee@acme.test", factories.PASSWORD)

    assert response.status_code == 302
    assert_signed_in_as(client, learner)


def test_person_signs_in_with_their_email(client, org):
    person = factories.user(org, "jbloggs", email="Jo.Bloggs@Acme.test")

    response = sign_in(client, "acme", "jo.bloggs@acme.test", factories.PASSWORD)

    assert response.status_code == 302
    assert_signed_in_as(client, person)


def test_email_shared_by_two_people_signs_in_neither(client, org):
    first = factories.user(org, "first", email="shared@acme.test")
    factories.user(org, "second", email="shared@acme.test")

    assert_refused(sign_in(client, "acme", "shared@acme.test", factories.PASSWORD), client)

    sign_in(client, "acme", "first", factories.PASSWORD)
    assert_signed_in_as(client, first)


def test_email_of_a_deleted_person_does_not_block_sign_in_by_email(client, org):
    # Entra hard-deletes a person and later provisions them again under a new userName with
    # the same email; the tombstone stays (DESIGN §4) but can never sign in, so it must not
    # make the email ambiguous.
    old = factories.user(org, "jo.old@acme.test", email="jo@acme.test")
    services.user_delete(user=old, actor=factories.SYSTEM)
    new = factories.user(org, "jo.new@acme.test", email="jo@acme.test")

    response = sign_in(client, "acme", "jo@acme.test", factories.PASSWORD)

    assert response.status_code == 302
    assert_signed_in_as(client, new)


@pytest.mark.parametrize(
    ("organisation", "login", "password"),
    [
        pytest.param("acme", "lee@acme.test", "wrong-password", id="wrong-password"),
        pytest.param("nosuch", "lee@acme.test", factories.PASSWORD, id="unknown-organisation"),
        pytest.param("acme", "nobody@acme.test", factories.PASSWORD, id="unknown-user"),
    ],
)
def test_failed_sign_in_gives_one_generic_error_and_no_session(
    client, learner, organisation, login, password
):
    assert_refused(sign_in(client, organisation, login, password), client)


def test_empty_password_is_a_field_error_and_signs_nobody_in(client, learner):
    response = sign_in(client, "acme", "lee@acme.test", "")

    assert response.status_code == 200
    assert response.context["form"].errors["password"] == ["This field is required."]
    assert me(client) == {"authenticated": False}


def test_same_username_in_two_organisations_signs_in_only_with_its_own_password(
    client, org, other_org
):
    acme_sam = factories.user(org, "sam", password="acme-password-123", email="sam@acme.test")
    globex_sam = factories.user(
        other_org, "sam", password="globex-password-456", email="sam@globex.test"
    )

    assert_refused(sign_in(client, "acme", "sam", "globex-password-456"), client)
    assert_refused(sign_in(client, "globex", "sam", "acme-password-123"), client)

    sign_in(client, "acme", "sam", "acme-password-123")
    assert_signed_in_as(client, acme_sam)

    other_client = Client()
    sign_in(other_client, "globex", "sam", "globex-password-456")
    assert_signed_in_as(other_client, globex_sam)


def test_person_cannot_sign_in_through_another_organisation(client, learner, other_org):
    assert_refused(sign_in(client, "globex", "lee@acme.test", factories.PASSWORD), client)


def test_support_staff_cannot_use_the_organisation_sign_in(client, org, staff_user):
    assert_refused(sign_in(client, "acme", "support", factories.PASSWORD), client)


def test_deactivated_user_cannot_sign_in(client, learner):
    services.user_deactivate(user=learner, actor=factories.SYSTEM)

    assert_refused(sign_in(client, "acme", "lee@acme.test", factories.PASSWORD), client)


def test_deleted_user_cannot_sign_in(client, learner):
    services.user_delete(user=learner, actor=factories.SYSTEM)

    assert_refused(sign_in(client, "acme", "lee@acme.test", factories.PASSWORD), client)


def test_user_without_a_usable_password_cannot_sign_in(client, org):
    factories.user(org, "sso-only@acme.test", password=None)

    assert_refused(sign_in(client, "acme", "sso-only@acme.test", "anything-at-all"), client)


# --- sessions end when access is removed -----------------------------------------------------


def test_deactivation_ends_an_existing_session(client, learner):
    client.force_login(learner)
    assert_signed_in_as(client, learner)

    services.user_deactivate(user=learner, actor=factories.SYSTEM)

    assert_signed_out_everywhere(client)


def test_deletion_ends_an_existing_session(client, learner):
    sign_in(client, "acme", "lee@acme.test", factories.PASSWORD)
    assert_signed_in_as(client, learner)

    services.user_delete(user=learner, actor=factories.SYSTEM)

    assert_signed_out_everywhere(client)


@pytest.mark.parametrize("visit_while_inactive", [True, False])
def test_reactivation_does_not_revive_an_old_session(client, learner, visit_while_inactive):
    client.force_login(learner)
    services.user_deactivate(user=learner, actor=factories.SYSTEM)
    if visit_while_inactive:
        assert_signed_out_everywhere(client)

    services.user_reactivate(user=learner, actor=factories.SYSTEM)

    assert_signed_out_everywhere(client)
    response = sign_in(client, "acme", "lee@acme.test", factories.PASSWORD)
    assert response.status_code == 302
    assert_signed_in_as(client, learner)


def test_revival_after_deletion_does_not_revive_an_old_session(client, learner):
    client.force_login(learner)
    services.user_delete(user=learner, actor=factories.SYSTEM)

    services.user_revive(user=learner, actor=factories.SYSTEM)

    assert_signed_out_everywhere(client)
    sign_in(client, "acme", "lee@acme.test", factories.PASSWORD)
    assert_signed_in_as(client, learner)


def test_session_of_an_inactive_user_does_not_authenticate_even_without_revocation(client, learner):
    # Defence in depth: a row made inactive without going through user_deactivate (a data
    # repair, a bulk update) must still not keep a session alive.
    client.force_login(learner)
    User.objects.filter(pk=learner.pk).update(is_active=False, deactivated_at=timezone.now())

    assert_signed_out_everywhere(client)


def test_deactivating_one_person_leaves_other_sessions_alone(client, learner, primary_admin):
    client.force_login(primary_admin)

    services.user_deactivate(user=learner, actor=factories.SYSTEM)

    assert_signed_in_as(client, primary_admin)


# --- SSO required ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.LEARNER, Role.MANAGER, Role.ADMIN])
def test_sso_required_refuses_password_sign_in_for_everyone_but_primary_admins(client, org, role):
    factories.user(org, "pat@acme.test", role=role)
    services.organisation_update(organisation=org, actor=factories.SYSTEM, sso_required=True)

    response = sign_in(client, "acme", "pat@acme.test", factories.PASSWORD)
    assert_refused(response, client, SSO_REQUIRED % {"organisation": org.name})


def test_sso_required_still_lets_the_primary_admin_sign_in_with_a_password(
    client, org, primary_admin
):
    Organisation.objects.filter(pk=org.pk).update(sso_required=True)

    response = sign_in(client, "acme", "admin@acme.test", factories.PASSWORD)

    assert response.status_code == 302
    assert_signed_in_as(client, primary_admin)


def test_sso_required_in_one_organisation_does_not_affect_another(client, org, other_org):
    services.organisation_update(organisation=org, actor=factories.SYSTEM, sso_required=True)
    person = factories.user(other_org, "pat@globex.test")

    sign_in(client, "globex", "pat@globex.test", factories.PASSWORD)

    assert_signed_in_as(client, person)


# --- redirects -------------------------------------------------------------------------------


@pytest.mark.parametrize("in_query", [False, True])
def test_next_is_followed_for_a_same_site_path(client, learner, in_query):
    target = "/me.json?from=sign-in"
    if in_query:
        response = client.post(
            f"{SIGN_IN_URL}?next=/me.json%3Ffrom%3Dsign-in",
            {"organisation": "acme", "login": "lee@acme.test", "password": factories.PASSWORD},
        )
    else:
        response = sign_in(client, "acme", "lee@acme.test", factories.PASSWORD, next=target)

    assert response.status_code == 302
    assert response.url == target


@pytest.mark.parametrize(
    "evil",
    [
        "https://evil.example/",
        "//evil.example/",
        "http://evil.example/me.json",
        "/\\evil.example/",
        "javascript:alert(1)",
    ],
)
def test_next_to_another_site_is_ignored(client, learner, evil):
    response = sign_in(client, "acme", "lee@acme.test", factories.PASSWORD, next=evil)

    assert response.status_code == 302
    assert response.url == HOME_URL
    assert_signed_in_as(client, learner)


def test_failed_sign_in_keeps_next_for_the_next_attempt(client, learner):
    response = sign_in(client, "acme", "lee@acme.test", "wrong", next="/settings/sso/")

    assert '<input type="hidden" name="next" value="/settings/sso/">' in response.content.decode()


# --- sign-out and session keys ---------------------------------------------------------------


def test_sign_out_is_a_post_that_ends_the_session(client, learner):
    sign_in(client, "acme", "lee@acme.test", factories.PASSWORD)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value

    assert client.get(SIGN_OUT_URL).status_code == 405
    assert_signed_in_as(client, learner)

    response = client.post(SIGN_OUT_URL)

    assert response.status_code == 302
    assert response.url == SIGN_IN_URL
    assert_signed_out_everywhere(client)
    assert not SessionStore().exists(session_key)


def test_session_key_rotates_at_sign_in(client, learner):
    session = client.session  # an anonymous session, as an attacker could plant one
    session["visited"] = True
    session.save()
    before = client.cookies[settings.SESSION_COOKIE_NAME].value

    sign_in(client, "acme", "lee@acme.test", factories.PASSWORD)

    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not SessionStore().exists(before)
    planted = Client()
    planted.cookies[settings.SESSION_COOKIE_NAME] = before
    assert me(planted) == {"authenticated": False}
    assert_signed_in_as(client, learner)


def test_session_cookie_is_http_only(client, learner):
    sign_in(client, "acme", "lee@acme.test", factories.PASSWORD)

    assert client.cookies[settings.SESSION_COOKIE_NAME]["httponly"] is True


# --- Django admin ----------------------------------------------------------------------------


def test_support_staff_sign_in_to_the_django_admin(client, staff_user):
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "support", "password": factories.PASSWORD}
    )

    assert response.status_code == 302
    assert response.url == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert_signed_in_as(client, staff_user)


def test_organisation_user_cannot_sign_in_to_the_django_admin(client, primary_admin):
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "admin@acme.test", "password": factories.PASSWORD},
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert me(client) == {"authenticated": False}


def test_admin_login_does_not_find_an_organisation_user_with_a_staff_username(
    client, org, staff_user
):
    factories.user(org, "support", password="the-org-users-own-pw", email="s@acme.test")

    response = client.post(
        "/admin/login/", {"username": "support", "password": "the-org-users-own-pw"}
    )

    assert response.status_code == 200
    assert me(client) == {"authenticated": False}


def test_signed_in_organisation_user_is_sent_away_from_the_django_admin(client, primary_admin):
    sign_in(client, "acme", "admin@acme.test", factories.PASSWORD)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


# --- CSRF ------------------------------------------------------------------------------------


def test_sign_in_without_a_csrf_token_is_refused(learner):
    client = Client(enforce_csrf_checks=True)

    response = sign_in(client, "acme", "lee@acme.test", factories.PASSWORD)

    assert response.status_code == 403
    assert me(client) == {"authenticated": False}


def test_sign_in_with_the_csrf_token_from_the_form_works(learner):
    client = Client(enforce_csrf_checks=True)
    client.get(SIGN_IN_URL)
    token = client.cookies[settings.CSRF_COOKIE_NAME].value

    response = sign_in(
        client, "acme", "lee@acme.test", factories.PASSWORD, csrfmiddlewaretoken=token
    )

    assert response.status_code == 302
    assert_signed_in_as(client, learner)


def test_sign_out_without_a_csrf_token_is_refused(learner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)

    response = client.post(SIGN_OUT_URL)

    assert response.status_code == 403
    assert_signed_in_as(client, learner)


def test_a_refused_password_sign_in_where_sso_is_required_says_to_use_sso(client, org, learner):
    Organisation.objects.filter(pk=org.pk).update(sso_required=True)
    response = client.post(
        reverse("accounts:login"),
        {"organisation": org.slug, "login": learner.username, "password": factories.PASSWORD},
    )
    assert response.status_code == 200
    assert "signs in with single sign-on" in response.content.decode()
    assert client.get("/me.json").json() == {"authenticated": False}
