"""Password sign-in back-off (accounts/throttle.py): too many failures for one account, or from
one client address, refuse further attempts for a growing while, whatever the password, on the
sign-in page and on the Django admin's login alike; unknown accounts are answered exactly as
known ones; support staff clear a lock with manage.py sign_in_unlock; and when the cache is down
sign-in goes on."""

import html
import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.cache import cache, caches
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.test import Client, override_settings
from django.urls import reverse

from accounts import throttle
from accounts.forms import SIGN_IN_FAILED
from accounts.models import ActorKind, AuditEvent, Role
from tests import factories
from tests.manage import manage, migrated_database

SIGN_IN_URL = reverse("accounts:login")
ADMIN_LOGIN_URL = "/admin/login/"
ME_URL = reverse("accounts:me")
ADDRESS = "198.51.100.7"
WRONG = "not-the-password"


class Clock:
    """The time the back-off reads (throttle.now); tests move it forward."""

    def __init__(self) -> None:
        self.time = 1_800_000_000.0  # on a minute boundary, so windows are easy to reason about

    def __call__(self) -> float:
        return self.time

    def advance(self, seconds: float) -> None:
        self.time += seconds


class CountingHasher(MD5PasswordHasher):
    """The test suite's hasher, counting how often a password is hashed (checking one hashes
    it too)."""

    calls = 0

    def encode(self, password: str, salt: str) -> str:
        CountingHasher.calls += 1
        return super().encode(password, salt)


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    # The back-off lives in the cache, which outlives a test's database transaction, and in
    # the process's own counters while the cache is down.
    cache.clear()
    throttle._local.clear()
    yield
    cache.clear()
    throttle._local.clear()


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(throttle, "now", clock)
    return clock


@pytest.fixture
def hashes(settings) -> type[CountingHasher]:
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.calls = 0
    return CountingHasher


def sign_in(client: Client, organisation: str, login: str, password: str, address: str = ADDRESS):
    return client.post(
        SIGN_IN_URL,
        {"organisation": organisation, "login": login, "password": password},
        REMOTE_ADDR=address,
    )


def admin_sign_in(client: Client, username: str, password: str, address: str = ADDRESS):
    return client.post(
        ADMIN_LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=address
    )


def fail(times: int, organisation: str, login: str, address: str = ADDRESS) -> None:
    for _ in range(times):
        response = sign_in(Client(), organisation, login, WRONG, address)
        assert response.status_code == 200
        assert response.context["form"].non_field_errors() == [SIGN_IN_FAILED]


def message(minutes: int) -> str:
    return f"Too many attempts. Try again in {minutes} minute{'' if minutes == 1 else 's'}."


def assert_held(response, minutes: int) -> None:
    """Refused unchecked: 429 with the plain message on the page, and nobody signed in."""
    assert response.status_code == 429
    assert response.context["form"].non_field_errors() == [message(minutes)]
    assert html.escape(message(minutes)) in response.content.decode()
    assert 60 * (minutes - 1) < int(response["Retry-After"]) <= 60 * minutes
    assert SESSION_KEY not in response.wsgi_request.session


def signed_in(client: Client) -> bool:
    return bool(client.get(ME_URL).json()["authenticated"])


def lock_outs(action: str = "user.sign_in_locked") -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- one account ------------------------------------------------------------------------------


def test_ten_failures_then_the_right_password_is_refused_with_429(client, primary_admin):
    fail(10, "acme", "admin@acme.test")

    response = sign_in(client, "acme", "admin@acme.test", factories.PASSWORD)

    assert_held(response, 1)
    assert response["Retry-After"] == "60"
    assert not signed_in(client)


def test_nine_failures_do_not_hold_the_account(client, primary_admin):
    fail(9, "acme", "admin@acme.test")

    response = sign_in(client, "acme", "admin@acme.test", factories.PASSWORD)

    assert response.status_code == 302
    assert signed_in(client)


def test_a_held_attempt_runs_no_password_hasher(client, primary_admin, hashes):
    fail(10, "acme", "admin@acme.test")
    assert hashes.calls == 10  # one hash per checked attempt

    hashes.calls = 0
    for password in (factories.PASSWORD, WRONG):
        assert sign_in(client, "acme", "admin@acme.test", password).status_code == 429

    assert hashes.calls == 0


def test_the_back_off_grows_to_the_maximum_and_waiting_it_out_lets_the_right_password_in(
    client, primary_admin, clock
):
    fail(10, "acme", "admin@acme.test")
    for minutes in (1, 2, 4, 8, 15, 15):
        assert_held(sign_in(client, "acme", "admin@acme.test", factories.PASSWORD), minutes)
        clock.advance(minutes * 60 - 1)
        assert_held(sign_in(client, "acme", "admin@acme.test", factories.PASSWORD), 1)
        clock.advance(1)
        fail(1, "acme", "admin@acme.test")  # checked again, and wrong: the next, longer one

    clock.advance(15 * 60)
    response = sign_in(client, "acme", "admin@acme.test", factories.PASSWORD)

    assert response.status_code == 302
    assert signed_in(client)


@override_settings(SIGN_IN_MAX_BACKOFF_SECONDS=300)
def test_the_maximum_back_off_is_a_setting(client, primary_admin, clock):
    fail(10, "acme", "admin@acme.test")
    for minutes in (1, 2, 4, 5, 5):
        assert_held(sign_in(client, "acme", "admin@acme.test", factories.PASSWORD), minutes)
        clock.advance(minutes * 60)
        fail(1, "acme", "admin@acme.test")


def test_a_quiet_window_after_a_lock_out_starts_the_series_over(client, primary_admin, clock):
    fail(10, "acme", "admin@acme.test")
    clock.advance(60 + 15 * 60)  # the lock-out, then a whole window without a failure

    fail(9, "acme", "admin@acme.test")  # one failure no longer locks: ten are needed again
    assert sign_in(client, "acme", "admin@acme.test", WRONG).status_code == 200

    assert_held(sign_in(client, "acme", "admin@acme.test", factories.PASSWORD), 1)


@override_settings(SIGN_IN_MAX_FAILURES=3, SIGN_IN_FAILURE_WINDOW_SECONDS=300)
def test_failures_older_than_the_window_are_forgotten(client, primary_admin, clock):
    fail(2, "acme", "admin@acme.test")
    clock.advance(300 + 20)  # the window (five minutes here) and its last bucket have passed
    fail(2, "acme", "admin@acme.test")

    assert sign_in(client, "acme", "admin@acme.test", factories.PASSWORD).status_code == 302


def test_a_successful_sign_in_clears_the_accounts_count(primary_admin):
    fail(9, "acme", "admin@acme.test")
    assert sign_in(Client(), "acme", "admin@acme.test", factories.PASSWORD).status_code == 302

    fail(9, "acme", "admin@acme.test")
    client = Client()
    assert sign_in(client, "acme", "admin@acme.test", factories.PASSWORD).status_code == 302
    assert signed_in(client)


def test_the_account_is_what_was_typed_ignoring_case(client, org, primary_admin):
    fail(5, " ACME ", "Admin@Acme.TEST")
    fail(5, "acme", "admin@acme.test")

    assert_held(sign_in(client, "Acme", "ADMIN@acme.test", factories.PASSWORD), 1)


def test_a_held_account_leaves_other_people_and_organisations_alone(
    client, org, other_org, primary_admin, learner
):
    namesake = factories.user(other_org, "admin@acme.test")
    fail(10, "acme", "admin@acme.test")

    assert sign_in(Client(), "acme", "lee@acme.test", factories.PASSWORD).status_code == 302
    assert sign_in(Client(), "globex", namesake.username, factories.PASSWORD).status_code == 302


def test_a_lock_out_is_audited_once_not_per_refused_attempt(client, org, primary_admin, clock):
    fail(10, "acme", "admin@acme.test")
    for _ in range(5):
        sign_in(client, "acme", "admin@acme.test", factories.PASSWORD)

    [event] = lock_outs()
    assert event.organisation == org
    assert event.actor_kind == ActorKind.SYSTEM
    assert event.actor_user is None
    assert event.actor_label == f"sign-in back-off, from {ADDRESS}"
    assert (event.target_type, event.target_id, event.target_label) == (
        "user",
        str(primary_admin.public_id),
        "admin@acme.test",
    )
    assert event.changes == {
        "lock_out": 1,
        "seconds": 60,
        "failures": 10,
        "address": ADDRESS,
        "login": "admin@acme.test",
    }

    clock.advance(60)
    fail(1, "acme", "admin@acme.test")

    _first, second = lock_outs()
    assert second.changes["lock_out"] == 2
    assert second.changes["seconds"] == 120


# --- no oracle: names that exist and names that do not ------------------------------------------


def transcript(organisation: str, login: str, clock: Clock) -> list[tuple[Any, ...]]:
    """What an attacker sees over thirteen guesses, the last two a minute later: statuses,
    messages, Retry-After, and how often a password was hashed."""
    seen: list[tuple[Any, ...]] = []
    for attempt in range(13):
        if attempt == 11:
            clock.advance(60)
        CountingHasher.calls = 0
        response = sign_in(Client(), organisation, login, factories.PASSWORD)
        seen.append(
            (
                response.status_code,
                response.context["form"].non_field_errors(),
                response.get("Retry-After"),
                CountingHasher.calls,
            )
        )
    return seen


@pytest.fixture
def reference_transcript(org, clock, hashes) -> list[tuple[Any, ...]]:
    """The same guesses at a real primary admin, whose password is not among them."""
    factories.user(org, "admin@acme.test", role=Role.PRIMARY_ADMIN, password="only-the-admin-knows")
    seen = transcript("acme", "admin@acme.test", clock)
    cache.clear()
    return seen


@pytest.mark.parametrize(
    ("organisation", "login"),
    [
        pytest.param("acme", "nobody@acme.test", id="unknown-person"),
        pytest.param("nosuch", "admin@nosuch.test", id="unknown-organisation"),
    ],
)
def test_an_unknown_account_is_answered_exactly_as_a_known_one(
    reference_transcript, clock, organisation, login
):
    assert transcript(organisation, login, clock) == reference_transcript
    statuses = [status for status, *_ in reference_transcript]
    assert statuses == [200] * 10 + [429, 200, 429]  # locked at ten; one more try a minute on


def test_a_lock_out_of_a_name_nobody_has_is_audited_as_typed(org):
    fail(10, "acme", "Nobody@acme.test")
    fail(10, "nosuch", "admin@nosuch.test")

    unknown_person, unknown_organisation = lock_outs()
    assert (unknown_person.organisation, unknown_person.target_type) == (org, "login")
    assert unknown_person.target_id == unknown_person.target_label == "Nobody@acme.test"
    assert (unknown_organisation.organisation, unknown_organisation.target_type) == (None, "login")
    assert unknown_organisation.target_label == "nosuch / admin@nosuch.test"


# --- one client address, many accounts ---------------------------------------------------------


def test_fifty_failures_from_one_address_across_accounts_hold_that_address(org, learner):
    for n in range(50):
        fail(1, "acme", f"guess{n}@acme.test", address="203.0.113.9")

    held = sign_in(Client(), "acme", "lee@acme.test", factories.PASSWORD, address="203.0.113.9")
    elsewhere = sign_in(Client(), "acme", "lee@acme.test", factories.PASSWORD, address=ADDRESS)

    assert_held(held, 1)
    assert elsewhere.status_code == 302
    [event] = lock_outs("address.sign_in_locked")
    assert event.organisation is None
    assert event.actor_user is None
    assert (event.target_type, event.target_id) == ("address", "203.0.113.9")
    assert event.changes == {
        "lock_out": 1,
        "seconds": 60,
        "failures": 50,
        "address": "203.0.113.9",
    }
    assert lock_outs() == []  # no account failed more than once


@override_settings(SIGN_IN_MAX_FAILURES_PER_ADDRESS=5)
def test_a_sign_in_does_not_clear_its_addresss_count(org, learner):
    for n in range(4):
        fail(1, "acme", f"guess{n}@acme.test", address="203.0.113.9")
    # An attacker who owns one account cannot reset the address's count with it.
    assert (
        sign_in(Client(), "acme", "lee@acme.test", factories.PASSWORD, "203.0.113.9").status_code
        == 302
    )
    fail(1, "acme", "guess4@acme.test", address="203.0.113.9")

    assert_held(sign_in(Client(), "acme", "lee@acme.test", factories.PASSWORD, "203.0.113.9"), 1)


@override_settings(SIGN_IN_MAX_FAILURES_PER_ADDRESS=3)
def test_an_ipv6_client_is_counted_by_its_64(org, learner):
    for n in range(1, 4):
        fail(1, "acme", f"guess{n}@acme.test", address=f"2001:db8:0:7::{n}")

    same_network = sign_in(
        Client(), "acme", "lee@acme.test", factories.PASSWORD, "2001:db8:0:7::99"
    )
    next_network = sign_in(Client(), "acme", "lee@acme.test", factories.PASSWORD, "2001:db8:0:8::1")

    assert_held(same_network, 1)
    assert next_network.status_code == 302
    [event] = lock_outs("address.sign_in_locked")
    assert event.target_id == "2001:db8:0:7::/64"
    assert event.changes["address"] == "2001:db8:0:7::3"


@override_settings(TRUSTED_PROXY_COUNT=1, SIGN_IN_MAX_FAILURES_PER_ADDRESS=3)
def test_behind_a_trusted_proxy_the_address_is_the_forwarded_client(org, learner):
    def through_proxy(client_ip: str, password: str, login: str = "lee@acme.test"):
        return Client().post(
            SIGN_IN_URL,
            {"organisation": "acme", "login": login, "password": password},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=client_ip,
        )

    for n in range(3):
        through_proxy("203.0.113.9", WRONG, login=f"guess{n}@acme.test")

    assert through_proxy("203.0.113.9", factories.PASSWORD).status_code == 429
    assert through_proxy("192.0.2.44", factories.PASSWORD).status_code == 302


# --- the Django admin's login ------------------------------------------------------------------


def test_the_admin_login_is_held_after_ten_failures(client, staff_user, hashes):
    for _ in range(10):
        response = admin_sign_in(Client(), "support", WRONG)
        assert response.status_code == 200
        assert response.context["form"].errors
    hashes.calls = 0

    response = admin_sign_in(client, "support", factories.PASSWORD)

    assert_held(response, 1)
    assert hashes.calls == 0
    assert client.get("/admin/").status_code == 302  # still signed out
    [event] = lock_outs()
    assert (event.organisation, event.target_type) == (None, "user")
    assert event.target_id == str(staff_user.public_id)


def test_the_admin_login_answers_an_unknown_staff_name_as_a_known_one(client, staff_user):
    for _ in range(10):
        assert admin_sign_in(Client(), "nosuchstaff", WRONG).status_code == 200

    assert_held(admin_sign_in(client, "nosuchstaff", factories.PASSWORD), 1)
    [event] = lock_outs()
    assert (event.organisation, event.target_type, event.target_id) == (
        None,
        "login",
        "nosuchstaff",
    )


def test_the_admin_login_still_signs_staff_in_and_clears_their_count(client, staff_user):
    for _ in range(9):
        admin_sign_in(Client(), "support", WRONG)

    response = admin_sign_in(client, "support", factories.PASSWORD)
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200

    for _ in range(9):
        admin_sign_in(Client(), "support", WRONG)
    assert admin_sign_in(Client(), "support", factories.PASSWORD).status_code == 302


def test_the_staff_account_is_not_an_organisation_account(client, org, staff_user):
    # Staff are keyed by userName alone, apart from any organisation's "support".
    fail(10, "acme", "support")

    assert admin_sign_in(client, "support", factories.PASSWORD).status_code == 302


# --- the way back in: manage.py sign_in_unlock -------------------------------------------------


def unlock(*args: str) -> str:
    out = StringIO()
    call_command("sign_in_unlock", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_unlock_lets_a_held_primary_admin_sign_in_at_once(client, org, primary_admin, clock):
    fail(10, "acme", "admin@acme.test")
    clock.advance(60)
    fail(1, "acme", "admin@acme.test")  # now held for two minutes

    out = unlock("ACME", "Admin@acme.test")

    assert out == (
        "Cleared the sign-in back-off of acme / Admin@acme.test: it was locked out for 2 minutes "
        "more, after 11 recent failed attempts. Password sign-in works again now.\n"
    )
    assert sign_in(client, "acme", "admin@acme.test", factories.PASSWORD).status_code == 302
    [event] = lock_outs("user.sign_in_unlocked")
    assert (event.organisation, event.target_type) == (org, "user")
    assert event.target_id == str(primary_admin.public_id)
    assert (event.actor_kind, event.actor_label) == (ActorKind.SYSTEM, "manage.py sign_in_unlock")
    assert event.changes == {"failures": 11, "locked_seconds": 120}


def test_unlock_starts_the_series_over(client, org, primary_admin, clock):
    fail(10, "acme", "admin@acme.test")
    unlock("acme", "admin@acme.test")

    fail(10, "acme", "admin@acme.test")

    assert_held(sign_in(client, "acme", "admin@acme.test", factories.PASSWORD), 1)


def test_unlock_of_an_account_that_is_not_held_says_so(org, primary_admin):
    out = unlock("acme", "admin@acme.test")

    assert "it was not locked out, after 0 recent failed attempts" in out
    assert len(lock_outs("user.sign_in_unlocked")) == 1


def test_unlock_says_when_the_cache_is_per_process(org):
    # The tests' cache is the locmemcache:// default, which a command cannot share with a server.
    err = StringIO()
    call_command("sign_in_unlock", "acme", "x", stdout=StringIO(), stderr=err)

    assert "per-process memory (locmemcache://)" in err.getvalue()
    assert "restart it to clear them" in err.getvalue()


def test_unlock_of_support_staff(client, staff_user):
    for _ in range(10):
        admin_sign_in(Client(), "support", WRONG)

    out = unlock("--staff", "support")

    assert out.startswith("Cleared the sign-in back-off of support staff support: it was locked")
    assert admin_sign_in(client, "support", factories.PASSWORD).status_code == 302
    [event] = lock_outs("user.sign_in_unlocked")
    assert (event.organisation, event.target_id) == (None, str(staff_user.public_id))


@override_settings(SIGN_IN_MAX_FAILURES_PER_ADDRESS=5)
def test_unlock_of_an_address(org, learner):
    for n in range(5):
        fail(1, "acme", f"guess{n}@acme.test", address="203.0.113.9")

    out = unlock("--address", "203.0.113.9")

    assert out.startswith("Cleared the sign-in back-off of address 203.0.113.9: it was locked")
    assert (
        sign_in(Client(), "acme", "lee@acme.test", factories.PASSWORD, "203.0.113.9").status_code
        == 302
    )
    [event] = lock_outs("address.sign_in_unlocked")
    assert (event.organisation, event.target_type, event.target_id) == (
        None,
        "address",
        "203.0.113.9",
    )


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("acme",),
        ("acme", "--staff", "y"),
        ("acme", "x", "--staff", "y"),
        ("--staff", "y", "--address", "1.2.3.4"),
    ],
)
def test_unlock_needs_exactly_one_account_or_address(db, args):
    with pytest.raises(CommandError, match="Say whose back-off to clear"):
        unlock(*args)


def test_unlock_of_an_unknown_organisation_exits_1_with_a_message(tmp_path):
    result = manage(
        "sign_in_unlock", "nosuch", "admin@nosuch.test", database_url=migrated_database(tmp_path)
    )

    assert result.returncode == 1
    assert "No organisation has the slug 'nosuch'." in result.stderr
    assert result.stdout == ""


# --- the cache is shared, and may be down -------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_with_the_cache_down_the_back_off_counts_in_the_process_and_says_so_once(
    client, primary_admin, caplog
):
    down = {"BACKEND": "django.core.cache.backends.redis.RedisCache"}
    down["LOCATION"] = f"redis://127.0.0.1:{_closed_port()}/0"
    caplog.set_level(logging.WARNING, logger="accounts.throttle")

    with override_settings(CACHES={"default": down}):
        response = sign_in(client, "acme", "admin@acme.test", factories.PASSWORD)
        assert response.status_code == 302  # sign-in works without the cache
        assert signed_in(client)
        fail(10, "acme", "admin@acme.test")  # SIGN_IN_MAX_FAILURES
        held = sign_in(Client(), "acme", "admin@acme.test", factories.PASSWORD)
        assert held.status_code == 429  # and the back-off still holds the account
        assert "Too many attempts. Try again in 1 minute." in held.content.decode()
    assert _throttle_messages(caplog) == [
        "Sign-in back-off counts in this process only: the cache (CACHE_URL) cannot be "
        "reached. Each app server process applies the limits on its own until the cache "
        "answers again."
    ]
    assert len(lock_outs()) == 1  # audited like any lock-out

    caplog.clear()
    # The cache is back: it is used again, and the lock-out this process started still holds.
    again = sign_in(Client(), "acme", "admin@acme.test", factories.PASSWORD)
    assert again.status_code == 429
    assert _throttle_messages(caplog) == [
        "Sign-in back-off counts in the shared cache again: the cache answers."
    ]


def _throttle_messages(caplog: Any) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "accounts.throttle"]


def _redis_is_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def shared_cache() -> Iterator[str]:
    """Redis when it runs here (each thread below gets its own connection, as each app server
    would), else the in-process cache; keys under a prefix of this test's own."""
    prefix = f"test-{uuid.uuid4().hex}"
    if not _redis_is_up():
        yield "locmem"
        return
    config = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/0",
        "KEY_PREFIX": prefix,
    }
    with override_settings(CACHES={"default": config}):
        yield "redis"
        # Not cache.clear(): that would empty a Redis others use too.
        client = caches["default"]._cache.get_client(write=True)  # type: ignore[attr-defined]
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


@override_settings(SIGN_IN_MAX_FAILURES=1000, SIGN_IN_MAX_FAILURES_PER_ADDRESS=1000)
def test_servers_counting_at_once_lose_no_failure(shared_cache):
    attempt = throttle.Attempt(organisation="acme", login="admin@acme.test", address=ADDRESS)
    barrier = threading.Barrier(8)

    def server() -> None:
        barrier.wait()
        for _ in range(25):
            throttle.failed(attempt)

    threads = [threading.Thread(target=server) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert throttle.clear_account("acme", "admin@acme.test").failures == 200
    assert throttle.clear_address(ADDRESS).failures == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the audit rows are written from threads; SQLite serialises them. CI runs PostgreSQL",
)
def test_servers_seeing_one_lock_out_start_at_once_record_it_once(shared_cache):
    factories.organisation("acme")
    attempt = throttle.Attempt(organisation="acme", login="admin@acme.test", address=ADDRESS)
    for _ in range(9):
        throttle.failed(attempt)
    barrier = threading.Barrier(32)
    started: list[throttle.LockOut] = []

    def server() -> None:
        try:
            barrier.wait()
            started.extend(throttle.failed(attempt))  # the tenth failure, 32 times at once
        finally:
            connections.close_all()

    threads = [threading.Thread(target=server) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [lock_out.number for lock_out in started] == [1]
    [event] = lock_outs()
    assert event.changes["lock_out"] == 1
    assert throttle.wait_seconds(attempt) == 60
