"""Settings → Single Sign-on → Okta / Entra ID: the SCIM tab, the SCIM request log on the Activity
tab (``?log=scim``) and the SCIM state on the providers overview. Primary admins only; always the
admin's own organisation. (The provider's home, SAML tab and sign-in log: tests/sso.)"""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertTemplateUsed

from accounts import services
from accounts.models import ActorKind, AuditEvent, Organisation, Role
from scim import keys, request_log
from scim.models import Outcome, ScimKey, ScimRequest
from tests import factories
from tests.scim.conftest import scim_client_for

SYSTEM = factories.SYSTEM
SCIM_PROVIDERS = ["okta", "entra"]
KEY_INPUT = re.compile(r'id="secret-key"[^>]*\svalue="([^"]+)"')


# The provider's home and the Activity tab belong to every provider (console.urls).
CONSOLE = {"provider", "activity"}
SCIM_LOG = {"log": "scim"}


def url(name: str, provider: str = "okta") -> str:
    namespace = "console" if name in CONSOLE else "scim_settings"
    return reverse(f"{namespace}:{name}", kwargs={"provider": provider})


def scim_log(**query: object) -> dict[str, object]:
    """The query of the Activity tab's SCIM request log."""
    return {**SCIM_LOG, **query}


@pytest.fixture
def admin_client(client, primary_admin):
    client.force_login(primary_admin)
    return client


def shown_key(response) -> str:
    """The Secret Key as the page shows it, in the read-only input beside its copy button."""
    found = KEY_INPUT.findall(response.content.decode())
    assert len(found) == 1, "the new key is shown exactly once"
    return str(found[0])


def generate_key(client, provider: str = "okta") -> str:
    response = client.post(url("key-generate", provider), {"confirm": "yes"}, follow=True)
    assert response.status_code == 200
    return shown_key(response)


def owner(key: str) -> Organisation:
    record = keys.verify(key)
    assert record is not None
    return record.organisation


def log(organisation, minutes_ago: float = 0, **fields) -> ScimRequest:
    """A row of the SCIM request log, as the API writes it."""
    values = {
        "method": "GET",
        "path": f"/scim/v2/{organisation.public_id}/Users?startIndex=1&count=2",
        "status": 200,
        "outcome": Outcome.SUCCEEDED,
        "duration_ms": 12,
        "client": "Okta",
    }
    values.update(fields)
    return ScimRequest.objects.create(
        organisation=organisation,
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
        **values,
    )


# --- addresses -------------------------------------------------------------------------------


def test_tabs_live_below_the_provider_settings_path():
    assert url("provider") == "/settings/sso/okta/"
    assert url("scim") == "/settings/sso/okta/scim/"
    assert url("activity", "entra") == "/settings/sso/entra/activity/"


@pytest.mark.parametrize("provider", ["google", "saml", "unknown"])
def test_providers_without_scim_have_no_scim_pages(admin_client, provider):
    assert admin_client.get(f"/settings/sso/{provider}/scim/").status_code == 404
    assert admin_client.post(f"/settings/sso/{provider}/scim/key/").status_code == 404
    with pytest.raises(NoReverseMatch):
        url("scim", provider)


# --- the SCIM tab ----------------------------------------------------------------------------


@pytest.mark.parametrize(("provider", "name"), [("okta", "Okta"), ("entra", "Microsoft Entra ID")])
def test_scim_tab_shows_the_tenant_url_the_switch_and_the_tabs(
    admin_client, org, provider, name, settings
):
    response = admin_client.get(url("scim", provider))

    assert response.status_code == 200
    assertTemplateUsed(response, "settings/provider.html")
    assertTemplateUsed(response, "settings/base.html")
    tenant_url = f"{settings.PUBLIC_BASE_URL}/scim/v2/{org.public_id}"
    assertContains(response, f'id="tenant-url" class="copy-value" value="{tenant_url}"')
    assertContains(response, '<label for="tenant-url">Tenant URL</label>')
    assertContains(response, f"<h1>{name}</h1>")
    saml_tab = reverse("sso_settings:saml", args=[provider])
    assertContains(response, f'href="{saml_tab}">SAML</a>')
    assertContains(response, f'href="{url("scim", provider)}" aria-current="page">SCIM</a>')
    assertContains(response, f'href="{url("activity", provider)}">Activity</a>')
    assertContains(response, 'role="switch" id="scim-enabled" name="scim_enabled"')
    assertContains(response, '<label for="scim-enabled">Enable SCIM</label>')
    assertContains(response, ">Update</button>")
    assertContains(response, ">Generate Key</button>")
    assertContains(response, "No key yet.")
    assertNotContains(response, "Revoke key")
    assertContains(response, "js/copy.js")
    assertContains(response, 'aria-live="polite"')
    assert "no-store" in response["Cache-Control"]


def test_okta_steps_use_the_words_of_oktas_screens(admin_client):
    response = admin_client.get(url("scim", "okta"))

    for words in [
        "SCIM connector base URL",
        "Unique identifier field for users",
        "<code>userName</code>",
        "Import New Users and Profile Updates, Push New Users, Push Profile Updates, Push Groups",
        "Authentication Mode",
        "HTTP Header",
        "Test Connector Configuration",
        "SCIM 2.0 Test App (OAuth Bearer Token)",
        "OAuth Bearer Token",
        "Test API Credentials",
        "Create Users",
        "Update User Attributes",
        "Deactivate Users",
        "Manager value",
        "Manager display name",
    ]:
        assertContains(response, words)
    assertNotContains(response, "Secret Token")


def test_entra_steps_use_the_words_of_entras_screens(admin_client):
    response = admin_client.get(url("scim", "entra"))

    for words in [
        "Provisioning Mode",
        "Automatic",
        "<dt>Tenant URL</dt>",
        "<dt>Secret Token</dt>",
        "Test Connection",
        "<code>userName</code> ← <code>userPrincipalName</code>",
        "manager",
    ]:
        assertContains(response, words)
    assertNotContains(response, "SCIM connector base URL")


def test_primary_admin_turns_scim_on_and_the_audit_trail_names_them(
    admin_client, org, primary_admin
):
    response = admin_client.post(url("scim-enabled"), {"scim_enabled": "on"})

    assert response.status_code == 302
    assert response.url == url("scim")
    org.refresh_from_db()
    assert org.scim_enabled
    event = AuditEvent.objects.get(organisation=org, action="organisation.update")
    assert (event.actor_kind, event.actor_user) == (ActorKind.ADMIN, primary_admin)
    assert event.changes == {"scim_enabled": [False, True]}
    page = admin_client.get(response.url)
    assertContains(page, "SCIM is on")
    assertContains(
        page, 'name="scim_enabled" value="on" aria-describedby="scim-enabled-help" checked'
    )


def test_turning_scim_off_asks_for_confirmation_first(admin_client, org, primary_admin):
    services.organisation_update(organisation=org, actor=SYSTEM, scim_enabled=True)

    asked = admin_client.post(url("scim-enabled"), {})

    assert asked.status_code == 200
    assertTemplateUsed(asked, "settings/confirm.html")
    assertContains(asked, "I understand Okta will stop provisioning")
    assertContains(asked, "Nothing already provisioned is lost")
    assertContains(asked, '<input type="hidden" name="confirm" value="yes">')
    assertContains(asked, f'action="{url("scim-enabled")}"')
    org.refresh_from_db()
    assert org.scim_enabled

    confirmed = admin_client.post(url("scim-enabled"), {"confirm": "yes"})

    assert confirmed.status_code == 302
    org.refresh_from_db()
    assert not org.scim_enabled
    event = AuditEvent.objects.filter(action="organisation.update", actor_user=primary_admin).get()
    assert event.changes == {"scim_enabled": [True, False]}


def test_entra_confirmation_names_entra(admin_client, org):
    services.organisation_update(organisation=org, actor=SYSTEM, scim_enabled=True)

    asked = admin_client.post(url("scim-enabled", "entra"), {})

    assertContains(asked, "I understand Microsoft Entra ID will stop provisioning")


def test_turning_scim_off_stops_the_key_at_once_and_keeps_everyone(admin_client, org):
    admin_client.post(url("scim-enabled"), {"scim_enabled": "on"})
    key = generate_key(admin_client)
    person = factories.user(org, "kept@acme.test")
    team = factories.team(org, "Kept team", members=[person])
    api = Client()
    auth = {"Authorization": f"Bearer {key}"}
    users_url = f"/scim/v2/{org.public_id}/Users?startIndex=1&count=2"
    assert api.get(users_url, headers=auth).status_code == 200

    admin_client.post(url("scim-enabled"), {"confirm": "yes"})

    refused = api.get(users_url, headers=auth)
    assert refused.status_code in (401, 403)
    assert "turned off" in refused.json()["detail"]
    person.refresh_from_db()
    assert person.is_active
    assert list(team.members.all()) == [person]
    assert keys.verify(key) is not None  # the key itself stays; SCIM on again revives it


def test_generate_key_shows_the_key_once_beside_the_tenant_url(admin_client, org, primary_admin):
    response = admin_client.post(url("key-generate"), follow=True)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = shown_key(response)
    assert response.content.decode().count(key) == 1
    record = keys.verify(key)
    assert record is not None
    assert (record.organisation, record.created_by) == (org, primary_admin)
    assertContains(response, "this is the only time it is shown")
    assertContains(response, 'data-copy="secret-key" hidden>Copy')
    assertContains(response, 'data-copy="tenant-url" hidden>Copy')
    assertContains(response, f"<code>{record.prefix}…</code>")
    event = AuditEvent.objects.get(action="scim.key_issue")
    assert (event.actor_kind, event.actor_user) == (ActorKind.ADMIN, primary_admin)


def test_the_key_is_stored_nowhere_but_as_its_digest(admin_client, org):
    response = admin_client.post(url("key-generate"), follow=True)
    key = shown_key(response)

    stored = ScimKey.objects.get(organisation=org)
    assert stored.digest != key
    assert key not in stored.digest
    assert stored.prefix == key[:8]
    # Shown, so taken out of the session: it waited there only for this one GET.
    assert key not in str(dict(admin_client.session.items()))
    assert all(key not in target for target, _ in response.redirect_chain)
    assert key not in str(response.cookies)
    assert not list(response.context["messages"])
    assert not any(key in str(changes) for changes in AuditEvent.objects.values_list("changes"))


def test_later_visits_show_the_prefix_creator_and_never_used_but_not_the_key(admin_client):
    key = generate_key(admin_client)

    response = admin_client.get(url("scim"))

    assertNotContains(response, key)
    assertNotContains(response, 'id="secret-key"')
    assertContains(response, f"<code>{key[:8]}…</code>")
    assertContains(response, "by Ada Admin (admin@acme.test)")
    assertContains(response, "<dt>Last used</dt><dd>never</dd>")
    assertContains(response, ">Revoke key</button>")


def test_the_last_use_of_the_key_is_shown(admin_client, org):
    admin_client.post(url("scim-enabled"), {"scim_enabled": "on"})
    key = generate_key(admin_client)
    users = f"/scim/v2/{org.public_id}/Users"
    assert Client().get(users, headers={"Authorization": f"Bearer {key}"}).status_code == 200
    record = ScimKey.objects.get(prefix=key[:8])
    assert record.last_used_at is not None

    response = admin_client.get(url("scim"))

    assertNotContains(response, "<dt>Last used</dt><dd>never</dd>")
    assertContains(
        response, f'<dt>Last used</dt><dd><time datetime="{record.last_used_at.isoformat()}'
    )


def test_a_key_made_from_the_command_line_shows_support_as_its_creator(admin_client, org):
    keys.issue(organisation=org, actor=SYSTEM, created_by=None)

    assertContains(admin_client.get(url("scim")), "by auzlearn support")


def test_a_key_while_scim_is_off_is_flagged_as_refused(admin_client):
    generate_key(admin_client)

    assertContains(admin_client.get(url("scim")), "SCIM is off, so Okta")


def test_generating_again_asks_first_and_the_old_key_keeps_working_for_the_overlap(
    admin_client, org, settings
):
    # What happens next (the old key stops at the new key's first use, or when the overlap
    # ends) is in tests/scim/test_key_rotation.py.
    settings.SCIM_KEY_OVERLAP_HOURS = 24
    old = generate_key(admin_client)

    asked = admin_client.post(url("key-generate"), follow=True)

    assert asked.status_code == 200
    assertTemplateUsed(asked, "settings/confirm.html")
    assertContains(asked, "Generate a new Secret Key?")
    assertContains(asked, f"Key {old[:8]}… keeps working until Okta first uses the new key")
    assertContains(asked, "at the latest (24 hours)")
    assertNotContains(asked, 'id="secret-key"')
    assert ScimKey.objects.filter(organisation=org).count() == 1
    assert keys.verify(old) is not None

    answer = admin_client.post(url("key-generate"), {"confirm": "yes"}, follow=True)
    new = shown_key(answer)

    assert new != old
    assert keys.verify(old) is not None
    assert keys.verify(new) is not None
    assertContains(answer, "<h3>Old key, still working</h3>")
    assertContains(answer, ">Stop the old key now</button>")
    assertContains(answer, ">Revoke both keys</button>")


def test_revoking_asks_first_then_the_key_stops_working(admin_client, org, primary_admin):
    key = generate_key(admin_client)

    asked = admin_client.post(url("key-revoke"))

    assert asked.status_code == 200
    assertContains(asked, "Revoke the Secret Key?")
    assert keys.verify(key) is not None

    done = admin_client.post(url("key-revoke"), {"confirm": "yes"}, follow=True)

    assert keys.verify(key) is None
    assertContains(done, f"Key {key[:8]}… is revoked and no longer works.")
    assertContains(done, "No key yet.")
    event = AuditEvent.objects.get(action="scim.key_revoke")
    assert event.actor_user == primary_admin


def test_revoking_without_a_key_says_there_is_none(admin_client):
    response = admin_client.post(url("key-revoke"), {"confirm": "yes"}, follow=True)

    assertContains(response, "There is no key to revoke.")
    assert not AuditEvent.objects.filter(action="scim.key_revoke").exists()


@pytest.mark.parametrize(
    "name", ["scim-enabled", "key-generate", "key-revoke", "key-stop-previous"]
)
def test_forms_refuse_get(admin_client, name):
    assert admin_client.get(url(name)).status_code == 405


@pytest.mark.parametrize(
    "name", ["scim-enabled", "key-generate", "key-revoke", "key-stop-previous"]
)
def test_every_form_needs_the_csrf_token(org, primary_admin, name):
    keys.issue(organisation=org, actor=SYSTEM, created_by=None)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(primary_admin)
    before = list(ScimKey.objects.values())

    response = browser.post(url(name), {"scim_enabled": "on", "confirm": "yes"})

    assert response.status_code == 403
    org.refresh_from_db()
    assert not org.scim_enabled
    assert list(ScimKey.objects.values()) == before


def test_the_forms_work_with_the_token_the_page_gives(org, primary_admin):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(primary_admin)
    page = browser.get(url("scim"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token is not None

    response = browser.post(
        url("scim-enabled"), {"scim_enabled": "on", "csrfmiddlewaretoken": token.group(1)}
    )

    assert response.status_code == 302
    org.refresh_from_db()
    assert org.scim_enabled


# --- the notice for the last active primary admin --------------------------------------------

PRIMARY_ADMIN_NOTICE = 'id="primary-admin-notice"'


def test_the_only_primary_admin_is_told_scim_could_leave_the_organisation_without_one(
    admin_client,
):
    response = admin_client.get(url("scim"))

    assertContains(response, "You are the only active primary admin of Organisation")
    assertContains(response, "has no active primary admin and nobody can open these settings")
    assertContains(response, "auzlearn support staff can then promote someone to primary admin")
    assertNotContains(response, "Deactivated primary admins")


def test_no_notice_while_another_primary_admin_is_active(admin_client, org, other_org):
    factories.user(org, "second@acme.test", role=Role.PRIMARY_ADMIN)

    assertNotContains(admin_client.get(url("scim")), PRIMARY_ADMIN_NOTICE)


def test_the_notice_names_the_primary_admins_scim_deactivated(admin_client, org, other_org):
    okta = scim_client_for(org)
    boss = factories.user(
        org, "bea@acme.test", role=Role.PRIMARY_ADMIN, given_name="Bea", family_name="Boss"
    )
    gone = factories.user(org, "gus@acme.test", role=Role.PRIMARY_ADMIN)
    factories.user(other_org, "admin@globex.test", role=Role.PRIMARY_ADMIN)  # not acme's
    factories.user(org, "ann@acme.test", role=Role.ADMIN)  # not a primary admin
    assert PRIMARY_ADMIN_NOTICE not in admin_client.get(url("scim")).content.decode()

    deactivate = {"Operations": [{"op": "replace", "value": {"active": False}}]}
    assert okta.patch(f"Users/{boss.public_id}", deactivate).status_code == 200
    assert okta.delete(f"Users/{gone.public_id}").status_code == 204

    response = admin_client.get(url("scim"))

    assertContains(response, "You are the only active primary admin")
    assertContains(
        response,
        "Deactivated primary admins: Bea Boss (bea@acme.test), gus@acme.test "
        "(gus@acme.test, deleted).",
    )
    assertNotContains(response, "admin@globex.test")
    assertNotContains(response, "ann@acme.test")


# --- who may open the tabs -------------------------------------------------------------------

PAGES = ["provider", "scim", "activity"]
FORMS = ["scim-enabled", "key-generate", "key-revoke", "key-stop-previous"]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.LEARNER])
def test_other_roles_are_refused_everywhere(client, org, role):
    person = factories.user(org, f"{role}@acme.test", role=role)
    client.force_login(person)

    for name in PAGES:
        assert client.get(url(name)).status_code == 403
    for name in FORMS:
        assert client.post(url(name), {"scim_enabled": "on", "confirm": "yes"}).status_code == 403
    org.refresh_from_db()
    assert not org.scim_enabled
    assert not ScimKey.objects.exists()


def test_support_staff_are_refused(client, org, staff_user):
    client.force_login(staff_user)

    assert client.get(url("scim")).status_code == 403
    assert client.post(url("key-generate"), {"confirm": "yes"}, follow=True).status_code == 403
    assert not ScimKey.objects.exists()


@pytest.mark.parametrize("name", PAGES + FORMS)
def test_anonymous_visitors_are_sent_to_sign_in(client, org, name):
    response = client.get(url(name)) if name in PAGES else client.post(url(name))

    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={url(name)}"
    assert not ScimKey.objects.exists()


def test_another_organisations_admin_works_on_their_own_organisation_only(
    client, org, other_org, admin_client
):
    acme_key = generate_key(admin_client)
    log(org, path="/scim/v2/acme-only/Users", resource_label="acme-person@acme.test")
    globex_admin = factories.user(other_org, "admin@globex.test", role=Role.PRIMARY_ADMIN)
    globex = Client()
    globex.force_login(globex_admin)

    page = globex.get(url("scim"))
    activity = globex.get(url("activity"), SCIM_LOG)
    globex_key = generate_key(globex)
    globex.post(url("scim-enabled"), {"scim_enabled": "on"})

    assertNotContains(page, acme_key[:8])
    assertNotContains(page, org.public_id)
    assertContains(page, other_org.public_id)
    assertNotContains(activity, "acme-person@acme.test")
    assert owner(acme_key) == org
    assert owner(globex_key) == other_org
    org.refresh_from_db()
    assert not org.scim_enabled


# --- the Activity tab ------------------------------------------------------------------------


def test_activity_shows_this_organisations_requests_newest_first(admin_client, org, other_org):
    log(
        org,
        30,
        method="POST",
        path=f"/scim/v2/{org.public_id}/Users",
        status=201,
        resource_type="User",
        resource_label="first@acme.test",
    )
    log(
        org,
        20,
        method="PATCH",
        path=f"/scim/v2/{org.public_id}/Groups/g1",
        status=204,
        resource_type="Group",
        resource_label="Sales",
    )
    log(
        org,
        10,
        method="PUT",
        path=f"/scim/v2/{org.public_id}/Users/u1",
        status=200,
        resource_type="User",
        resource_label="third@acme.test",
        duration_ms=87,
    )
    log(other_org, 5, resource_label="stranger@globex.test")

    response = admin_client.get(url("activity"), SCIM_LOG)

    assert response.status_code == 200
    assertContains(response, f'href="{url("activity")}" aria-current="page">Activity</a>')
    assertContains(
        response, f'href="{url("activity")}?log=scim" aria-current="page">SCIM requests</a>'
    )
    html = response.content.decode()
    order = [html.index(label) for label in ["third@acme.test", "Sales", "first@acme.test"]]
    assert order == sorted(order)
    assert "stranger@globex.test" not in html
    assertContains(response, "<code>PUT /Users/u1</code>")  # relative to the Tenant URL
    assertContains(response, "User third@acme.test")
    assertContains(response, "Team Sales")
    assertContains(response, "87 ms")
    assertContains(response, "201 Succeeded")
    assertContains(response, "3 requests.")


def test_activity_explains_failures_in_plain_words_and_keeps_the_summary_folded(admin_client, org):
    log(
        org,
        method="POST",
        status=409,
        outcome=Outcome.FAILED,
        resource_label="dup@acme.test",
        summary={"userName": "dup@acme.test", "password": "(not recorded)"},
        explanation="Okta tried to create user dup@acme.test, but: the userName is taken.",
    )
    log(org, 5, explanation="left over from a retry")  # a success shows no explanation

    response = admin_client.get(url("activity"), SCIM_LOG)

    assertContains(response, "409 Failed")
    assertContains(
        response,
        '<p class="sentence">Okta tried to create user dup@acme.test, but: '
        "the userName is taken.</p>",
    )
    assertNotContains(response, "left over from a retry")
    assertContains(response, "<details><summary>The request</summary>")
    assertContains(response, "<pre>{")
    assertContains(response, "&quot;userName&quot;: &quot;dup@acme.test&quot;")


@pytest.mark.parametrize(
    ("outcome", "shown", "hidden"),
    [
        ("succeeded", "good@acme.test", "bad@acme.test"),
        ("failed", "bad@acme.test", "good@acme.test"),
    ],
)
def test_activity_filters_by_outcome(admin_client, org, outcome, shown, hidden):
    log(org, 2, resource_label="good@acme.test")
    log(org, 1, status=400, outcome=Outcome.FAILED, resource_label="bad@acme.test")

    response = admin_client.get(url("activity"), scim_log(outcome=outcome))

    assertContains(response, shown)
    assertNotContains(response, hidden)
    assertContains(response, f'?log=scim&amp;outcome={outcome}" aria-current="page">')


def test_activity_with_an_unknown_outcome_shows_everything(admin_client, org):
    log(org, 2, resource_label="good@acme.test")
    log(org, 1, status=400, outcome=Outcome.FAILED, resource_label="bad@acme.test")

    response = admin_client.get(url("activity"), scim_log(outcome="bogus"))

    assertContains(response, "good@acme.test")
    assertContains(response, "bad@acme.test")
    assertContains(response, f'href="{url("activity")}?log=scim" aria-current="page">All</a>')


def test_activity_says_when_there_is_nothing_yet(admin_client, org):
    assertContains(admin_client.get(url("activity"), SCIM_LOG), "No SCIM requests yet.")
    assertContains(
        admin_client.get(url("activity"), scim_log(outcome="failed")), "No failed requests."
    )


def _lookups(organisation: Organisation, count: int, *, failed: bool) -> None:
    """``count`` GETs of person-000, person-001, … a minute apart, the first the newest."""
    ScimRequest.objects.bulk_create(
        ScimRequest(
            organisation=organisation,
            created_at=timezone.now() - timedelta(minutes=n),
            method="GET",
            path=f"/scim/v2/{organisation.public_id}/Users/{n}",
            status=404 if failed else 200,
            outcome=Outcome.FAILED if failed else Outcome.SUCCEEDED,
            duration_ms=1,
            resource_label=f"person-{n:03d}",
        )
        for n in range(count)
    )


def test_activity_is_paginated_fifty_to_a_page_keeping_the_filter(admin_client, org):
    _lookups(org, 120, failed=True)

    first = admin_client.get(url("activity"), scim_log(outcome="failed"))
    last = admin_client.get(url("activity"), scim_log(outcome="failed", page=3))
    beyond = admin_client.get(url("activity"), scim_log(outcome="failed", page=99))

    assert [row.entry.resource_label for row in first.context["rows"]] == [
        f"person-{n:03d}" for n in range(50)
    ]
    assertContains(first, "Page 1 of 3")
    assertContains(first, 'href="?log=scim&amp;outcome=failed&amp;page=2" rel="next">Older</a>')
    assertNotContains(first, "Newer")
    assert len(last.context["rows"]) == 20
    assertContains(last, 'href="?log=scim&amp;outcome=failed&amp;page=2" rel="prev">Newer</a>')
    assert beyond.context["page"].number == 3


def test_activity_counts_and_pages_only_the_newest_entries_of_a_long_log(
    admin_client, org, monkeypatch
):
    monkeypatch.setattr(request_log, "MAX_BROWSED", 120)
    _lookups(org, 130, failed=False)

    with CaptureQueriesContext(connection) as first_queries:
        first = admin_client.get(url("activity"), SCIM_LOG)
    # Read now: the next request empties the connection's log of queries.
    counts = [q["sql"] for q in first_queries if "COUNT(" in q["sql"]]
    last = admin_client.get(url("activity"), scim_log(page=99))

    assertContains(first, "More than 120 requests: the newest 120 are shown here")
    assertContains(first, "Page 1 of 3")
    assert len(counts) == 1 and "LIMIT 121" in counts[0]  # not every entry counted,
    assert "ORDER BY" not in counts[0]  # and in no order: any index that has them will do
    assert last.context["page"].number == 3
    assert [row.entry.resource_label for row in last.context["rows"]] == [
        f"person-{n:03d}" for n in range(100, 120)
    ]  # the newest 120, not the 10 older ones
    few = admin_client.get(url("activity"), scim_log(outcome="failed"))
    assertNotContains(few, "More than")


def test_activity_takes_the_same_number_of_queries_for_5_or_60_rows(
    admin_client, org, django_assert_max_num_queries
):
    for n in range(5):
        log(org, n, summary={"userName": f"p{n}"})
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url("activity"), SCIM_LOG).status_code == 200
    assert len(few) <= 5

    for n in range(5, 60):
        log(org, n, status=400, outcome=Outcome.FAILED, explanation="no", summary={"n": n})
    with django_assert_max_num_queries(len(few)):
        response = admin_client.get(url("activity"), SCIM_LOG)
    assert len(response.context["rows"]) == 50


# --- the providers overview ------------------------------------------------------------------


def _cards(response) -> dict[str, str]:
    html = response.content.decode()
    html = html[: html.index('id="scim-summary"')]  # the cards come before SCIM's own section
    cards = html.split('<li class="provider-card">')[1:]
    names = [re.findall(r"<h2>(.*?)</h2>", card)[0] for card in cards]
    return dict(zip(names, cards, strict=True))


def test_overview_offers_set_up_on_every_card_and_shows_scim_once(admin_client, org):
    response = admin_client.get(reverse("console:overview"))
    cards = _cards(response)

    for name, slug in [
        ("Okta", "okta"),
        ("Microsoft Entra ID", "entra"),
        ("Google Workspace", "google"),
        ("Other SAML 2.0", "saml"),
    ]:
        assert "Not configured" in cards[name]
        assert f'href="{url("provider", slug)}">Set up<' in cards[name]
        assert _says_nothing_of_scim(cards[name])
    summary = _scim_summary(response)
    assert "SCIM off" in summary
    assert "None yet" in summary
    assert response.content.decode().count("SCIM off") == 1


def test_overview_shows_scim_on_once_with_the_client_of_the_last_request(
    admin_client, org, other_org
):
    services.organisation_update(organisation=org, actor=SYSTEM, scim_enabled=True)
    log(org, 60, client="Microsoft Entra ID")
    last = log(org, 3, method="POST", status=409, outcome=Outcome.FAILED, client="Okta")
    log(other_org, 1, status=500, outcome=Outcome.FAILED, client="Microsoft Entra ID")

    response = admin_client.get(reverse("console:overview"))
    cards, summary = _cards(response), _scim_summary(response)

    assert response.content.decode().count("SCIM on") == 1
    assert "SCIM on" in summary
    assert f'<time datetime="{last.created_at.isoformat()}">' in summary
    assert "Failed (409) · from Okta" in summary
    assert "(500)" not in summary
    assert f'href="{url("scim")}"' in summary  # Okta's SCIM tab, the client that sent it
    # Only Okta provisions: Entra's card says nothing of SCIM (issue 14).
    assert "Sent the last SCIM request" in cards["Okta"]
    assert ">Manage<" in cards["Okta"]
    assert _says_nothing_of_scim(cards["Microsoft Entra ID"])
    assert ">Set up<" in cards["Microsoft Entra ID"]


def test_overview_links_entra_when_entra_sent_the_last_request(admin_client, org):
    log(org, 1, client="Microsoft Entra ID")

    response = admin_client.get(reverse("console:overview"))

    assert f'href="{url("scim", "entra")}"' in _scim_summary(response)
    assert "Sent the last SCIM request" in _cards(response)["Microsoft Entra ID"]
    assert _says_nothing_of_scim(_cards(response)["Okta"])


def _says_nothing_of_scim(card: str) -> bool:
    return not any(text in card for text in ("SCIM on", "SCIM off", "SCIM request"))


def _scim_summary(response) -> str:
    html = response.content.decode()
    return html[html.index('id="scim-summary"') :]


def test_overview_takes_the_same_number_of_queries_with_many_requests(
    admin_client, org, django_assert_max_num_queries
):
    log(org)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(reverse("console:overview"))
    for n in range(30):
        log(org, n)

    with django_assert_max_num_queries(len(few)):
        response = admin_client.get(reverse("console:overview"))
    assert response.status_code == 200
