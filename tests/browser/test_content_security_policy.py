"""The Content-Security-Policy in a real browser: the violation check of conftest.py does catch
what the policy blocks, and the support admin (Django's own pages and scripts: action bar,
autocomplete, related-object lookups, date hierarchy) works under it, "Make primary admin"
included. The journeys cover our own pages the same way."""

import re
import time
from typing import Any

from playwright.sync_api import Page, expect

from accounts import services
from accounts.audit import Actor
from accounts.models import AuditEvent, Role, User
from tests import factories


def _wait_for_problem(page: Page, problems: Any, text: str) -> str:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [item for item in problems.items if text in item]
        if found:
            return found[0]
        page.wait_for_timeout(50)  # lets Playwright deliver the page's report
    raise AssertionError(f"no problem mentioning {text!r}: {problems.items}")


def test_an_injected_inline_handler_is_blocked_and_fails_the_test(
    page: Page, problems: Any, live_server: Any
) -> None:
    page.goto(f"{live_server.url}/sign-in/")
    # What an HTML injection would add: markup with an inline event handler.
    page.evaluate(
        """document.body.insertAdjacentHTML(
            "beforeend", '<img src="data:," onload="window.injected = true">')"""
    )

    violation = _wait_for_problem(page, problems, "Content-Security-Policy violation")

    assert "script-src-attr" in violation
    assert page.evaluate("window.injected") is None  # the handler never ran
    problems.items.clear()  # expected here (the report and Chromium's console error)


def test_support_admin_works_under_the_policy(page: Page, live_server: Any, shot: Any) -> None:
    base = live_server.url
    factories.staff()
    acme = factories.organisation("acme")
    boss = factories.user(acme, "boss@acme.test", role=Role.PRIMARY_ADMIN)
    lee = factories.user(acme, "lee@acme.test", given_name="Lee")
    factories.team(acme, "Sales", members=[boss])
    services.user_deactivate(user=boss, actor=Actor.scim_key("abc123"))  # the IdP: boss left

    # Django's admin pages name no icon, so the browser asks for /favicon.ico, which we lack.
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page.goto(f"{base}/admin/")
    page.get_by_label("Username").fill("support")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()

    # The organisation says it has nobody to manage it.
    page.get_by_role("link", name="Organisations").click()
    page.get_by_role("link", name="None", exact=True).click()  # the primary admin filter
    page.get_by_role("link", name=re.compile(r"^Organisation \d+$")).click()
    expect(
        page.get_by_text("None: nobody can manage this organisation's settings.")
    ).to_be_visible()
    shot("organisation-without-admin")

    # Its people, through the link on that page; promote Lee with the action.
    page.get_by_role("link", name="its people").click()
    page.get_by_role("row", name=re.compile("lee@acme.test")).get_by_role("checkbox").check()
    page.get_by_label("Action:").select_option(label="Make primary admin")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_text("lee@acme.test (acme): is now a primary admin.")).to_be_visible()
    lee.refresh_from_db()
    assert lee.is_primary_admin
    assert AuditEvent.objects.filter(action="user.set_role", target_id=str(lee.public_id)).exists()

    # A person's page, with the related-object lookup for the manager.
    page.get_by_role("link", name="lee@acme.test").click()
    expect(page.get_by_role("heading", name="Change user")).to_be_visible()
    with page.expect_popup() as popup:
        page.locator("#lookup_id_manager").click()
    popup.value.get_by_role("link", name="boss@acme.test").click()
    expect(page.locator("#id_manager")).to_have_value(str(boss.pk))
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()
    assert User.objects.get(pk=lee.pk).manager == boss

    # A team's page, with the members' autocomplete (select2, loaded over XHR).
    page.goto(f"{base}/admin/accounts/team/")
    page.get_by_role("link", name="Sales").click()
    page.locator(".select2-search__field").click()
    # The first page of results loads as the box opens; typing before it arrives would abort it.
    expect(page.get_by_role("option", name=re.compile("lee@acme.test"))).to_be_visible()
    page.locator(".select2-search__field").fill("lee")
    page.get_by_role("option", name=re.compile("lee@acme.test")).click()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()

    # The audit trail with its date hierarchy and filters.
    page.goto(f"{base}/admin/accounts/auditevent/")
    expect(page.get_by_role("link", name="user.set_role").first).to_be_visible()
    shot("audit-trail")
