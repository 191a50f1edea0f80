"""Generate Key on the SCIM tab (issue 14): Post/Redirect/Get, so that a reload shows neither the
key again nor "Generate a new Secret Key?"; the key shown once, in one box, never in a URL, a
message or a log, and in the session only between the POST and the one GET that shows it."""

import logging
import re

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from accounts.models import AuditEvent, Role
from scim import keys
from scim.models import ScimKey
from scim.settings_views import NEW_KEY_SESSION_KEY
from tests import factories

KEY_INPUT = re.compile(r'id="secret-key"[^>]*\svalue="([^"]+)"')


def url(name: str, provider: str = "okta") -> str:
    return reverse(f"scim_settings:{name}", args=[provider])


@pytest.fixture
def admin_client(client, primary_admin):
    client.force_login(primary_admin)
    return client


def keys_on(response) -> list[str]:
    return KEY_INPUT.findall(response.content.decode())


def test_generate_key_redirects_and_the_next_get_shows_the_key_once(admin_client, caplog):
    caplog.set_level(logging.DEBUG)

    posted = admin_client.post(url("key-generate"))

    assert posted.status_code == 302
    assert posted["Location"] == url("scim") + "#new-key"
    secret = admin_client.session[NEW_KEY_SESSION_KEY]["secret"]
    assert keys.verify(secret) is not None
    assert secret not in posted["Location"]

    shown = admin_client.get(posted["Location"])

    assert keys_on(shown) == [secret]
    assert "no-store" in shown["Cache-Control"]
    assertContains(shown, "this is the only time it is shown")
    assertContains(shown, "Your new Secret Key")
    assert NEW_KEY_SESSION_KEY not in admin_client.session
    assert secret not in caplog.text
    assert not any(secret in str(c) for c in AuditEvent.objects.values_list("changes"))

    again = admin_client.get(url("scim"))

    assert keys_on(again) == []
    assertNotContains(again, secret)
    assertNotContains(again, "Generate a new Secret Key?")
    assertContains(again, "<h3>Current key</h3>")
    assertContains(again, f"<code>{secret[:8]}…</code>")


def test_the_key_is_shown_in_one_box_and_nothing_else_reads_like_a_key(admin_client):
    shown = admin_client.post(url("key-generate"), follow=True)
    secret = keys_on(shown)[0]
    html = shown.content.decode()

    assert html.count('class="copy-value"') == 2  # the Tenant URL and the key, nothing more
    assert html.count(secret) == 1
    assertNotContains(shown, "<h3>Current key</h3>")
    assertNotContains(shown, "<dt>Key</dt>")
    assertNotContains(shown, "Your new key")


def test_the_key_waits_for_the_tab_of_either_provider_but_only_once(admin_client):
    admin_client.post(url("key-generate", "entra"))

    first = admin_client.get(url("scim", "okta"))
    second = admin_client.get(url("scim", "entra"))

    assert len(keys_on(first)) == 1
    assert keys_on(second) == []


def test_a_key_revoked_before_the_get_is_not_shown(admin_client, org, primary_admin):
    admin_client.post(url("key-generate"))
    keys.revoke(organisation=org, actor=factories.SYSTEM)

    assert keys_on(admin_client.get(url("scim"))) == []


def test_another_session_never_sees_the_key(admin_client, org, other_org):
    admin_client.post(url("key-generate"))
    second_admin = factories.user(org, "second@acme.test", role=Role.PRIMARY_ADMIN)
    globex_admin = factories.user(other_org, "admin@globex.test", role=Role.PRIMARY_ADMIN)

    for person in (second_admin, globex_admin):
        other = Client()
        other.force_login(person)
        assert keys_on(other.get(url("scim"))) == []
    assert len(keys_on(admin_client.get(url("scim")))) == 1


def test_a_key_left_in_the_session_for_another_organisation_is_not_shown(
    client, org, other_org, primary_admin
):
    """A session's one-shot value is read only for the organisation that made it."""
    globex_key = keys.rotate(organisation=other_org, actor=factories.SYSTEM, created_by=None)
    client.force_login(primary_admin)
    session = client.session
    session[NEW_KEY_SESSION_KEY] = {
        "organisation": other_org.pk,
        "key": globex_key.record.pk,
        "secret": globex_key.secret,
    }
    session.save()

    response = client.get(url("scim"))

    assertNotContains(response, globex_key.secret)
    assert NEW_KEY_SESSION_KEY not in client.session


def test_rotation_still_shows_both_keys_and_stops_the_old_one(admin_client, org, settings):
    settings.SCIM_KEY_OVERLAP_HOURS = 24
    first = keys_on(admin_client.post(url("key-generate"), follow=True))[0]

    asked = admin_client.post(url("key-generate"))
    assertContains(asked, "Generate a new Secret Key?")
    rotated = admin_client.post(url("key-generate"), {"confirm": "yes"})
    assert rotated.status_code == 302
    shown = admin_client.get(rotated["Location"])
    second = keys_on(shown)[0]

    assert second != first
    assertContains(shown, "<h3>Old key, still working</h3>")
    assertContains(shown, ">Stop the old key now</button>")
    assert keys.verify(first) is not None and keys.verify(second) is not None
    reload = admin_client.get(url("scim"))
    assert keys_on(reload) == []
    assertContains(reload, "<h3>Old key, still working</h3>")

    stopped = admin_client.post(url("key-stop-previous"), {"confirm": "yes"}, follow=True)

    assertContains(stopped, f"The old key {first[:8]}… is stopped")
    assert keys.verify(first) is None and keys.verify(second) is not None
    assert ScimKey.objects.filter(organisation=org, revoked_at__isnull=True).count() == 1


@pytest.mark.parametrize("role", [Role.ADMIN, Role.LEARNER])
def test_only_primary_admins_generate(client, org, role):
    client.force_login(factories.user(org, f"{role}@acme.test", role=role))

    assert client.post(url("key-generate")).status_code == 403
    assert not ScimKey.objects.exists()
    assert NEW_KEY_SESSION_KEY not in client.session
