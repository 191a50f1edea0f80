"""SCIM rate limits and requests without a valid key, through the real views.

Per organisation for requests with a valid key, per client address for the rest; counted in the
shared cache (here the test process's memory, and a real Redis where one is reachable); off when
the cache is down. A request without a valid key stores nothing it sent: it is only counted,
for the Activity tab. Time moves through ``scim.limits.clock`` only.
"""

import logging
import socket
import uuid
from typing import Any

import pytest
import redis
from django.apps import apps
from django.conf import settings as django_settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from accounts.models import AuditEvent, Role, User
from scim import keys, limits
from scim.models import RefusedRequestCount, ScimRequest
from tests import factories
from tests.scim.conftest import ScimClient, assert_scim_error

MARKER = "caller-supplied-7f3a"
# A database of its own on the developer's Redis; only this test's own keys are written and
# deleted (never FLUSHDB: others may share the server).
REDIS_URL = "redis://127.0.0.1:6379/15"
# 20 s into a window: 40 s until it frees up.
WINDOW_START = 1_800_000_000 - 1_800_000_000 % 60


@pytest.fixture
def at(monkeypatch):
    """Set the limiter's clock: ``at(20)`` is 20 s into a window."""

    def set_clock(seconds: float) -> None:
        monkeypatch.setattr(limits, "clock", lambda: WINDOW_START + seconds)

    set_clock(20)
    return set_clock


def users(client: ScimClient) -> Any:
    return client.get("Users?startIndex=1&count=2")


def unauthenticated(org, address: str = "10.0.0.1", key: str = "wrong-key-wrong-key", **extra):
    """A request to the organisation's Tenant URL without a valid key, from ``address``."""
    return Client().get(
        f"/scim/v2/{org.public_id}/Users",
        headers={"Authorization": f"Bearer {key}"},
        REMOTE_ADDR=address,
        **extra,
    )


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- per organisation -------------------------------------------------------------------------


def test_an_organisation_over_its_limit_gets_429_with_retry_after_and_a_scim_error(
    scim, other_scim, org, settings, at
):
    settings.SCIM_RATE_LIMIT_PER_MINUTE = 3
    for _ in range(3):
        assert users(scim).status_code == 200

    refused = users(scim)

    document = assert_scim_error(refused, 429)
    assert refused["Retry-After"] == "40"
    assert "3 requests a minute" in document["detail"]
    assert "Retry after 40 seconds" in document["detail"]
    assert users(other_scim).status_code == 200  # globex counts on its own
    assert_scim_error(scim.post("Users", {"userName": "late@acme.test"}), 429)
    assert not User.objects.filter(username="late@acme.test").exists()
    # The organisation's own key: the refusal is in its request log, explained.
    entry = ScimRequest.objects.filter(organisation=org, status=429).first()
    assert entry is not None and entry.key_prefix == scim.key[:8]
    assert "Too many SCIM requests" in entry.explanation


def test_the_window_frees_up_when_retry_after_says(scim, settings, at):
    settings.SCIM_RATE_LIMIT_PER_MINUTE = 2
    users(scim), users(scim)
    at(59)
    assert users(scim)["Retry-After"] == "1"

    at(60)

    assert users(scim).status_code == 200


def test_every_app_server_counts_against_the_same_limit(scim, org, settings, at):
    settings.SCIM_RATE_LIMIT_PER_MINUTE = 3
    server_a = scim
    server_b = ScimClient(Client(), org, scim.key)

    assert users(server_a).status_code == 200
    assert users(server_b).status_code == 200
    assert users(server_a).status_code == 200

    assert_scim_error(users(server_b), 429)
    assert_scim_error(users(server_a), 429)


@pytest.mark.skipif(not redis_reachable(), reason="no Redis on 127.0.0.1:6379")
def test_every_app_server_counts_in_redis(scim, org, settings, at):
    settings.SCIM_RATE_LIMIT_PER_MINUTE = 3
    prefix = f"test-{uuid.uuid4().hex}"
    redis_cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    with override_settings(CACHES={"default": {**redis_cache, "KEY_PREFIX": prefix}}):
        server_a, server_b = scim, ScimClient(Client(), org, scim.key)
        assert users(server_a).status_code == 200
        assert users(server_b).status_code == 200
        assert users(server_a).status_code == 200
        refused = users(server_b)

    # The count is in Redis, where a new connection of another process finds it.
    elsewhere = RedisCache(REDIS_URL, {"KEY_PREFIX": prefix})
    counter = f"scim-rate:organisation:{org.public_id}:{WINDOW_START // 60}"
    stored = elsewhere.get(counter)
    raw = redis.Redis.from_url(REDIS_URL)
    expiry = raw.ttl(elsewhere.make_and_validate_key(counter))
    assert raw.keys(f"{prefix}:*") == [elsewhere.make_and_validate_key(counter).encode()]
    elsewhere.delete(counter)
    assert_scim_error(refused, 429)
    assert refused["Retry-After"] == "40"
    assert stored == 4
    assert 40 < expiry <= 40 + limits.EXPIRY_SLACK_SECONDS


def test_the_limit_costs_no_sql_statement(scim, monkeypatch):
    users(scim)  # the key's first use is behind us
    with CaptureQueriesContext(connection) as limited:
        assert users(scim).status_code == 200
    monkeypatch.setattr(limits, "check_organisation", lambda organisation: None)
    with CaptureQueriesContext(connection) as unlimited:
        assert users(scim).status_code == 200

    assert len(limited) == len(unlimited)


# --- without a valid key, per address ---------------------------------------------------------


def test_requests_without_a_valid_key_are_limited_per_address(scim, org, settings, at):
    settings.SCIM_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE = 2
    assert_scim_error(unauthenticated(org), 401)
    assert_scim_error(unauthenticated(org, key=""), 401)

    refused = unauthenticated(org)

    document = assert_scim_error(refused, 429)
    assert refused["Retry-After"] == "40"
    assert "without a valid Secret Key" in document["detail"]
    assert "10.0.0.1" not in document["detail"]
    assert_scim_error(unauthenticated(org, "10.0.0.2"), 401)  # another address
    # A valid key is never limited by its address (Okta's addresses serve many customers).
    valid = Client().get(
        f"{scim.base}/Users",
        headers={"Authorization": f"Bearer {scim.key}"},
        REMOTE_ADDR="10.0.0.1",
    )
    assert valid.status_code == 200


@pytest.mark.parametrize(
    "kind", ["no key", "wrong key", "revoked key", "another organisation's key"]
)
def test_every_kind_of_refused_key_counts_against_the_address(
    scim, other_scim, org, settings, at, kind
):
    settings.SCIM_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE = 1
    key = {
        "no key": "",
        "wrong key": "wrong-key-wrong-key",
        "revoked key": scim.key,
        "another organisation's key": other_scim.key,
    }[kind]
    if kind == "revoked key":
        keys.revoke(organisation=org, actor=factories.SYSTEM)

    assert_scim_error(unauthenticated(org, key=key), 401)
    assert_scim_error(unauthenticated(org, key=key), 429)


def test_ipv6_clients_are_counted_per_64(org, settings, at):
    settings.SCIM_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE = 1
    assert_scim_error(unauthenticated(org, "2001:db8::1"), 401)

    assert_scim_error(unauthenticated(org, "2001:db8::2"), 429)  # the same /64
    assert_scim_error(unauthenticated(org, "2001:db8:0:1::1"), 401)  # another /64


def test_behind_a_trusted_proxy_each_client_address_counts(org, settings, at):
    settings.SCIM_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE = 1
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.9.9.9"

    first = unauthenticated(org, proxy, HTTP_X_FORWARDED_FOR="198.51.100.1")
    second = unauthenticated(org, proxy, HTTP_X_FORWARDED_FOR="198.51.100.2")
    again = unauthenticated(org, proxy, HTTP_X_FORWARDED_FOR="198.51.100.1")

    assert (first.status_code, second.status_code, again.status_code) == (401, 401, 429)


# --- the cache is down --------------------------------------------------------------------------


def test_with_the_cache_down_provisioning_goes_on_and_the_outage_is_logged_once(
    scim, org, settings, caplog, monkeypatch
):
    monkeypatch.setattr(limits._cache, "down", False)
    settings.SCIM_RATE_LIMIT_PER_MINUTE = 1
    settings.SCIM_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE = 1
    down = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
    }
    caplog.set_level(logging.WARNING, logger="scim.limits")

    with override_settings(CACHES={"default": down}):
        answers = [users(scim).status_code for _ in range(3)]
        created = scim.post("Users", {"userName": "during-outage@acme.test"})
        refused = [unauthenticated(org).status_code for _ in range(2)]

    assert answers == [200, 200, 200]
    assert created.status_code == 201
    assert refused == [401, 401]  # no key is still no key; only the limits are off
    outage = [r for r in caplog.records if r.name == "scim.limits"]
    assert len(outage) == 1
    assert "SCIM rate limits are off" in outage[0].getMessage()
    assert outage[0].exc_info is not None
    assert outage[0].exc_info[0].__name__ == "ConnectionError"

    caplog.clear()
    assert users(scim).status_code == 200  # the test's own cache answers again

    [back] = [r for r in caplog.records if r.name == "scim.limits"]
    assert "on again" in back.getMessage()


# --- nothing of a request without a valid key is stored -----------------------------------------


def _cached_keys() -> list[object]:
    """Every key the default cache holds: the process's memory (the tests' default), or this
    test's keys in Redis when CACHE_URL names one."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        location = django_settings.CACHES["default"]["LOCATION"]
        return list(redis.Redis.from_url(location).scan_iter(f"{backend.key_prefix}*"))
    return list(backend._cache)  # type: ignore[attr-defined]


def _stored_text() -> str:
    """Every row of every table, as text."""
    return "\n".join(
        str(list(model._default_manager.values_list()))
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    )


@pytest.mark.parametrize(
    "kind", ["no key", "wrong key", "revoked key", "another organisation's key"]
)
def test_a_request_without_a_valid_key_stores_nothing_it_sent(scim, other_scim, org, kind):
    key = {
        "no key": None,
        "wrong key": f"Bearer {MARKER}-key",
        "revoked key": f"Bearer {scim.key}",
        "another organisation's key": f"Bearer {other_scim.key}",
    }[kind]
    if kind == "revoked key":
        keys.revoke(organisation=org, actor=factories.SYSTEM)
    audit_before = AuditEvent.objects.count()
    headers = {"User-Agent": f"Okta {MARKER}", "X-Note": MARKER}
    if key is not None:
        headers["Authorization"] = key

    response = Client().post(
        f"{scim.base}/Users/{MARKER}?filter={MARKER}",
        data=f'{{"userName": "{MARKER}@acme.test", "password": "{MARKER}"}}',
        content_type="application/scim+json",
        headers=headers,
    )

    assert_scim_error(response, 401)
    assert not ScimRequest.objects.exists()
    assert AuditEvent.objects.count() == audit_before
    assert MARKER not in _stored_text()
    assert list(RefusedRequestCount.objects.values_list("organisation", "count")) == [(org.pk, 1)]
    assert MARKER not in str(_cached_keys())


def test_a_request_naming_no_organisation_is_not_counted_anywhere(scim):
    response = Client().get("/scim/v2/00000000000000000000/Users")

    assert_scim_error(response, 401)
    assert not RefusedRequestCount.objects.exists()
    assert not ScimRequest.objects.exists()


def test_refused_requests_take_one_row_per_organisation_and_hour(scim, org, other_org, settings):
    settings.SCIM_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE = 1000
    for n in range(40):
        unauthenticated(org, f"10.0.1.{n}")
    unauthenticated(other_org)

    counts = dict(RefusedRequestCount.objects.values_list("organisation", "count"))
    assert counts == {org.pk: 40, other_org.pk: 1}


def test_requests_over_the_address_limit_are_refused_without_being_counted(org, settings, at):
    """Past the limit a request costs the key lookup only: no database write for a flood."""
    settings.SCIM_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE = 2
    for _ in range(2):
        unauthenticated(org)

    with CaptureQueriesContext(connection) as queries:
        assert_scim_error(unauthenticated(org), 429)

    assert len(queries) == 1  # the key lookup
    assert RefusedRequestCount.objects.get(organisation=org).count == 2


# --- the Activity tab ---------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, primary_admin):
    client.force_login(primary_admin)
    return client


def test_the_activity_tab_counts_refused_requests_and_shows_nothing_they_sent(
    scim, org, other_org, admin_client
):
    for _ in range(3):
        unauthenticated(org, HTTP_USER_AGENT=MARKER)
    unauthenticated(other_org)
    users(scim)  # one real request, listed as usual

    page = admin_client.get(reverse("console:activity", args=["okta"]), {"log": "scim"})

    assertContains(
        page,
        "In the last 24 hours, 3 requests to your Tenant URL were refused for carrying no valid "
        "Secret Key",
    )
    assertContains(page, "Only this count is kept, nothing such a request sends.")
    assertNotContains(page, MARKER)
    assert [row.entry.status for row in page.context["rows"]] == [200]


def test_the_activity_tab_says_nothing_of_refusals_when_there_were_none(scim, admin_client):
    users(scim)

    page = admin_client.get(reverse("console:activity", args=["okta"]), {"log": "scim"})

    assertNotContains(page, "refused for carrying no valid Secret Key")


def test_the_refusal_count_is_one_query_on_the_activity_tab(scim, org, admin_client):
    unauthenticated(org)
    activity_url = reverse("console:activity", args=["okta"])
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(activity_url, {"log": "scim"})

    refusal_queries = [q for q in queries if "scim_refusedrequestcount" in q["sql"]]
    assert len(refusal_queries) == 1


def test_only_primary_admins_see_the_count(org, client):
    unauthenticated(org)
    learner = factories.user(org, "lee@acme.test", role=Role.LEARNER)
    client.force_login(learner)

    response = client.get(reverse("console:activity", args=["okta"]), {"log": "scim"})

    assert response.status_code == 403


def test_the_limits_page_states_both_rates(client, settings):
    settings.SCIM_RATE_LIMIT_PER_MINUTE = 6000
    settings.SCIM_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE = 120

    page = client.get(reverse("scim:limits"))

    assertContains(page, "At most 6000 requests a minute per organisation")
    assertContains(page, "120 a minute per client address for requests without a valid key")
    assertContains(page, "<code>Retry-After</code>")
