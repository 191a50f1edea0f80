"""A SCIM request's first read stands in for Django's health check of a kept connection
(auzlearn/kept_connections.py): no ``SELECT 1`` before it, and a connection PostgreSQL dropped
since the last request is still replaced before the request answers."""

from collections.abc import Iterator

import pytest
from django.db import OperationalError, connection, transaction

from accounts.models import User
from auzlearn.kept_connections import first_read
from scim.models import ScimRequest
from tests import factories
from tests.fault_servers import DatabaseSwitch
from tests.scim.conftest import scim_client_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="kept connections and their health checks are PostgreSQL's (SQLite has neither)",
    ),
]


@pytest.fixture
def health_checks(monkeypatch) -> Iterator[list[bool]]:
    """The health checks Django runs on the test's connection, recorded as they answer."""
    checked: list[bool] = []
    real = connection.is_usable

    def is_usable() -> bool:
        checked.append(real())
        return checked[-1]

    monkeypatch.setattr(connection, "is_usable", is_usable)
    yield checked


def _next_request_on_this_connection() -> None:
    """What Django does to a kept connection when the next request starts
    (close_if_unusable_or_obsolete): the health check is due again. The test settings keep no
    connection between requests (CONN_MAX_AGE 0), so the tests say so themselves."""
    connection.ensure_connection()
    connection.health_check_done = False  # type: ignore[attr-defined]


def _terminate_the_connection() -> int:
    assert connection.connection is not None
    pid = connection.connection.info.backend_pid
    with DatabaseSwitch.connect_to_test_database(autocommit=True) as control:
        control.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
    return pid


def test_a_scim_request_on_a_kept_connection_sends_no_health_check(health_checks):
    organisation = factories.organisation()
    person = factories.user(organisation, "ada@acme.test")
    scim = scim_client_for(organisation)
    _next_request_on_this_connection()

    response = scim.get(f"Users/{person.public_id}")

    assert response.status_code == 200, response.content
    assert response.json()["userName"] == "ada@acme.test"
    assert health_checks == []
    # The key's read counted as the check: nothing later in the request sends one either.
    assert connection.health_check_done  # type: ignore[attr-defined]


def test_a_connection_dropped_since_the_last_request_is_replaced_and_the_request_answered(
    health_checks,
):
    organisation = factories.organisation()
    person = factories.user(organisation, "ada@acme.test")
    scim = scim_client_for(organisation)
    assert scim.get(f"Users/{person.public_id}").status_code == 200
    _next_request_on_this_connection()
    dropped = _terminate_the_connection()

    response = scim.get(f"Users/{person.public_id}")

    assert response.status_code == 200, response.content
    assert response.json()["id"] == str(person.public_id)
    assert health_checks == [False]  # asked only once the read had failed
    assert connection.connection is not None
    assert connection.connection.info.backend_pid != dropped
    assert ScimRequest.objects.filter(organisation=organisation, status=200).count() == 2


def test_a_write_after_a_dropped_connection_is_made_once(health_checks):
    organisation = factories.organisation()
    scim = scim_client_for(organisation)
    assert scim.get("Users?count=1").status_code == 200
    _next_request_on_this_connection()
    _terminate_the_connection()

    response = scim.post("Users", {"userName": "grace@acme.test", "active": True})

    assert response.status_code == 201, response.content
    assert User.objects.filter(organisation=organisation, username="grace@acme.test").count() == 1


def test_a_failed_read_on_a_live_connection_is_not_run_again(health_checks):
    _next_request_on_this_connection()
    runs: list[int] = []

    def timed_out_read() -> None:
        runs.append(1)
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 1")
            try:
                cursor.execute("SELECT pg_sleep(1)")
            finally:
                cursor.execute("SET statement_timeout = 0")

    with pytest.raises(OperationalError):
        first_read(timed_out_read)
    assert runs == [1]
    assert health_checks == [True]


def test_inside_a_transaction_a_dropped_connection_is_the_transaction_s_error(health_checks):
    _next_request_on_this_connection()
    runs: list[int] = []

    def read() -> int:
        runs.append(1)
        return User.objects.count()

    with pytest.raises(OperationalError), transaction.atomic():
        _terminate_the_connection()
        first_read(read)
    assert runs == [1]
    connection.close()  # the test's own connection: dropped above


def test_a_connection_with_its_check_done_is_read_from_at_once(health_checks):
    connection.ensure_connection()
    assert connection.health_check_done  # type: ignore[attr-defined]  # a new one needs none
    assert first_read(lambda: User.objects.count()) == 0
    assert health_checks == []
