"""The support admin (issue 14, item 4) in a real browser, under the Content-Security-Policy: a
support staff member signs in to /admin/, reads the models by the names people use, opens a
person's page (teams, manager by name and linked, reports, audit trail), picks a manager in the
related-object lookup popup (only the person's own organisation, live people), and runs each
action on the people list, seeing what it did; a learner signed in meanwhile is signed out by
"End sessions"."""

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts import services
from accounts.audit import Actor
from accounts.models import ActorKind, AuditEvent, Role, User
from tests import factories
from tests.browser import journey

pytestmark = pytest.mark.django_db(transaction=True)

SYSTEM = factories.SYSTEM


def _people() -> dict[str, Any]:
    """Acme: Bo manages Dana, who manages Lee, Sam and Gone (deleted); Lee and Dana are in
    Sales; Casey manages nobody. Globex: Cam, another Dana."""
    acme = factories.organisation("acme")
    globex = factories.organisation("globex")
    bo = factories.user(acme, "bo@acme.test", given_name="Bo", family_name="Boss")
    dana = factories.user(acme, "dana@acme.test", given_name="Dana", family_name="Smith")
    lee = factories.user(acme, "lee@acme.test", given_name="Lee", family_name="Learner")
    sam = factories.user(acme, "sam@acme.test", given_name="Sam", family_name="Seller")
    gone = factories.user(acme, "gone@acme.test", given_name="Gone", family_name="Away")
    for report in (lee, sam, gone):
        services.user_set_manager(user=report, actor=SYSTEM, manager=dana)
    services.user_set_manager(user=dana, actor=SYSTEM, manager=bo)
    factories.team(acme, "Sales", members=[lee, dana])
    services.user_delete(user=gone, actor=Actor.scim_key("abc123"))
    factories.user(acme, "casey@acme.test", given_name="Casey", family_name="Chief")
    cam = factories.user(globex, "cam@globex.test", given_name="Cam")
    factories.user(globex, "dana@globex.test", given_name="Dana", family_name="Other")
    return dict(acme=acme, bo=bo, dana=dana, lee=lee, sam=sam, gone=gone, cam=cam)


def _run_action(page: Page, usernames: list[str], action: str) -> None:
    page.goto(f"{page.url.split('/admin/')[0]}/admin/accounts/user/")
    for username in usernames:
        _row(page, username).get_by_role("checkbox").check()
    page.get_by_label("Action:").select_option(label=action)
    page.get_by_role("button", name="Go").click()


def _row(page: Page, username: str) -> Any:
    """The people list's row of this person (found by the link to their page: other rows
    may name them too, as a manager)."""
    link = page.get_by_role("link", name=username, exact=True)
    return page.locator("#result_list tbody tr", has=link)


def _message(page: Page, text: str) -> None:
    expect(page.locator("ul.messagelist li", has_text=text)).to_be_visible()


def test_support_staff_see_a_person_whole_and_act_on_people(
    page: Page, browser: Browser, live_server: Any, shot: Any, problems: Any
) -> None:
    base = live_server.url
    staff = factories.staff()
    people = _people()
    dana, lee = people["dana"], people["lee"]

    # Lee is signed in, in a browser of their own.
    lees_browser = browser.new_context(base_url=base)
    lees_page = lees_browser.new_page()
    journey.sign_in_with_password(lees_page, base, people["acme"], lee.username, factories.PASSWORD)
    expect(lees_page.get_by_role("heading", level=1)).to_have_text("Welcome, Lee")

    # Django's admin pages name no icon, so the browser asks for /favicon.ico, which we lack.
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page.goto(f"{base}/admin/")
    page.get_by_label("Username").fill("support")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()

    # The index names every model as people say it.
    for name in (
        "SCIM keys",
        "SCIM requests",
        "SAML connections",
        "Sign-in attempts",
        "SSO domains",
        "Audit events",
        "Organisations",
        "Teams",
        "Users",
    ):
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    for wrong in ("Scim keys", "Saml connections", "Sso domains"):
        expect(page.get_by_text(wrong, exact=True)).to_have_count(0)
    shot("index")

    # The people list shows support staff as staff, not as learners of no organisation.
    page.get_by_role("link", name="Users", exact=True).click()
    expect(_row(page, "support").locator("td.field-role_shown")).to_have_text("Support staff")
    page.get_by_role("link", name="Support staff", exact=True).click()  # the role filter
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    shot("people-support-staff")

    # Dana's page: teams, manager by name and linked, reports, audit trail.
    page.goto(f"{base}/admin/accounts/user/{dana.pk}/change/")
    expect(page.get_by_role("heading", name="dana@acme.test")).to_be_visible()
    teams = page.locator(".field-team_list .readonly")
    expect(teams.get_by_role("link", name="Sales")).to_be_visible()
    manager = page.locator(".field-manager")
    expect(manager.get_by_role("link", name="Bo Boss (bo@acme.test)")).to_be_visible()
    reports = page.locator(".field-report_list .readonly")
    expect(reports.get_by_role("link", name="Lee Learner (lee@acme.test)")).to_be_visible()
    expect(reports.get_by_role("link", name="Gone Away (gone@acme.test), deleted")).to_be_visible()
    shot("person-page")

    # The manager's link leads to their page; the reports' link to the list of them.
    manager.get_by_role("link", name="Bo Boss (bo@acme.test)").click()
    expect(page.get_by_role("heading", name="bo@acme.test")).to_be_visible()
    page.go_back()
    reports.get_by_role("link", name="in the list of users").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    expect(page.locator("#changelist-filter")).to_contain_text("Dana Smith (dana@acme.test)")
    page.go_back()

    # The manager lookup popup offers Acme's live people only. Sam, who reports to Dana, is
    # refused by the service (a cycle), with its message; Casey is saved through it.
    def pick_manager(username: str) -> None:
        with page.expect_popup() as popup_opened:
            page.locator("#lookup_id_manager").click()
        popup = popup_opened.value
        expect(popup.get_by_role("link", name=username)).to_be_visible()
        for elsewhere in ("dana@globex.test", "cam@globex.test", "gone@acme.test"):
            expect(popup.get_by_role("link", name=elsewhere)).to_have_count(0)
        # The click closes the popup (the admin's related-object lookup), so nothing is waited
        # for after it on that page; the choice shows in the form's field instead.
        popup.get_by_role("link", name=username).click(no_wait_after=True)
        chosen = str(User.objects.get(username=username).pk)
        expect(page.locator("#id_manager")).to_have_value(chosen)
        page.get_by_role("button", name="Save and continue editing").click()

    pick_manager("sam@acme.test")
    expect(page.locator(".field-manager .errorlist")).to_contain_text("would create a cycle")
    assert User.objects.get(pk=dana.pk).manager_id == people["bo"].pk
    shot("manager-refused")
    pick_manager("casey@acme.test")
    _message(page, "was changed successfully")
    manager = page.locator(".field-manager")
    expect(manager.get_by_role("link", name="Casey Chief (casey@acme.test)")).to_be_visible()
    assert User.objects.filter(pk=dana.pk, manager__username="casey@acme.test").exists()

    # Her audit trail, from her page: the change just made is there, by support.
    page.locator(".field-audit_trail").get_by_role("link", name=re.compile("about them")).click()
    expect(page.locator("#changelist-filter")).to_contain_text("Dana Smith (dana@acme.test)")
    set_manager = page.get_by_role("row", name=re.compile(r"support\s+user\.set_manager"))
    expect(set_manager).to_have_count(1)
    shot("audit-about-dana")

    # End sessions: Lee is signed out of their own browser.
    _run_action(page, [lee.username], "End sessions of selected users (sign them out everywhere)")
    _message(page, "Signed out 1 of 1 selected user everywhere.")
    _message(page, "lee@acme.test (acme): signed out everywhere.")
    shot("end-sessions")
    lees_page.goto(f"{base}/")
    expect(lees_page.get_by_role("heading", level=1)).to_have_text("Sign in")
    lees_browser.close()

    # Deactivate people of two organisations at once.
    _run_action(page, ["sam@acme.test", "cam@globex.test"], "Deactivate selected users")
    _message(page, "Deactivated 2 of 2 selected users.")
    _message(page, "cam@globex.test (globex): deactivated.")
    _message(page, "sam@acme.test (acme): deactivated.")
    assert not User.objects.filter(pk__in=[people["sam"].pk, people["cam"].pk], is_active=True)

    # Reactivate one of them, and a deleted person, who is refused with a way forward.
    _run_action(page, ["sam@acme.test", "gone@acme.test"], "Reactivate selected users")
    _message(page, "Reactivated 1 of 2 selected users.")
    _message(page, "Use “Restore selected deleted users” instead.")
    shot("reactivate")

    # Promote Lee; the deleted person and support staff are refused.
    _run_action(page, ["lee@acme.test", "gone@acme.test", "support"], "Make primary admin")
    _message(page, "Made 1 of 3 selected users primary admin.")
    _message(page, "lee@acme.test (acme): is now a primary admin.")
    _message(page, "'support' is support staff; roles are for people of an organisation.")
    shot("make-primary-admin")
    assert User.objects.get(pk=lee.pk).role == Role.PRIMARY_ADMIN
    assert User.objects.get(pk=people["gone"].pk).role == Role.LEARNER

    # Every change is audited with support staff as the actor.
    done = AuditEvent.objects.filter(actor_kind=ActorKind.ADMIN, actor_user=staff)
    assert sorted(done.values_list("action", "target_label")) == [
        ("user.deactivate", "cam@globex.test"),
        ("user.deactivate", "sam@acme.test"),
        ("user.end_sessions", "lee@acme.test"),
        ("user.reactivate", "sam@acme.test"),
        ("user.set_manager", "dana@acme.test"),
        ("user.set_role", "lee@acme.test"),
    ]

    # The deleted person's page says so in its heading and status.
    page.goto(f"{base}/admin/accounts/user/{people['gone'].pk}/change/")
    expect(page.get_by_role("heading", name="gone@acme.test (deleted)")).to_be_visible()
    expect(page.locator(".field-status")).to_contain_text("Deleted on")
    shot("deleted-person")
