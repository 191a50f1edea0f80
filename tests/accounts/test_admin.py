"""The support staff admin: every page renders, every save goes through accounts.services (so
an audit row names the staff member), refusals come back as form errors that change nothing,
and no password hash ever reaches a page."""

import html
import json
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from accounts import services
from accounts.audit import Actor
from accounts.models import ActorKind, AuditEvent, Organisation, Role, Team, TeamMembership, User
from tests import factories

SYSTEM = factories.SYSTEM


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def world(org, other_org, primary_admin, learner, staff_user):
    """A bit of everything, so that every page and filter has something to show."""
    gone = factories.user(org, "gone@acme.test")
    services.user_delete(user=gone, actor=SYSTEM)
    idle = factories.user(other_org, "idle@globex.test")
    services.user_deactivate(user=idle, actor=SYSTEM)
    cam = factories.user(other_org, "cam@globex.test", external_id="00u-cam")
    services.user_set_manager(user=learner, actor=SYSTEM, manager=primary_admin)
    sales = factories.team(org, "Sales", members=[learner, primary_admin])
    ops = factories.team(other_org, "Ops", members=[cam])
    services.team_update(team=ops, actor=Actor.admin(staff_user), external_id="grp-ops")
    return SimpleNamespace(
        org=org,
        other_org=other_org,
        primary_admin=primary_admin,
        learner=learner,
        staff_user=staff_user,
        gone=gone,
        idle=idle,
        cam=cam,
        sales=sales,
        ops=ops,
    )


def _url(model: str, view: str, *args: Any) -> str:
    return reverse(f"admin:accounts_{model}_{view}", args=args)


def _form_data(response) -> dict[str, Any]:
    """What a browser would post back for the form as rendered, unchanged."""
    form = response.context["adminform"].form
    data: dict[str, Any] = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue  # an empty input, an unticked box
        data[name] = "on" if value is True else value
    return data


def _messages(response) -> list[tuple[str, str]]:
    return [(message.level_tag, str(message)) for message in response.context["messages"]]


def _admin_events(staff_user: User) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(actor_kind=ActorKind.ADMIN, actor_user=staff_user))


# --- every page renders ----------------------------------------------------------------------


OBJECTS: dict[str, Callable[[SimpleNamespace], Any]] = {
    "organisation": lambda w: w.org,
    "user": lambda w: w.learner,
    "team": lambda w: w.sales,
    "auditevent": lambda w: AuditEvent.objects.filter(action="team.create").first(),
}


PAGES = [
    (model, view)
    for model in OBJECTS
    for view in ("changelist", "add", "change")
    if (model, view) != ("auditevent", "add")  # see the read-only test
]


@pytest.mark.parametrize(("model", "view"), PAGES)
def test_every_admin_page_renders_for_support_staff(staff_client, world, model, view):
    args = [OBJECTS[model](world).pk] if view == "change" else []

    response = staff_client.get(_url(model, view, *args))

    assert response.status_code == 200
    assert b"auzlearn support" in response.content


@pytest.mark.parametrize("person", ["staff_user", "gone", "idle", "cam", "primary_admin"])
def test_change_page_renders_for_every_kind_of_person(staff_client, world, person):
    response = staff_client.get(_url("user", "change", getattr(world, person).pk))

    assert response.status_code == 200


def _audit(**filters: Any) -> set[AuditEvent]:
    return set(AuditEvent.objects.filter(**filters))


CHANGELIST_CASES = [
    pytest.param("organisation", lambda w: ({"q": "glob"}, {w.other_org}), id="org-search-slug"),
    pytest.param("organisation", lambda w: ({"q": w.org.name}, {w.org}), id="org-search-name"),
    pytest.param("user", lambda w: ({"q": "lee@"}, {w.learner}), id="user-search-username"),
    pytest.param("user", lambda w: ({"q": "00u-cam"}, {w.cam}), id="user-search-external-id"),
    pytest.param(
        "user",
        lambda w: ({"organisation__id__exact": w.other_org.pk}, {w.idle, w.cam}),
        id="user-filter-organisation",
    ),
    pytest.param(
        "user",
        lambda w: ({"organisation__isnull": "True"}, {w.staff_user}),
        id="user-filter-no-organisation",
    ),
    pytest.param(
        "user",
        lambda w: ({"role": Role.PRIMARY_ADMIN}, {w.primary_admin}),
        id="user-filter-role",
    ),
    pytest.param(
        "user", lambda w: ({"is_active__exact": "0"}, {w.gone, w.idle}), id="user-filter-inactive"
    ),
    pytest.param(
        "user", lambda w: ({"role": "support_staff"}, {w.staff_user}), id="user-filter-staff"
    ),
    pytest.param(
        "user",
        lambda w: ({"role": Role.LEARNER}, {w.learner, w.gone, w.idle, w.cam}),
        id="user-filter-learner-not-staff",
    ),
    pytest.param(
        "user",
        lambda w: ({"reports_of": w.primary_admin.pk}, {w.learner}),
        id="user-filter-reports-of",
    ),
    pytest.param("user", lambda w: ({"deleted": "yes"}, {w.gone}), id="user-filter-deleted"),
    pytest.param(
        "user",
        lambda w: ({"deleted": "no"}, set(User.objects.exclude(pk=w.gone.pk))),
        id="user-filter-not-deleted",
    ),
    pytest.param("team", lambda w: ({"q": "sal"}, {w.sales}), id="team-search-name"),
    pytest.param("team", lambda w: ({"q": "grp-ops"}, {w.ops}), id="team-search-external-id"),
    pytest.param(
        "team",
        lambda w: ({"organisation__id__exact": w.other_org.pk}, {w.ops}),
        id="team-filter-organisation",
    ),
    pytest.param(
        "auditevent",
        lambda w: ({"q": "gone@acme.test"}, _audit(target_label="gone@acme.test")),
        id="audit-search-target-label",
    ),
    pytest.param(
        "auditevent",
        lambda w: ({"q": str(w.cam.public_id)}, _audit(target_id=str(w.cam.public_id))),
        id="audit-search-target-id",
    ),
    pytest.param(
        "auditevent",
        lambda w: ({"q": "tests"}, _audit(actor_label=SYSTEM.label)),
        id="audit-search-actor-label",
    ),
    pytest.param(
        "auditevent",
        lambda w: ({"organisation__id__exact": w.other_org.pk}, _audit(organisation=w.other_org)),
        id="audit-filter-organisation",
    ),
    pytest.param(
        "auditevent",
        lambda w: ({"actor_kind__exact": ActorKind.ADMIN}, _audit(actor_kind=ActorKind.ADMIN)),
        id="audit-filter-actor-kind",
    ),
    pytest.param(
        "auditevent",
        lambda w: ({"action": "user.delete"}, _audit(action="user.delete")),
        id="audit-filter-action",
    ),
    pytest.param(
        "auditevent",
        lambda w: ({"created_at__year": datetime.now(UTC).year}, _audit()),
        id="audit-date-hierarchy",
    ),
    pytest.param(
        "auditevent",
        lambda w: (
            {"about": w.cam.pk},
            _audit(target_type="user", target_id=str(w.cam.public_id)),
        ),
        id="audit-filter-about-person",
    ),
    pytest.param(
        "auditevent",
        lambda w: ({"by": w.staff_user.pk}, _audit(actor_user=w.staff_user)),
        id="audit-filter-by-person",
    ),
]


@pytest.mark.parametrize(("model", "case"), CHANGELIST_CASES)
def test_changelist_search_and_filters_show_the_matching_rows(staff_client, world, model, case):
    params, expected = case(world)
    assert expected, "a case that expects nothing proves nothing"

    response = staff_client.get(_url(model, "changelist"), params)

    assert response.status_code == 200  # an unknown parameter would redirect with ?e=1
    assert set(response.context["cl"].result_list) == expected


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("model", ["organisation", "user", "team", "auditevent"])
def test_changelist_query_count_does_not_grow_with_the_rows(staff_client, world, model):
    url = _url(model, "changelist")
    before = _queries(staff_client, url)

    for _ in range(5):
        organisation = factories.organisation()
        boss = factories.user(organisation)
        report = factories.user(organisation)
        services.user_set_manager(user=report, actor=SYSTEM, manager=boss)
        factories.team(organisation, members=[boss, report])

    assert _queries(staff_client, url) == before


def test_index_is_titled_for_support_and_lists_only_the_domain_models(staff_client):
    response = staff_client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert b"auzlearn support" in response.content
    apps = {app["app_label"]: app for app in response.context["app_list"]}
    # No auth groups. scim: tests/scim/test_scim_admin.py; sso: tests/sso/test_sso_admin.py.
    assert set(apps) == {"accounts", "scim", "sso"}
    assert {model["object_name"] for model in apps["accounts"]["models"]} == {
        "AuditEvent",
        "Organisation",
        "Team",
        "User",
    }
    with pytest.raises(NoReverseMatch):
        reverse("admin:accounts_teammembership_changelist")


def test_organisation_people_cannot_open_the_admin(client, primary_admin):
    client.force_login(primary_admin)

    for url in (reverse("admin:index"), _url("user", "changelist")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('admin:login')}?next={url}"


# --- organisations ---------------------------------------------------------------------------


def test_adding_an_organisation_goes_through_the_service(staff_client, staff_user):
    response = staff_client.post(
        _url("organisation", "add"), {"slug": "initech", "name": "Initech"}
    )

    assert response.status_code == 302
    organisation = Organisation.objects.get(slug="initech")
    assert (organisation.name, organisation.scim_enabled, organisation.sso_required) == (
        "Initech",
        False,
        False,
    )
    [event] = _admin_events(staff_user)
    assert (event.action, event.organisation, event.target_id) == (
        "organisation.create",
        organisation,
        organisation.public_id,
    )
    assert event.changes == {"slug": "initech", "name": "Initech"}


def test_a_taken_slug_is_a_form_error(staff_client, org):
    response = staff_client.post(_url("organisation", "add"), {"slug": "acme", "name": "Acme 2"})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["slug"]
    assert Organisation.objects.filter(slug="acme").count() == 1


def test_editing_an_organisation_goes_through_the_service_and_keeps_the_slug(
    staff_client, staff_user, org
):
    old_name = org.name
    url = _url("organisation", "change", org.pk)
    data = _form_data(staff_client.get(url))
    assert "slug" not in data  # read-only after creation
    data.update(scim_enabled="on", name="Acme Corp", slug="hijacked")

    response = staff_client.post(url, data)

    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.slug, org.name, org.scim_enabled, org.sso_required) == (
        "acme",
        "Acme Corp",
        True,
        False,
    )
    [event] = _admin_events(staff_user)
    assert event.action == "organisation.update"
    assert event.changes == {
        "name": [old_name, "Acme Corp"],
        "scim_enabled": [False, True],
    }


def test_organisations_cannot_be_deleted_from_the_admin(staff_client, org):
    response = staff_client.post(_url("organisation", "delete", org.pk), {"post": "yes"})

    assert response.status_code == 403
    assert Organisation.objects.filter(pk=org.pk).exists()


# --- users: no password hash, ever -----------------------------------------------------------


def test_no_user_page_renders_a_password_hash(staff_client, world):
    assert world.learner.password.startswith("md5$")  # there is a hash to leak
    pages = [
        _url("user", "changelist"),
        _url("user", "changelist") + "?q=acme",
        _url("user", "changelist") + "?_popup=1&_to_field=id",  # the manager lookup
        _url("user", "add"),
        _url("user", "change", world.learner.pk),
        _url("user", "change", world.staff_user.pk),
        _url("user", "history", world.learner.pk),
        _url("team", "change", world.sales.pk),
        reverse("admin:autocomplete")
        + "?app_label=accounts&model_name=team&field_name=members&term=acme",
    ]
    hashes = list(User.objects.values_list("password", flat=True))

    for page in pages:
        response = staff_client.get(page)
        assert response.status_code == 200, page
        content = response.content.decode()
        assert not [h for h in hashes if h in content], page
        assert "md5$" not in content, page
        assert "pbkdf2" not in content, page
        assert 'name="password"' not in content, page


def test_users_cannot_be_deleted_from_the_admin(staff_client, learner):
    response = staff_client.get(_url("user", "changelist"))
    assert [name for name, _ in response.context["action_form"].fields["action"].choices] == [
        "",
        "deactivate_users",
        "reactivate_users",
        "restore_users",
        "end_sessions",
        "make_primary_admin",
    ]

    response = staff_client.post(_url("user", "delete", learner.pk), {"post": "yes"})

    assert response.status_code == 403
    assert User.objects.filter(pk=learner.pk).exists()


# --- users: actions --------------------------------------------------------------------------


def _act(client, action: str, users: list[User]):
    return client.post(
        _url("user", "changelist"),
        {"action": action, "_selected_action": [user.pk for user in users]},
        follow=True,
    )


def test_deactivate_action_deactivates_each_person_through_the_service(
    staff_client, staff_user, org, learner, primary_admin
):
    idle = factories.user(org, "idle@acme.test")
    services.user_deactivate(user=idle, actor=SYSTEM)

    response = _act(staff_client, "deactivate_users", [learner, idle, staff_user])

    learner.refresh_from_db()
    assert not learner.is_active
    assert learner.deactivated_at is not None
    staff_user.refresh_from_db()
    assert staff_user.is_active
    primary_admin.refresh_from_db()
    assert primary_admin.is_active
    [event] = _admin_events(staff_user)
    assert (event.action, event.target_id) == ("user.deactivate", str(learner.public_id))
    assert event.changes == {"active": [True, False]}
    assert _messages(response) == [
        ("warning", "Deactivated 1 of 3 selected users."),
        ("info", "idle@acme.test (acme): was already inactive."),
        ("success", "lee@acme.test (acme): deactivated."),
        ("error", "support (support staff): you cannot deactivate your own account."),
    ]


def test_reactivate_action_reactivates_and_refuses_deleted_people(
    staff_client, staff_user, org, learner
):
    idle = factories.user(org, "idle@acme.test")
    services.user_deactivate(user=idle, actor=SYSTEM)
    gone = factories.user(org, "gone@acme.test")
    services.user_delete(user=gone, actor=SYSTEM)

    response = _act(staff_client, "reactivate_users", [idle, gone, learner])

    idle.refresh_from_db()
    assert idle.is_active
    assert idle.deactivated_at is None
    gone.refresh_from_db()
    assert not gone.is_active
    assert gone.deleted_at is not None
    [event] = _admin_events(staff_user)
    assert (event.action, event.target_id) == ("user.reactivate", str(idle.public_id))
    assert _messages(response) == [
        ("warning", "Reactivated 1 of 3 selected users."),
        (
            "error",
            "gone@acme.test (acme): User 'gone@acme.test' is deleted; restore (revive) them first. "
            "Use “Restore selected deleted users” instead.",
        ),
        ("success", "idle@acme.test (acme): reactivated."),
        ("info", "lee@acme.test (acme): was already active."),
    ]


def test_restore_action_revives_deleted_people_as_the_same_row(
    staff_client, staff_user, org, learner
):
    gone = factories.user(org, "gone@acme.test")
    factories.team(org, "Sales", members=[gone])
    services.user_delete(user=gone, actor=SYSTEM)

    response = _act(staff_client, "restore_users", [gone, learner])

    gone.refresh_from_db()
    assert gone.deleted_at is None
    assert gone.is_active
    assert list(gone.teams.values_list("display_name", flat=True)) == ["Sales"]
    [event] = _admin_events(staff_user)
    assert (event.action, event.target_id) == ("user.revive", str(gone.public_id))
    assert event.changes == {"deleted": [True, False], "active": [False, True]}
    assert _messages(response) == [
        ("info", "Restored 1 of 2 selected users."),
        ("success", "gone@acme.test (acme): restored and active again."),
        ("info", "lee@acme.test (acme): is not deleted; nothing to restore."),
    ]


# --- no organisation without an admin ---------------------------------------------------------


@pytest.fixture
def admin_states(org, other_org, primary_admin):
    """acme has an active primary admin; globex's only one was deactivated by SCIM (the IdP
    knows who has left); initech's only one is deleted; umbrella never had one."""
    scim = Actor.scim_key("abc123")
    gone = factories.user(other_org, "boss@globex.test", role=Role.PRIMARY_ADMIN)
    services.user_deactivate(user=gone, actor=scim)
    initech = factories.organisation("initech")
    deleted = factories.user(initech, "boss@initech.test", role=Role.PRIMARY_ADMIN)
    services.user_delete(user=deleted, actor=scim)
    umbrella = factories.organisation("umbrella")
    factories.user(umbrella, "lee@umbrella.test")
    return SimpleNamespace(with_admin={org}, without_admin={other_org, initech, umbrella})


def test_organisation_list_says_which_organisations_have_no_active_primary_admin(
    staff_client, admin_states
):
    response = staff_client.get(_url("organisation", "changelist"))

    assert response.status_code == 200
    shown = {o: o.has_primary_admin for o in response.context["cl"].result_list}
    assert {o for o, has in shown.items() if has} == admin_states.with_admin
    assert {o for o, has in shown.items() if not has} == admin_states.without_admin
    assert "Active primary admin" in response.content.decode()


@pytest.mark.parametrize(("value", "expected"), [("no", "without_admin"), ("yes", "with_admin")])
def test_organisation_list_filters_by_active_primary_admin(
    staff_client, admin_states, value, expected
):
    response = staff_client.get(_url("organisation", "changelist"), {"primary_admin": value})

    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == getattr(admin_states, expected)


def test_organisation_page_warns_when_nobody_can_manage_it(staff_client, admin_states, other_org):
    response = staff_client.get(_url("organisation", "change", other_org.pk))

    assert response.status_code == 200
    content = html.unescape(response.content.decode())
    assert "None: nobody can manage this organisation's settings." in content
    assert f'href="{_url("user", "changelist")}?organisation__id__exact={other_org.pk}"' in (
        content
    )
    assert "“Make primary admin”" in content


def test_organisation_page_names_its_active_primary_admins(
    staff_client, admin_states, org, primary_admin
):
    response = staff_client.get(_url("organisation", "change", org.pk))

    content = response.content.decode()
    assert f'<a href="{_url("user", "change", primary_admin.pk)}">admin@acme.test</a>' in content
    assert "nobody can manage" not in content


def test_make_primary_admin_promotes_through_the_service_and_refuses_who_it_must(
    staff_client, staff_user, org, learner, primary_admin
):
    idle = factories.user(org, "idle@acme.test")
    services.user_deactivate(user=idle, actor=SYSTEM)
    gone = factories.user(org, "gone@acme.test")
    services.user_delete(user=gone, actor=SYSTEM)

    response = _act(
        staff_client, "make_primary_admin", [learner, primary_admin, idle, gone, staff_user]
    )

    assert _messages(response) == [  # how many changed, then each in the order of userNames
        ("warning", "Made 1 of 5 selected users primary admin."),
        ("info", "admin@acme.test (acme): is already a primary admin."),
        (
            "error",
            "gone@acme.test (acme): User 'gone@acme.test' is deleted; restore (revive) them first.",
        ),
        (
            "error",
            "idle@acme.test (acme): User 'idle@acme.test' is inactive; reactivate them first.",
        ),
        ("success", "lee@acme.test (acme): is now a primary admin."),
        (
            "error",
            "support (support staff): 'support' is support staff; roles are for people "
            "of an organisation.",
        ),
    ]
    roles = dict(User.objects.values_list("username", "role"))
    assert roles == {
        "lee@acme.test": Role.PRIMARY_ADMIN,
        "admin@acme.test": Role.PRIMARY_ADMIN,
        "idle@acme.test": Role.LEARNER,
        "gone@acme.test": Role.LEARNER,
        "support": Role.LEARNER,
    }
    [event] = _admin_events(staff_user)
    assert (event.action, event.target_id, event.organisation) == (
        "user.set_role",
        str(learner.public_id),
        org,
    )
    assert event.changes == {"role": [Role.LEARNER, Role.PRIMARY_ADMIN]}


def test_an_organisation_left_without_an_admin_by_scim_gets_one_back_from_support(
    staff_client, org, learner, primary_admin
):
    services.user_deactivate(user=primary_admin, actor=Actor.scim_key("abc123"))
    page = _url("organisation", "change", org.pk)
    assert "nobody can manage" in staff_client.get(page).content.decode()

    _act(staff_client, "make_primary_admin", [learner])

    assert "nobody can manage" not in staff_client.get(page).content.decode()
    learner.refresh_from_db()
    assert learner.is_primary_admin


# --- users: add and change -------------------------------------------------------------------


def test_adding_a_person_goes_through_the_service(staff_client, staff_user, org, primary_admin):
    response = staff_client.post(
        _url("user", "add"),
        {
            "organisation": org.pk,
            "username": "Nia@acme.test",
            "email": "nia@acme.test",
            "given_name": "Nia",
            "role": Role.MANAGER,
            "manager": primary_admin.pk,
            "initial_password": "quartz-lantern-meadow-42",
        },
    )

    assert response.status_code == 302
    nia = User.objects.get(username="Nia@acme.test")
    assert (nia.organisation, nia.role, nia.manager) == (org, Role.MANAGER, primary_admin)
    assert nia.check_password("quartz-lantern-meadow-42")
    assert [(e.action, e.target_id) for e in _admin_events(staff_user)] == [
        ("user.set_manager", str(nia.public_id)),
        ("user.create", str(nia.public_id)),
    ]


def test_a_person_added_without_a_password_signs_in_with_sso_only(staff_client, org):
    response = staff_client.post(
        _url("user", "add"),
        {"organisation": org.pk, "username": "sso@acme.test", "role": "learner"},
    )

    assert response.status_code == 302
    assert not User.objects.get(username="sso@acme.test").has_usable_password()


def test_a_weak_first_password_is_a_form_error(staff_client, org):
    response = staff_client.post(
        _url("user", "add"),
        {
            "organisation": org.pk,
            "username": "weak@acme.test",
            "role": "learner",
            "initial_password": "password",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["initial_password"]
    assert not User.objects.filter(username="weak@acme.test").exists()


def test_a_taken_username_is_a_form_error(staff_client, org, learner):
    response = staff_client.post(
        _url("user", "add"),
        {"organisation": org.pk, "username": "LEE@acme.test", "role": "learner"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert User.objects.for_organisation(org).with_username("lee@acme.test").count() == 1


def test_editing_a_persons_email_saves_it_through_the_service(staff_client, staff_user, learner):
    url = _url("user", "change", learner.pk)
    data = _form_data(staff_client.get(url))
    data["email"] = "lee.new@acme.test"

    response = staff_client.post(url, data)

    assert response.status_code == 302
    learner.refresh_from_db()
    assert learner.email == "lee.new@acme.test"
    assert learner.emails == [{"value": "lee.new@acme.test", "type": "work"}]  # kept in step
    [event] = _admin_events(staff_user)
    assert (event.action, event.target_id) == ("user.update", str(learner.public_id))
    assert event.changes == {
        "email": ["lee@acme.test", "lee.new@acme.test"],
        "emails": [
            [{"value": "lee@acme.test", "type": "work"}],
            [{"value": "lee.new@acme.test", "type": "work"}],
        ],
    }


def test_a_change_elsewhere_in_the_service_is_a_form_error_not_a_crash(
    staff_client, staff_user, org, learner
):
    factories.user(org, "taken@acme.test", external_id="00u-taken")
    url = _url("user", "change", learner.pk)
    data = _form_data(staff_client.get(url))
    data["external_id"] = "00u-taken"

    response = staff_client.post(url, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["external_id"] == [
        "A user with externalId '00u-taken' already exists in this organisation."
    ]
    learner.refresh_from_db()
    assert learner.external_id is None
    assert _admin_events(staff_user) == []


def test_editing_a_deleted_person_is_refused_with_the_services_message(
    staff_client, staff_user, org
):
    gone = factories.user(org, "gone@acme.test")
    services.user_delete(user=gone, actor=SYSTEM)
    url = _url("user", "change", gone.pk)
    data = _form_data(staff_client.get(url))
    data["email"] = "back@acme.test"

    response = staff_client.post(url, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "User 'gone@acme.test' is deleted; restore (revive) them first."
    ]
    gone.refresh_from_db()
    assert gone.email == "gone@acme.test"
    assert _admin_events(staff_user) == []


def test_a_manager_from_another_organisation_is_a_form_error_and_changes_nothing(
    staff_client, staff_user, learner, other_org
):
    stranger = factories.user(other_org, "sam@globex.test")
    url = _url("user", "change", learner.pk)
    data = _form_data(staff_client.get(url))
    # The email is saved first in the same request; the refusal must roll it back.
    data.update(manager=stranger.pk, email="lee.new@acme.test")

    response = staff_client.post(url, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["manager"] == [
        "'sam@globex.test' is not a user of this organisation."
    ]
    assert "is not a user of this organisation" in html.unescape(response.content.decode())
    learner.refresh_from_db()
    assert (learner.manager, learner.email) == (None, "lee@acme.test")
    assert _admin_events(staff_user) == []


def test_a_manager_cycle_is_a_form_error_and_changes_nothing(
    staff_client, staff_user, learner, primary_admin
):
    services.user_set_manager(user=learner, actor=SYSTEM, manager=primary_admin)
    url = _url("user", "change", primary_admin.pk)
    data = _form_data(staff_client.get(url))
    data["manager"] = learner.pk

    response = staff_client.post(url, data)

    assert response.status_code == 200
    [error] = response.context["adminform"].form.errors["manager"]
    assert error.endswith("making them their manager would create a cycle.")
    primary_admin.refresh_from_db()
    assert primary_admin.manager is None
    assert _admin_events(staff_user) == []


def test_setting_a_manager_goes_through_the_service(
    staff_client, staff_user, learner, primary_admin
):
    url = _url("user", "change", learner.pk)
    data = _form_data(staff_client.get(url))
    data["manager"] = primary_admin.pk

    response = staff_client.post(url, data)

    assert response.status_code == 302
    learner.refresh_from_db()
    assert learner.manager == primary_admin
    [event] = _admin_events(staff_user)
    assert event.action == "user.set_manager"
    assert event.changes == {"manager": [None, str(primary_admin.public_id)]}


# --- teams -----------------------------------------------------------------------------------


def _member_ids(team: Team) -> set[int]:
    return set(TeamMembership.objects.filter(team=team).values_list("user_id", flat=True))


def test_team_members_edited_in_the_admin_are_set_by_the_service(
    staff_client, staff_user, org, learner, primary_admin
):
    team = factories.team(org, "Sales", members=[primary_admin])
    url = _url("team", "change", team.pk)
    data = _form_data(staff_client.get(url))
    assert data["team_members"] == [primary_admin.pk]
    data["team_members"] = [learner.pk]

    response = staff_client.post(url, data)

    assert response.status_code == 302
    assert _member_ids(team) == {learner.pk}
    [event] = _admin_events(staff_user)
    assert (event.action, event.target_id) == ("team.members", str(team.public_id))
    assert event.changes == {
        "members": {"added": [str(learner.public_id)], "removed": [str(primary_admin.public_id)]}
    }


def test_a_team_member_from_another_organisation_is_a_form_error_and_changes_nothing(
    staff_client, staff_user, org, other_org, learner, primary_admin
):
    stranger = factories.user(other_org, "sam@globex.test")
    team = factories.team(org, "Sales", members=[primary_admin])
    url = _url("team", "change", team.pk)
    data = _form_data(staff_client.get(url))
    # The rename is saved first in the same request; the refusal must roll it back.
    data.update(display_name="Sales EMEA", team_members=[learner.pk, stranger.pk])

    response = staff_client.post(url, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["team_members"] == [
        "Not people of this organisation: sam@globex.test"
    ]
    team.refresh_from_db()
    assert team.display_name == "Sales"
    assert _member_ids(team) == {primary_admin.pk}
    assert _admin_events(staff_user) == []


def test_renaming_a_team_to_a_taken_name_is_a_form_error(staff_client, staff_user, org):
    factories.team(org, "Sales")
    team = factories.team(org, "Support")
    url = _url("team", "change", team.pk)
    data = _form_data(staff_client.get(url))
    data["display_name"] = "SALES"

    response = staff_client.post(url, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["display_name"] == [
        "A team named 'SALES' already exists in this organisation."
    ]
    team.refresh_from_db()
    assert team.display_name == "Support"
    assert _admin_events(staff_user) == []


def test_adding_a_team_goes_through_the_services(staff_client, staff_user, org, learner):
    response = staff_client.post(
        _url("team", "add"),
        {
            "organisation": org.pk,
            "display_name": "Finance",
            "external_id": "grp-fin",
            "team_members": [learner.pk],
        },
    )

    assert response.status_code == 302
    team = Team.objects.get(display_name="Finance")
    assert (team.organisation, team.external_id) == (org, "grp-fin")
    assert _member_ids(team) == {learner.pk}
    assert [e.action for e in _admin_events(staff_user)] == ["team.members", "team.create"]


def test_the_organisation_of_a_team_is_read_only_after_creation(
    staff_client, org, other_org, learner
):
    team = factories.team(org, "Sales")
    url = _url("team", "change", team.pk)
    data = _form_data(staff_client.get(url))
    assert "organisation" not in data
    data["organisation"] = other_org.pk

    assert staff_client.post(url, data).status_code == 302
    team.refresh_from_db()
    assert team.organisation == org


def test_deleting_a_team_goes_through_the_service_and_keeps_the_people(
    staff_client, staff_user, org, learner
):
    team = factories.team(org, "Sales", members=[learner])
    public_id = str(team.public_id)

    response = staff_client.post(_url("team", "delete", team.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Team.objects.filter(pk=team.pk).exists()
    assert User.objects.filter(pk=learner.pk).exists()
    [event] = _admin_events(staff_user)
    assert (event.action, event.target_id) == ("team.delete", public_id)
    assert event.changes == {"display_name": "Sales", "members": [str(learner.public_id)]}


# --- audit events ----------------------------------------------------------------------------


def test_audit_events_cannot_be_added_changed_or_deleted(staff_client, learner):
    event = AuditEvent.objects.get(action="user.create", target_id=str(learner.public_id))
    before = list(AuditEvent.objects.values())

    add = staff_client.post(_url("auditevent", "add"), {"action": "user.create"})
    change = staff_client.post(_url("auditevent", "change", event.pk), {"action": "forged"})
    delete = staff_client.post(_url("auditevent", "delete", event.pk), {"post": "yes"})
    changelist = staff_client.get(_url("auditevent", "changelist"))

    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    assert changelist.status_code == 200
    assert changelist.context["action_form"] is None  # no "delete selected"
    assert b"delete_selected" not in changelist.content
    assert list(AuditEvent.objects.values()) == before


def test_audit_event_page_shows_the_changes_as_pretty_json(staff_client, learner):
    services.user_update(user=learner, actor=SYSTEM, email="lee.new@acme.test")
    event = AuditEvent.objects.get(action="user.update")

    response = staff_client.get(_url("auditevent", "change", event.pk))

    assert response.status_code == 200
    pretty = json.dumps(event.changes, indent=2, sort_keys=True)
    assert f"<pre>{html.escape(pretty)}</pre>" in response.content.decode()
    assert b'name="action"' not in response.content  # read-only: no inputs


def test_a_role_changed_on_the_form_goes_through_its_own_service(staff_client, staff_user, learner):
    url = _url("user", "change", learner.pk)
    data = _form_data(staff_client.get(url))
    data["role"] = "primary_admin"

    assert staff_client.post(url, data).status_code == 302

    learner.refresh_from_db()
    assert learner.role == "primary_admin"
    [event] = _admin_events(staff_user)
    assert (event.action, event.changes) == (
        "user.set_role",
        {"role": ["learner", "primary_admin"]},
    )


def test_the_form_refuses_a_role_for_an_inactive_person(staff_client, staff_user, learner):
    services.user_deactivate(user=learner, actor=factories.SYSTEM)
    url = _url("user", "change", learner.pk)
    data = _form_data(staff_client.get(url))
    data["role"] = "primary_admin"

    response = staff_client.post(url, data)

    assert response.status_code == 200
    assert "inactive; reactivate them first" in response.content.decode()
    learner.refresh_from_db()
    assert learner.role == "learner"
    assert _admin_events(staff_user) == []
