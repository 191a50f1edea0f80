"""/healthz and /readyz (auzlearn/health.py): what a load balancer polling every second sees
when everything is up, when the database or the cache cannot be reached and while migrations
are missing; never a cookie, never more than a statement or two."""

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, connections
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import load_backend

from auzlearn import health

READY = {"status": "ok", "checks": {"database": "ok", "migrations": "ok", "cache": "ok"}}


@pytest.fixture(autouse=True)
def fresh_process_state() -> Iterator[None]:
    """Each test starts as a new app server: nothing remembered about migrations."""
    health._migrated.clear()
    health._last_failed = frozenset()
    yield
    health._migrated.clear()
    health._last_failed = frozenset()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once the socket is closed


def _unreachable(settings_dict: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    """The same database settings, pointed where no database can be opened."""
    if settings_dict["ENGINE"] == "django.db.backends.postgresql":
        return {**settings_dict, "HOST": "127.0.0.1", "PORT": str(_closed_port())}
    return {**settings_dict, "NAME": str(tmp_path / "no-such-directory" / "db.sqlite3")}


@pytest.fixture
def unreachable_default_database(tmp_path) -> Iterator[None]:
    """Swap the default connection for one that cannot open; the test's own connection (and
    its transaction) come back afterwards."""
    original = connections["default"]
    config = _unreachable(original.settings_dict, tmp_path)
    broken = load_backend(config["ENGINE"]).DatabaseWrapper(config, "default")
    connections["default"] = broken
    yield
    broken.close()
    connections["default"] = original


@pytest.fixture
def unreachable_second_database(tmp_path) -> Iterator[None]:
    """A second DATABASES alias at a closed port, as a replica that is down would be."""
    config = _unreachable(connections["default"].settings_dict, tmp_path)
    connections.settings["replica"] = config
    # The wrapper's own alias is not a configured one: Django's test case lets a test open only
    # its declared databases, and would otherwise refuse before the closed port is even tried.
    broken = load_backend(config["ENGINE"]).DatabaseWrapper(config, "replica-under-test")
    connections["replica"] = broken
    yield
    broken.close()
    del connections["replica"]
    del connections.settings["replica"]


def _assert_no_cookies(response: Any) -> None:
    assert not response.cookies
    assert "Set-Cookie" not in response.headers


# --- /healthz ----------------------------------------------------------------------------------


def test_healthz_answers_without_a_database_or_a_cache(client, settings):
    # No `db` fixture: pytest-django fails any database access; the cache is at a closed port.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
        }
    }

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]
    _assert_no_cookies(response)


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_take_only_get_and_head(client, db, path):
    assert client.head(path).status_code == 200
    assert client.post(path).status_code == 405


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_over_plain_http_are_not_redirected_to_https(client, db, settings, path):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/sign-in/").status_code == 301
    assert client.get(path).status_code == 200


# --- /readyz -----------------------------------------------------------------------------------


def test_readyz_answers_200_when_everything_is_up(client, db):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == READY
    assert "no-store" in response["Cache-Control"]
    _assert_no_cookies(response)


def test_readyz_polled_every_second_costs_one_statement(
    client, db, django_assert_max_num_queries, django_assert_num_queries
):
    with django_assert_max_num_queries(4):  # the first probe reads the applied migrations
        assert client.get("/readyz").status_code == 200

    for _ in range(3):
        with django_assert_num_queries(1):  # SELECT 1; the migrations are remembered
            assert client.get("/readyz").status_code == 200


def test_readyz_names_the_database_when_it_cannot_be_reached(
    client, db, unreachable_default_database, caplog
):
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "failed": ["database"],
        "checks": {"database": "unreachable", "migrations": "not checked", "cache": "ok"},
    }
    _assert_no_cookies(response)
    assert "Not ready: database: OperationalError(" in caplog.text  # the real failure


def test_readyz_names_a_second_database_at_a_closed_port(client, db, unreachable_second_database):
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "failed": ["database:replica"],
        "checks": {
            "database": "ok",
            "database:replica": "unreachable",
            "migrations": "ok",
            "cache": "ok",
        },
    }


def test_readyz_is_unavailable_while_a_migration_is_unapplied_and_ready_once_it_is(client, db):
    recorder = MigrationRecorder(connection)
    latest = recorder.migration_qs.filter(app="accounts").order_by("-name").first()
    assert latest is not None
    recorder.record_unapplied("accounts", latest.name)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "failed": ["migrations"],
        "checks": {"database": "ok", "migrations": "unapplied", "cache": "ok"},
    }

    recorder.record_applied("accounts", latest.name)  # `migrate` has run
    assert client.get("/readyz").json() == READY

    # From now on this process remembers: the migration graph is not loaded again.
    recorder.record_unapplied("accounts", latest.name)
    assert client.get("/readyz").status_code == 200


def test_readyz_names_an_unreachable_cache_but_stays_ready(client, db, settings):
    # Without Redis the throttles fail open and everything else works (DESIGN §8); a 503 would
    # take every app server out of the load balancer at once for a Redis blip.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
        }
    }

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "failed": ["cache"],
        "checks": {"database": "ok", "migrations": "ok", "cache": "unreachable"},
    }
    _assert_no_cookies(response)


def test_readyz_never_shows_an_errors_text_but_logs_each_change_once(
    client, db, unreachable_second_database, caplog
):
    for _ in range(3):
        body = client.get("/readyz").content.decode()
        assert "replica" in body
        assert "Error" not in body
        assert "127.0.0.1" not in body

    # One line for the change, none for each 503 (django.request would log every probe).
    [record] = caplog.records
    assert (record.name, record.levelname) == ("auzlearn.health", "WARNING")
    assert record.getMessage().startswith("Not ready: database:replica: OperationalError(")
