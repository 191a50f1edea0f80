"""The support admin's people (issue 14, item 4): names as people say them in the index, a
person's page with their teams, manager, reports and audit trail, support staff shown as staff,
tombstones recognisable, and the actions (deactivate, reactivate, end sessions, promote) going
through accounts.services, audited, refused where the service refuses and for those without
the right to change people."""

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import admin as accounts_admin
from accounts import services
from accounts.audit import Actor
from accounts.models import ActorKind, AuditEvent, Role, User
from tests import factories
from tests.accounts.test_sign_in import assert_signed_in_as, assert_signed_out_everywhere, sign_in

SYSTEM = factories.SYSTEM


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def _url(view: str, *args: Any) -> str:
    return reverse(f"admin:accounts_user_{view}", args=args)


def _page(client: Client, user: User) -> str:
    response = client.get(_url("change", user.pk))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _field(response_or_content: Any, name: str) -> str:
    """The read-only value of a field of the admin's form, as rendered."""
    content = (
        response_or_content
        if isinstance(response_or_content, str)
        else html.unescape(response_or_content.content.decode())
    )
    found = re.search(
        rf'<div class="form-row[^"]*field-{name}[^"]*">(.*?)(?=<div class="form-row|</fieldset>)',
        content,
        re.S,
    )
    assert found, f"no field {name}"
    shown = re.search(r'<div class="readonly">(.*?)</div>', found.group(1), re.S)
    return shown.group(1) if shown else found.group(1)


def _act(client: Client, action: str, users: list[User]):
    return client.post(
        _url("changelist"),
        {"action": action, "_selected_action": [user.pk for user in users]},
        follow=True,
    )


def _messages(response) -> list[tuple[str, str]]:
    return [(message.level_tag, str(message)) for message in response.context["messages"]]


def _events_by(staff_user: User) -> list[tuple[str, str, int | None]]:
    return list(
        AuditEvent.objects.filter(actor_kind=ActorKind.ADMIN, actor_user=staff_user)
        .order_by("id")
        .values_list("action", "target_label", "organisation_id")
    )


# --- names as people say them ----------------------------------------------------------------


def test_the_index_names_every_model_as_people_say_it(staff_client):
    response = staff_client.get(reverse("admin:index"))

    names = {
        app["name"]: sorted(model["name"] for model in app["models"])
        for app in response.context["app_list"]
    }
    assert names == {
        "Accounts": ["Audit events", "Organisations", "Teams", "Users"],
        "SCIM provisioning": ["SCIM keys", "SCIM requests"],
        "Single Sign-on": ["SAML connections", "SSO domains", "Sign-in attempts"],
    }
    content = response.content.decode()
    for wrong in ("Scim", "Saml", "Sso domain", "Sign in attempt"):
        assert wrong not in content


@pytest.mark.parametrize(
    ("changelist", "title"),
    [
        ("admin:scim_scimkey_changelist", "Select SCIM key to view"),
        ("admin:scim_scimrequest_changelist", "Select SCIM request to view"),
        ("admin:sso_samlconnection_changelist", "Select SAML connection to change"),
        ("admin:sso_signinattempt_changelist", "Select sign-in attempt to view"),
        ("admin:sso_ssodomain_changelist", "Select SSO domain to change"),
        ("admin:accounts_auditevent_changelist", "Select audit event to view"),
    ],
)
def test_each_list_is_titled_with_its_name(staff_client, changelist, title):
    response = staff_client.get(reverse(changelist))

    assert response.status_code == 200
    assert response.context["title"] == title


# --- a person's page -------------------------------------------------------------------------


@pytest.fixture
def family(org, other_org):
    """Dana manages Lee, Sam and (deleted) Gone; Dana reports to Bo. Lee is in Sales and Ops."""
    bo = factories.user(org, "bo@acme.test", given_name="Bo", family_name="Boss")
    dana = factories.user(org, "dana@acme.test", given_name="Dana", family_name="Smith")
    lee = factories.user(org, "lee@acme.test", given_name="Lee", family_name="Learner")
    sam = factories.user(org, "sam@acme.test")
    gone = factories.user(org, "gone@acme.test")
    for report in (lee, sam, gone):
        services.user_set_manager(user=report, actor=SYSTEM, manager=dana)
    services.user_set_manager(user=dana, actor=SYSTEM, manager=bo)
    sales = factories.team(org, "Sales", members=[lee, dana])
    ops = factories.team(org, "Ops", members=[lee])
    services.user_delete(user=gone, actor=SYSTEM)
    stranger = factories.user(other_org, "dana@globex.test", given_name="Dana")
    return dict(bo=bo, dana=dana, lee=lee, sam=sam, gone=gone, sales=sales, ops=ops, x=stranger)


def test_a_persons_page_shows_their_teams_linked(staff_client, family):
    teams = _field(_page(staff_client, family["lee"]), "team_list")

    ops, sales = (
        reverse("admin:accounts_team_change", args=[family[t].pk]) for t in ("ops", "sales")
    )
    assert teams.strip() == f'<a href="{ops}">Ops</a>, <a href="{sales}">Sales</a>'


def test_a_persons_page_names_their_manager_with_a_link(staff_client, family):
    manager = _field(_page(staff_client, family["dana"]), "manager")

    bo_page = _url("change", family["bo"].pk)
    assert f'<a href="{bo_page}">Bo Boss (bo@acme.test)</a>' in manager


def test_a_persons_page_lists_their_reports_linked_and_marks_the_deleted_one(staff_client, family):
    reports = _field(_page(staff_client, family["dana"]), "report_list")

    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', reports)
    assert links[:3] == [
        (_url("change", family["gone"].pk), "gone@acme.test, deleted"),
        (_url("change", family["lee"].pk), "Lee Learner (lee@acme.test)"),
        (_url("change", family["sam"].pk), "sam@acme.test"),
    ]
    every = links[3][0]
    assert every == f"{_url('changelist')}?reports_of={family['dana'].pk}"
    listed = staff_client.get(every).context["cl"].result_list
    assert set(listed) == {family["lee"], family["sam"], family["gone"]}


def test_someone_without_reports_or_teams_says_none(staff_client, family):
    page = _page(staff_client, family["sam"])

    assert _field(page, "report_list").strip() == "None."
    assert _field(page, "team_list").strip() == "None."


def test_many_reports_show_the_first_ones_a_count_and_a_link_to_all(staff_client, org, family):
    dana = family["dana"]
    for n in range(accounts_admin.REPORTS_SHOWN):
        report = factories.user(org, f"r{n:02}@acme.test")
        services.user_set_manager(user=report, actor=SYSTEM, manager=dana)
    total = accounts_admin.REPORTS_SHOWN + 3

    reports = _field(_page(staff_client, dana), "report_list")

    people = re.findall(r'<a href="/admin/accounts/user/\d+/change/">', reports)
    assert len(people) == accounts_admin.REPORTS_SHOWN
    every = f"{_url('changelist')}?reports_of={dana.pk}"
    assert f'The first {accounts_admin.REPORTS_SHOWN} of {total}: <a href="{every}">' in reports
    assert f"all {total} in the list of users</a>" in reports
    response = staff_client.get(every)
    assert response.context["cl"].result_count == total


def _page_queries(client: Client, user: User) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(_url("change", user.pk)).status_code == 200
    return len(queries)


def test_a_persons_page_costs_the_same_whatever_their_number_of_reports(staff_client, org, family):
    dana = family["dana"]
    before = _page_queries(staff_client, dana)

    for n in range(accounts_admin.REPORTS_SHOWN + 5):
        report = factories.user(org, f"more{n:02}@acme.test")
        services.user_set_manager(user=report, actor=SYSTEM, manager=dana)

    assert _page_queries(staff_client, dana) == before + 1  # and the count of all of them


def test_a_persons_page_links_to_the_audit_events_about_and_by_them(
    staff_client, staff_user, family
):
    lee = family["lee"]
    services.user_update(user=lee, actor=Actor.admin(staff_user), title="Analyst")
    events = reverse("admin:accounts_auditevent_changelist")

    trail = _field(_page(staff_client, lee), "audit_trail")
    about = AuditEvent.objects.filter(target_type="user", target_id=str(lee.public_id))
    assert f'<a href="{events}?about={lee.pk}">{about.count()} events about them</a>' in trail
    assert f'<a href="{events}?by={lee.pk}">0 events done by them</a>' in trail

    response = staff_client.get(events, {"about": lee.pk})
    assert set(response.context["cl"].result_list) == set(about)
    assert {e.action for e in about} >= {"user.create", "user.set_manager", "user.update"}
    assert "Lee Learner (lee@acme.test)" in response.content.decode()  # the filter says whom

    staff_trail = _field(_page(staff_client, staff_user), "audit_trail")
    assert f'<a href="{events}?by={staff_user.pk}">1 event done by them</a>' in staff_trail
    response = staff_client.get(events, {"by": staff_user.pk})
    assert [e.action for e in response.context["cl"].result_list] == ["user.update"]


@pytest.mark.parametrize("value", ["abc", "999999", "-1", "1 OR 1=1", "²", "9" * 30, ""])
@pytest.mark.parametrize(
    ("changelist", "parameter"),
    [
        ("admin:accounts_user_changelist", "reports_of"),
        ("admin:accounts_auditevent_changelist", "about"),
        ("admin:accounts_auditevent_changelist", "by"),
    ],
)
def test_a_person_filter_that_names_nobody_shows_nothing(
    staff_client, family, changelist, parameter, value
):
    response = staff_client.get(reverse(changelist), {parameter: value})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


def test_the_audit_filters_of_one_person_show_nothing_of_another(staff_client, family):
    events = reverse("admin:accounts_auditevent_changelist")
    stranger = family["x"]

    shown = staff_client.get(events, {"about": stranger.pk}).context["cl"].result_list

    assert {e.target_id for e in shown} == {str(stranger.public_id)}
    assert {e.organisation_id for e in shown} == {stranger.organisation_id}


# --- tombstones and support staff ------------------------------------------------------------


@pytest.mark.parametrize("object_id", ["²", "9" * 30, "abc"])
def test_a_persons_page_for_an_id_that_names_nobody_is_not_a_crash(staff_client, object_id):
    response = staff_client.get(f"/admin/accounts/user/{object_id}/change/")

    assert response.status_code == 302  # Django's "doesn't exist. Perhaps it was deleted?"
    assert response["Location"] == reverse("admin:index")


def test_a_deleted_persons_page_says_so_at_once(staff_client, family):
    gone = family["gone"]
    response = staff_client.get(_url("change", gone.pk))

    assert response.context["subtitle"] == "gone@acme.test (deleted)"
    assert "<h2>gone@acme.test (deleted)</h2>" in response.content.decode()
    status = _field(response, "status")
    assert f"<strong>Deleted on {gone.deleted_at:%d %b %Y %H:%M} UTC.</strong>" in status
    assert "Restore selected deleted users" in status
    # Their manager is kept (a restore brings it back), and said to be hidden meanwhile.
    assert "Dana Smith (dana@acme.test)" in _field(response, "manager")


def test_a_deleted_managers_reports_are_shown_as_kept_for_a_restore(staff_client, family):
    services.user_delete(user=family["dana"], actor=SYSTEM)

    page = _page(staff_client, family["dana"])

    assert "they show no manager while dana@acme.test is deleted" in _field(page, "report_list")
    assert "the teams do not show them while deleted" in _field(page, "team_list")
    assert "Dana Smith (dana@acme.test), deleted" in _field(
        _page(staff_client, family["lee"]), "manager"
    )


def test_an_inactive_person_is_shown_as_deactivated(staff_client, family):
    services.user_deactivate(user=family["sam"], actor=SYSTEM)

    status = _field(_page(staff_client, family["sam"]), "status")

    assert "<strong>Deactivated on" in status
    assert "Reactivate selected users" in status


def test_support_staff_are_shown_as_staff_not_as_learners_of_no_organisation(
    staff_client, staff_user, family
):
    response = staff_client.get(_url("changelist"))

    assert staff_user in response.context["cl"].result_list
    rows = [row.split("</tr>")[0] for row in response.content.decode().split("<tr")]
    [row] = [row for row in rows if ">support</a>" in row]
    assert '<td class="field-role_shown">Support staff</td>' in row
    assert "Learner" not in row

    page = staff_client.get(_url("change", staff_user.pk))
    form = page.context["adminform"].form
    assert not {"role", "manager", "organisation", "external_id"} & set(form.fields)
    assert _field(page, "role_shown").strip() == "Support staff"
    assert "Learner" not in page.content.decode()
    assert "signs in to this admin only" in _field(page, "status")


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("support_staff", {"support"}),
        (Role.LEARNER, {"lee@acme.test", "sam@acme.test", "gone@acme.test", "dana@globex.test"}),
    ],
)
def test_the_role_filter_puts_support_staff_apart(staff_client, family, role, expected):
    services.user_set_role(user=family["dana"], actor=SYSTEM, role=Role.MANAGER)
    services.user_set_role(user=family["bo"], actor=SYSTEM, role=Role.ADMIN)

    response = staff_client.get(_url("changelist"), {"role": role})

    assert {user.username for user in response.context["cl"].result_list} == expected
    assert "Support staff" in response.content.decode()  # the filter's own choice


def test_the_manager_lookup_lists_only_live_people_of_the_same_organisation(staff_client, family):
    page = staff_client.get(_url("change", family["lee"].pk))
    lookup = re.search(r'<a href="([^"]+)"[^>]*id="lookup_id_manager"', page.content.decode())
    assert lookup is not None
    url = html.unescape(lookup.group(1))
    assert parse_qs(urlsplit(url).query) == {
        "_to_field": ["id"],
        "organisation__id__exact": [str(family["lee"].organisation_id)],
        "deleted": ["no"],
    }

    popup = staff_client.get(f"{url}&_popup=1")

    assert popup.status_code == 200
    assert {u.username for u in popup.context["cl"].result_list} == {
        "bo@acme.test",
        "dana@acme.test",
        "lee@acme.test",
        "sam@acme.test",
    }


def test_a_new_persons_manager_lookup_is_not_narrowed(staff_client, org):
    page = staff_client.get(_url("add"))

    assert page.status_code == 200
    assert 'id="lookup_id_manager"' in page.content.decode()
    assert "organisation__id__exact" not in page.content.decode()


# --- actions ---------------------------------------------------------------------------------


def test_end_sessions_signs_the_person_out_of_every_browser(staff_client, staff_user, org, learner):
    laptop, phone = Client(), Client()
    for browser in (laptop, phone):
        sign_in(browser, "acme", learner.username, factories.PASSWORD)
        assert_signed_in_as(browser, learner)
    keys = [browser.cookies[settings.SESSION_COOKIE_NAME].value for browser in (laptop, phone)]
    updated_at = User.objects.get(pk=learner.pk).updated_at

    response = _act(staff_client, "end_sessions", [learner])

    assert _messages(response) == [
        ("success", "Signed out 1 of 1 selected user everywhere."),
        ("success", "lee@acme.test (acme): signed out everywhere."),
    ]
    # As written: Django's own template would capitalise the userName ("Lee@acme.test").
    assert '<li class="success">lee@acme.test (acme): signed out everywhere.</li>' in (
        response.content.decode()
    )
    for browser in (laptop, phone):
        assert_signed_out_everywhere(browser)
    assert not Session.objects.filter(session_key__in=keys).exists()
    [event] = AuditEvent.objects.filter(action="user.end_sessions")
    assert (event.actor_kind, event.actor_user, event.organisation) == (
        ActorKind.ADMIN,
        staff_user,
        org,
    )
    assert event.target_id == str(learner.public_id)
    learner.refresh_from_db()
    assert learner.updated_at == updated_at  # nothing SCIM shows changed
    assert learner.is_active
    # They may sign in again at once.
    again = Client()
    sign_in(again, "acme", learner.username, factories.PASSWORD)
    assert_signed_in_as(again, learner)


def test_end_sessions_leaves_everyone_else_signed_in(staff_client, org, learner, primary_admin):
    other = Client()
    sign_in(other, "acme", primary_admin.username, factories.PASSWORD)

    _act(staff_client, "end_sessions", [learner])

    assert_signed_in_as(other, primary_admin)
    staff_client.get(reverse("admin:index"))  # the staff member's own session goes on
    assert staff_client.get(reverse("admin:index")).status_code == 200


def test_end_sessions_refuses_your_own_and_skips_who_has_none(
    staff_client, staff_user, org, learner
):
    idle = factories.user(org, "idle@acme.test")
    services.user_deactivate(user=idle, actor=SYSTEM)
    gone = factories.user(org, "gone@acme.test")
    services.user_delete(user=gone, actor=SYSTEM)
    revoked = {u.pk: u.sessions_revoked_at for u in User.objects.all()}

    response = _act(staff_client, "end_sessions", [staff_user, idle, gone])

    assert _messages(response) == [
        ("warning", "Signed out 0 of 3 selected users everywhere."),
        ("info", "gone@acme.test (acme): is deleted; their sessions ended then."),
        ("info", "idle@acme.test (acme): is inactive; their sessions ended when deactivated."),
        (
            "error",
            "support (support staff): you cannot end your own sessions here; sign out instead.",
        ),
    ]
    assert {u.pk: u.sessions_revoked_at for u in User.objects.all()} == revoked
    assert _events_by(staff_user) == []
    assert staff_client.get(reverse("admin:index")).status_code == 200


def test_actions_on_people_of_several_organisations_change_each_in_its_own(
    staff_client, staff_user, org, other_org, learner
):
    cam = factories.user(other_org, "cam@globex.test")
    ann = factories.user(other_org, "ann@globex.test")

    response = _act(staff_client, "deactivate_users", [learner, cam, ann])

    assert _messages(response) == [
        ("success", "Deactivated 3 of 3 selected users."),
        ("success", "ann@globex.test (globex): deactivated."),
        ("success", "cam@globex.test (globex): deactivated."),
        ("success", "lee@acme.test (acme): deactivated."),
    ]
    assert not User.objects.filter(pk__in=[learner.pk, cam.pk, ann.pk], is_active=True).exists()
    assert _events_by(staff_user) == [
        ("user.deactivate", "ann@globex.test", other_org.pk),
        ("user.deactivate", "cam@globex.test", other_org.pk),
        ("user.deactivate", "lee@acme.test", org.pk),
    ]

    response = _act(staff_client, "reactivate_users", [learner, cam])
    assert _messages(response)[0] == ("success", "Reactivated 2 of 2 selected users.")
    response = _act(staff_client, "make_primary_admin", [learner, cam, ann])
    assert _messages(response)[:2] == [
        ("warning", "Made 2 of 3 selected users primary admin."),
        (
            "error",
            "ann@globex.test (globex): User 'ann@globex.test' is inactive; reactivate them first.",
        ),
    ]
    roles = dict(User.objects.filter(organisation__isnull=False).values_list("username", "role"))
    assert roles == {
        "lee@acme.test": Role.PRIMARY_ADMIN,
        "cam@globex.test": Role.PRIMARY_ADMIN,
        "ann@globex.test": Role.LEARNER,
    }
    promoted = AuditEvent.objects.filter(action="user.set_role", actor_user=staff_user)
    assert set(promoted.values_list("target_label", "organisation_id")) == {
        ("lee@acme.test", org.pk),
        ("cam@globex.test", other_org.pk),
    }


@pytest.mark.parametrize(
    ("action", "level", "outcome"),
    [
        ("deactivate_users", "info", "is deleted, so already inactive."),
        (
            "reactivate_users",
            "error",
            "User 'gone@acme.test' is deleted; restore (revive) them first. "
            "Use “Restore selected deleted users” instead.",
        ),
        ("end_sessions", "info", "is deleted; their sessions ended then."),
        (
            "make_primary_admin",
            "error",
            "User 'gone@acme.test' is deleted; restore (revive) them first.",
        ),
    ],
)
def test_an_action_on_a_deleted_person_changes_nothing(
    staff_client, staff_user, org, action, level, outcome
):
    gone = factories.user(org, "gone@acme.test")
    services.user_delete(user=gone, actor=SYSTEM)
    before = User.objects.filter(pk=gone.pk).values().get()

    response = _act(staff_client, action, [gone])

    assert _messages(response)[1] == (level, f"gone@acme.test (acme): {outcome}")
    assert _messages(response)[0][1].startswith(
        ("Deactivated 0 of 1", "Reactivated 0 of 1", "Signed out 0 of 1", "Made 0 of 1")
    )
    assert User.objects.filter(pk=gone.pk).values().get() == before
    assert _events_by(staff_user) == []


@pytest.fixture
def not_superuser(db) -> User:
    """A staff account that is not a superuser: possible in the database, though no command of
    ours makes one. Per-model permissions are not used (OrganisationBackend grants none, even
    when a row says otherwise), so such an account may do nothing in the admin."""
    staff = factories.staff("helper")
    User.objects.filter(pk=staff.pk).update(is_superuser=False)
    staff.refresh_from_db()
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    return staff


@pytest.mark.parametrize(
    "action",
    ["deactivate_users", "reactivate_users", "restore_users", "end_sessions", "make_primary_admin"],
)
def test_staff_who_are_not_superusers_cannot_run_an_action(client, not_superuser, learner, action):
    client.force_login(not_superuser)
    assert client.get(_url("changelist")).status_code == 403
    before = User.objects.filter(pk=learner.pk).values().get()

    response = client.post(_url("changelist"), {"action": action, "_selected_action": [learner.pk]})

    assert response.status_code == 403
    assert User.objects.filter(pk=learner.pk).values().get() == before
    assert not AuditEvent.objects.filter(actor_user=not_superuser).exists()


@pytest.mark.parametrize(
    "action",
    ["deactivate_users", "reactivate_users", "restore_users", "end_sessions", "make_primary_admin"],
)
def test_every_action_asks_for_the_right_to_change_people(action):
    # Django offers and runs an action only for those with these permissions (belt and braces:
    # today only superusers have any, see above).
    assert getattr(accounts_admin.UserAdmin, action).allowed_permissions == ["change"]


def test_a_primary_admin_cannot_run_an_action_or_sign_in_to_the_admin(
    client, org, primary_admin, learner
):
    client.force_login(primary_admin)
    response = client.post(
        _url("changelist"), {"action": "deactivate_users", "_selected_action": [learner.pk]}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    learner.refresh_from_db()
    assert learner.is_active

    fresh = Client()
    response = fresh.post(
        reverse("admin:login"),
        {"username": primary_admin.username, "password": factories.PASSWORD},
    )
    assert response.status_code == 200  # the form again, refused
    assert fresh.get(reverse("admin:index")).status_code == 302
    assert not AuditEvent.objects.filter(actor_user=primary_admin).exists()


# --- the service -----------------------------------------------------------------------------


def test_user_end_sessions_revokes_audits_and_skips_the_inactive(org, learner, staff_user):
    actor = Actor.admin(staff_user)
    before = learner.get_session_auth_hash()

    services.user_end_sessions(user=learner, actor=actor)

    assert learner.get_session_auth_hash() != before
    stored = User.objects.get(pk=learner.pk)
    assert stored.sessions_revoked_at == learner.sessions_revoked_at is not None
    [event] = AuditEvent.objects.filter(action="user.end_sessions")
    assert event.changes == {"sessions_revoked_at": [None, stored.sessions_revoked_at.isoformat()]}

    services.user_deactivate(user=learner, actor=SYSTEM)
    revoked = User.objects.get(pk=learner.pk).sessions_revoked_at
    services.user_end_sessions(user=learner, actor=actor)
    assert User.objects.get(pk=learner.pk).sessions_revoked_at == revoked
    assert AuditEvent.objects.filter(action="user.end_sessions").count() == 1


def test_user_end_sessions_decides_on_the_row_as_stored(org, learner, staff_user):
    stale = User.objects.get(pk=learner.pk)  # read before SCIM deactivates them
    services.user_deactivate(user=learner, actor=SYSTEM)

    services.user_end_sessions(user=stale, actor=Actor.admin(staff_user))

    assert not AuditEvent.objects.filter(action="user.end_sessions").exists()
    assert not User.objects.get(pk=learner.pk).is_active
