"""Management commands: create_organisation and demo."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from accounts.models import (
    ActorKind,
    AuditEvent,
    Organisation,
    Role,
    Team,
    TeamMembership,
    User,
)
from tests.manage import manage, migrated_database

STRONG_PASSWORD = "violet-harbour-lantern-47"


def create_organisation(slug: str, **options: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_organisation", slug, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def signs_in(organisation: str, login: str, password: str) -> bool:
    client = Client()
    client.post(
        reverse("accounts:login"),
        {"organisation": organisation, "login": login, "password": password},
    )
    body = client.get(reverse("accounts:me")).json()
    return bool(body["authenticated"] and body["organisation"] == organisation)


# --- create_organisation ---------------------------------------------------------------------


def test_create_organisation_creates_it_with_a_primary_admin_and_prints_its_public_id(db):
    out, err = create_organisation(
        "acme2",
        name="Acme Two",
        admin_email="boss@acme2.test",
        admin_password=STRONG_PASSWORD,
    )

    organisation = Organisation.objects.get(slug="acme2")
    assert organisation.name == "Acme Two"
    assert out == f"{organisation.public_id}\n"
    assert err == ""
    admin = User.objects.get(organisation=organisation)
    assert admin.role == Role.PRIMARY_ADMIN
    assert admin.username == "boss@acme2.test"
    assert admin.email == "boss@acme2.test"
    assert admin.is_active
    assert not admin.is_staff
    assert admin.has_usable_password()
    assert admin.check_password(STRONG_PASSWORD)
    assert set(
        AuditEvent.objects.filter(organisation=organisation).values_list(
            "action", "actor_kind", "actor_label"
        )
    ) == {
        ("organisation.create", ActorKind.SYSTEM, "manage.py create_organisation"),
        ("user.create", ActorKind.SYSTEM, "manage.py create_organisation"),
    }
    assert signs_in("acme2", "boss@acme2.test", STRONG_PASSWORD)


def test_create_organisation_without_password_prints_a_generated_one_that_works(db):
    out, err = create_organisation("acme2", name="Acme Two", admin_email="boss@acme2.test")

    organisation = Organisation.objects.get(slug="acme2")
    assert out == f"{organisation.public_id}\n"  # stdout stays machine-readable
    match = re.fullmatch(r"Generated password for boss@acme2\.test \(shown once\): (\S+)\n", err)
    assert match is not None, err
    password = match.group(1)
    assert len(password) >= 20
    assert password not in out
    assert signs_in("acme2", "boss@acme2.test", password)


def test_create_organisation_generates_a_different_password_each_time(db):
    _, first = create_organisation("one", name="One", admin_email="a@one.test")
    _, second = create_organisation("two", name="Two", admin_email="a@two.test")

    assert first.rsplit(" ", 1)[1] != second.rsplit(" ", 1)[1]


def test_create_organisation_refuses_a_duplicate_slug(org):
    users_before = User.objects.count()
    events_before = AuditEvent.objects.count()

    with pytest.raises(CommandError, match=r"organisation with the slug 'acme' already exists"):
        create_organisation(
            "acme", name="Another Acme", admin_email="x@acme.test", admin_password=STRONG_PASSWORD
        )

    assert Organisation.objects.filter(slug="acme").get().pk == org.pk
    assert Organisation.objects.get(pk=org.pk).name == org.name
    assert User.objects.count() == users_before
    assert AuditEvent.objects.count() == events_before


def test_create_organisation_refuses_an_invalid_slug_and_creates_nothing(db):
    with pytest.raises(CommandError, match=r"slug: .*lowercase letters") as excinfo:
        create_organisation(
            "Bad_Slug", name="Bad", admin_email="x@bad.test", admin_password=STRONG_PASSWORD
        )

    assert "Traceback" not in str(excinfo.value)
    assert not Organisation.objects.exists()
    assert not User.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("password123", "too common"),
        ("short", "too short"),
        ("839201746512", "entirely numeric"),
    ],
)
def test_create_organisation_refuses_a_weak_password_and_creates_nothing(db, password, problem):
    with pytest.raises(CommandError, match=problem):
        create_organisation(
            "acme2", name="Acme Two", admin_email="boss@acme2.test", admin_password=password
        )

    assert not Organisation.objects.exists()
    assert not User.objects.exists()
    assert not AuditEvent.objects.exists()


def test_create_organisation_refuses_a_password_like_the_admin_email(db):
    # AUTH_PASSWORD_VALIDATORS include UserAttributeSimilarityValidator; it can only judge the
    # password against the admin's userName and email if the command passes them along.
    with pytest.raises(CommandError, match="too similar"):
        create_organisation(
            "acme2",
            name="Acme Two",
            admin_email="boss@acme2.test",
            admin_password="boss@acme2.test",
        )

    assert not Organisation.objects.exists()


def test_create_organisation_refuses_an_invalid_email_and_creates_nothing(db):
    with pytest.raises(CommandError, match="email"):
        create_organisation(
            "acme2", name="Acme Two", admin_email="not-an-email", admin_password=STRONG_PASSWORD
        )

    assert not Organisation.objects.exists()
    assert not User.objects.exists()


def test_create_organisation_exits_with_status_1_on_a_duplicate_slug(tmp_path):
    database_url = migrated_database(tmp_path)

    first = manage(
        "create_organisation",
        "dup",
        "--name=Dup",
        "--admin-email=a@dup.test",
        f"--admin-password={STRONG_PASSWORD}",
        database_url=database_url,
    )
    assert first.returncode == 0, first.stderr
    assert re.fullmatch(r"[0-9a-f]{20}\n", first.stdout)

    second = manage(
        "create_organisation",
        "dup",
        "--name=Dup again",
        "--admin-email=b@dup.test",
        f"--admin-password={STRONG_PASSWORD}",
        database_url=database_url,
    )
    assert second.returncode == 1
    assert second.stdout == ""
    assert "CommandError: An organisation with the slug 'dup' already exists." in second.stderr
    assert "Traceback" not in second.stderr


# --- demo ------------------------------------------------------------------------------------


def run_demo() -> str:
    out = StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def demo_state() -> dict[str, object]:
    return {
        "organisations": Organisation.objects.count(),
        "users": User.objects.count(),
        "teams": Team.objects.count(),
        "memberships": TeamMembership.objects.count(),
        "audit_events": AuditEvent.objects.count(),
        "people": set(
            User.objects.values_list("organisation__slug", "username", "role", "manager__username")
        ),
        "team_members": set(
            TeamMembership.objects.values_list("team__display_name", "user__username")
        ),
        "ids": set(User.objects.values_list("public_id", flat=True)),
    }


def test_demo_creates_an_organisation_people_a_manager_link_and_a_team(db, settings):
    settings.DEBUG = True

    run_demo()

    organisation = Organisation.objects.get(slug="demo")
    people = User.objects.for_organisation(organisation)
    assert people.get(username="admin@demo.test").role == Role.PRIMARY_ADMIN
    ada = people.get(username="ada@demo.test")
    assert set(ada.reports.values_list("username", flat=True)) == {
        "ben@demo.test",
        "cleo@demo.test",
    }
    team = Team.objects.get(organisation=organisation)
    assert set(team.members.values_list("username", flat=True)) == {
        "ada@demo.test",
        "ben@demo.test",
        "cleo@demo.test",
    }
    staff = User.objects.get(organisation__isnull=True)
    assert staff.is_staff
    assert staff.is_superuser


def test_demo_twice_leaves_exactly_the_same_rows(db, settings):
    settings.DEBUG = True
    run_demo()
    first = demo_state()

    run_demo()

    second = demo_state()
    assert second == first
    assert first["organisations"] == 1
    assert first["teams"] == 1


def test_demo_prints_a_primary_admin_who_can_sign_in(db, settings):
    settings.DEBUG = True

    out = run_demo()

    organisation = re.search(r"Organisation:\s+(\S+)", out)
    admin = re.search(r"Primary admin:\s+(\S+) / (\S+)", out)
    assert organisation is not None, out
    assert admin is not None, out
    login, password = admin.groups()
    assert User.objects.get(username=login).role == Role.PRIMARY_ADMIN
    assert signs_in(organisation.group(1), login, password)
    assert f"{settings.PUBLIC_BASE_URL}/settings/sso/" in out


def test_demo_learner_sees_manager_and_team_after_signing_in(db, settings):
    settings.DEBUG = True
    run_demo()
    client = Client()

    client.post(
        reverse("accounts:login"),
        {"organisation": "demo", "login": "ben@demo.test", "password": "auzlearn-demo"},
    )

    body = client.get(reverse("accounts:me")).json()
    assert body["manager"]["username"] == "ada@demo.test"
    assert body["teams"] == ["Onboarding"]


def test_demo_refuses_to_run_with_debug_off(db, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        run_demo()

    assert not Organisation.objects.exists()
    assert not User.objects.exists()
    assert not AuditEvent.objects.exists()
