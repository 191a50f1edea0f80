"""Key rotation without downtime: Generate Key keeps the key in use working until the new key is
first used, or SCIM_KEY_OVERLAP_HOURS at most; "Stop the old key now" and Revoke end it at once.
Through the real SCIM tab and the real API; time moves through ``scim.keys.now`` only."""

import re
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertTemplateUsed

from accounts import services
from accounts.models import ActorKind, AuditEvent
from scim import keys
from scim.models import ScimKey
from tests import factories
from tests.manage import manage, migrated_database
from tests.scim.conftest import assert_scim_error

KEY_INPUT = re.compile(r'id="secret-key"[^>]*\svalue="([^"]+)"')


def url(name: str, provider: str = "okta") -> str:
    return reverse(f"scim_settings:{name}", kwargs={"provider": provider})


class Clock:
    """What ``scim.keys.now`` answers in these tests."""

    def __init__(self) -> None:
        self.moment = timezone.now()

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr(keys, "now", moved)
    return moved


@pytest.fixture
def admin_client(client, primary_admin):
    client.force_login(primary_admin)
    return client


def generate(admin_client, provider: str = "okta") -> str:
    """Generate Key on the SCIM tab, confirmed; the key the page shows once."""
    response = admin_client.post(url("key-generate", provider), {"confirm": "yes"}, follow=True)
    assert response.status_code == 200
    found = KEY_INPUT.findall(response.content.decode())
    assert len(found) == 1
    return str(found[0])


def works(scim, key: str) -> bool:
    """Whether ``key`` is accepted on the organisation's Tenant URL (an Okta connection test)."""
    response = scim.get("Users?startIndex=1&count=2", authorization=f"Bearer {key}")
    if response.status_code == 401:
        assert_scim_error(response, 401)
        return False
    assert response.status_code == 200, response.content
    return True


def events(org, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(organisation=org, action=action).order_by("pk"))


# --- the overlap ------------------------------------------------------------------------------


def test_the_old_key_works_until_the_new_key_is_first_used_then_stops(
    scim, org, admin_client, primary_admin, clock
):
    old = scim.key
    assert works(scim, old)

    new = generate(admin_client)

    assert works(scim, old)  # Okta still has the old key: provisioning goes on
    assert works(scim, old)
    clock.advance(hours=3)
    assert works(scim, old)
    assert works(scim, new)  # the admin pasted the new key into Okta
    assert not works(scim, old)
    assert works(scim, new)
    retire = events(org, "scim.key_retire")
    assert [(e.actor_kind, e.actor_user, e.changes["prefix"]) for e in retire] == [
        (ActorKind.ADMIN, primary_admin, old[:8])
    ]
    [stop] = [e for e in events(org, "scim.key_revoke") if e.changes["prefix"] == [old[:8]]]
    assert (stop.actor_kind, stop.actor_label) == (ActorKind.SCIM, f"SCIM key {new[:8]}")
    assert stop.changes["reason"] == keys.REPLACED_BY_USE


def test_the_old_key_stops_when_the_overlap_ends_even_if_the_new_key_is_never_used(
    scim, org, admin_client, clock, settings
):
    settings.SCIM_KEY_OVERLAP_HOURS = 6
    generate(admin_client)
    old = ScimKey.objects.get(prefix=scim.key[:8])
    assert old.retires_at == clock.moment + timedelta(hours=6)
    [retire] = events(org, "scim.key_retire")
    assert retire.changes == {"prefix": old.prefix, "until": old.retires_at.isoformat()}

    clock.advance(hours=6, seconds=-1)
    assert works(scim, scim.key)
    clock.advance(seconds=1)
    assert not works(scim, scim.key)
    assert keys.verify(scim.key) is None


def test_a_new_key_tried_on_another_organisations_url_does_not_end_the_overlap(
    scim, other_scim, org, admin_client
):
    new = generate(admin_client)

    # The new key on globex's Tenant URL: refused, and not a successful first use.
    assert not works(other_scim, new)

    assert works(scim, scim.key)
    assert ScimKey.objects.get(prefix=new[:8]).last_used_at is None


def test_a_new_key_refused_because_scim_is_off_does_not_end_the_overlap(scim, org, admin_client):
    new = generate(admin_client)
    services.organisation_update(organisation=org, actor=factories.SYSTEM, scim_enabled=False)

    assert_scim_error(scim.get("Users", authorization=f"Bearer {new}"), 403)

    services.organisation_update(organisation=org, actor=factories.SYSTEM, scim_enabled=True)
    assert works(scim, scim.key)


def test_generating_twice_before_the_new_key_is_used_keeps_the_key_the_client_has(
    scim, org, admin_client, clock, settings
):
    settings.SCIM_KEY_OVERLAP_HOURS = 24
    lost = generate(admin_client)  # never pasted anywhere
    clock.advance(hours=20)

    asked = admin_client.post(url("key-generate"), follow=True)
    assertContains(asked, f"Key {scim.key[:8]}… keeps working until Okta first uses the new key")
    assertContains(asked, f"Key {lost[:8]}… (it was never used) stops working at once.")
    new = generate(admin_client)

    assert not works(scim, lost)
    clock.advance(hours=20)  # 40 hours after the first rotation: counted from the second
    assert works(scim, scim.key)
    [never_used] = [e for e in events(org, "scim.key_revoke") if e.changes["prefix"] == [lost[:8]]]
    assert never_used.changes["reason"] == keys.NEVER_USED
    assert works(scim, new)
    assert not works(scim, scim.key)


def test_generating_again_after_the_new_key_was_used_retires_that_one(scim, org, admin_client):
    second = generate(admin_client)
    assert works(scim, second)
    assert not works(scim, scim.key)

    third = generate(admin_client)

    assert works(scim, second)
    assert works(scim, third)
    assert not works(scim, second)
    assert ScimKey.objects.filter(organisation=org, revoked_at__isnull=True).count() == 1


def test_at_most_two_keys_work_and_the_database_says_so(org):
    keys.issue(organisation=org, actor=factories.SYSTEM, created_by=None)
    for _ in range(3):
        keys.rotate(organisation=org, actor=factories.SYSTEM, created_by=None)

    live = ScimKey.objects.filter(organisation=org, revoked_at__isnull=True)
    assert live.count() == 2
    assert live.filter(retires_at__isnull=True).count() == 1


# --- what the SCIM tab shows ------------------------------------------------------------------


def test_the_tab_shows_both_keys_and_when_the_old_one_stops(scim, org, admin_client, clock):
    scim.get("Users")  # the old key was in use
    new = generate(admin_client)
    old = ScimKey.objects.get(prefix=scim.key[:8])

    assert old.last_used_at is not None and old.retires_at is not None

    page = admin_client.get(url("scim"))

    assertContains(page, f"<code>{new[:8]}…</code>")
    assertContains(page, "<h3>Old key, still working</h3>")
    assertContains(page, f"<code>{old.prefix}…</code>")
    assertContains(page, "by auzlearn support")  # the old key came from the command line
    assertContains(page, "by Ada Admin (admin@acme.test)")
    assertContains(page, f'<time datetime="{old.last_used_at.isoformat()}')
    assertContains(page, "as soon as Okta uses the new key, or at")
    assertContains(page, f'<time datetime="{old.retires_at.isoformat()}')
    assertContains(page, ">Stop the old key now</button>")
    assertNotContains(page, new)  # the new key itself was shown once, on the answer to the POST

    assert works(scim, new)
    page = admin_client.get(url("scim"))
    assertNotContains(page, "Old key")
    assertNotContains(page, "Stop the old key now")
    assertContains(page, ">Revoke key</button>")


def test_the_tab_stops_showing_the_old_key_when_its_overlap_ends(scim, admin_client, clock):
    generate(admin_client)
    clock.advance(hours=25)

    page = admin_client.get(url("scim"))

    assertNotContains(page, "Old key")
    assertNotContains(page, scim.key[:8])


# --- stopping the old key now, revoking both --------------------------------------------------


def test_stop_the_old_key_now_asks_first_then_stops_only_the_old_key(
    scim, org, admin_client, primary_admin
):
    new = generate(admin_client)

    asked = admin_client.post(url("key-stop-previous"))

    assertTemplateUsed(asked, "settings/confirm.html")
    assertContains(asked, "Stop the old key now?")
    assertContains(asked, f"The old key {scim.key[:8]}… stops working at once")
    assertContains(asked, '<input type="hidden" name="confirm" value="yes">')
    assert works(scim, scim.key)

    done = admin_client.post(url("key-stop-previous"), {"confirm": "yes"}, follow=True)

    assertContains(done, f"The old key {scim.key[:8]}… is stopped and no longer works.")
    assert not works(scim, scim.key)
    assert works(scim, new)
    [stop] = [e for e in events(org, "scim.key_revoke") if e.changes["prefix"] == [scim.key[:8]]]
    assert (stop.actor_kind, stop.actor_user) == (ActorKind.ADMIN, primary_admin)
    assert stop.changes["reason"] == keys.STOPPED_EARLY


def test_stop_the_old_key_now_without_an_old_key_says_so(scim, org, admin_client):
    response = admin_client.post(url("key-stop-previous"), {"confirm": "yes"}, follow=True)

    assertContains(response, "There is no old key that still works.")
    assert works(scim, scim.key)
    assert not events(org, "scim.key_revoke")


def test_stop_the_old_key_now_needs_the_csrf_token_and_a_post(scim, org, primary_admin):
    keys.rotate(organisation=org, actor=factories.SYSTEM, created_by=None)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(primary_admin)

    assert browser.get(url("key-stop-previous")).status_code == 405
    assert browser.post(url("key-stop-previous"), {"confirm": "yes"}).status_code == 403
    assert works(scim, scim.key)


def test_stop_the_old_key_now_is_for_primary_admins_of_the_organisation_only(
    scim, org, other_org, client
):
    keys.rotate(organisation=org, actor=factories.SYSTEM, created_by=None)
    globex_admin = factories.user(other_org, "admin@globex.test", role="primary_admin")
    client.force_login(globex_admin)

    client.post(url("key-stop-previous"), {"confirm": "yes"})

    assert works(scim, scim.key)  # globex's admin acted on globex, which has no old key


def test_revoke_stops_both_keys_at_once(scim, org, admin_client, primary_admin):
    new = generate(admin_client)

    asked = admin_client.post(url("key-revoke"))
    assertContains(asked, f"Both keys, {new[:8]}… and {scim.key[:8]}…, stop working at once")
    done = admin_client.post(url("key-revoke"), {"confirm": "yes"}, follow=True)

    assert not works(scim, scim.key)
    assert not works(scim, new)
    assertContains(done, "are revoked and no longer work.")
    assertContains(done, "No key yet.")
    [revoke] = events(org, "scim.key_revoke")
    assert sorted(revoke.changes["prefix"]) == sorted([scim.key[:8], new[:8]])
    assert revoke.actor_user == primary_admin


def test_revocation_is_seen_by_every_app_server_at_once(scim, org, admin_client):
    """No server keeps key validity in memory: each request reads it."""
    server_a, server_b = Client(), Client()
    auth = {"Authorization": f"Bearer {scim.key}"}
    users = f"{scim.base}/Users"
    assert server_a.get(users, headers=auth).status_code == 200
    assert server_b.get(users, headers=auth).status_code == 200

    admin_client.post(url("key-revoke"), {"confirm": "yes"})

    assert server_a.get(users, headers=auth).status_code == 401
    assert server_b.get(users, headers=auth).status_code == 401


# --- the migration ----------------------------------------------------------------------------


def test_the_migration_goes_back_keeping_the_current_key(tmp_path):
    database_url = migrated_database(tmp_path)
    for command in [
        ("create_organisation", "acme", "--name", "Acme", "--admin-email", "it@acme.test"),
        ("scim_key", "acme"),
        ("scim_key", "acme", "--rotate"),  # two working keys
    ]:
        result = manage(*command, database_url=database_url)
        assert result.returncode == 0, result.stderr

    back = manage("migrate", "scim", "0001", database_url=database_url)
    assert back.returncode == 0, back.stderr
    forth = manage("migrate", "scim", database_url=database_url)
    assert forth.returncode == 0, forth.stderr
    revoked = manage("scim_key", "acme", "--revoke", database_url=database_url)
    assert revoked.stdout.count("…") == 1  # only the current key was still working
