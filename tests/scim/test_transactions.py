"""A SCIM write that PostgreSQL aborts to resolve a conflict runs again, and a conflict that does
not go away is a 503 with Retry-After (which Okta and Entra retry by themselves), never a 500.

PostgreSQL raises the real errors here: a trigger that fails with the deadlock's SQLSTATE stands
in for the other transaction."""

from collections.abc import Iterator

import pytest
from django.db import connection

from accounts.models import AuditEvent, User
from scim import transactions
from scim.errors import ScimError
from tests.scim.conftest import assert_scim_error

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLSTATEs of PostgreSQL's conflicts"
)

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _raise(sqlstate: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '{sqlstate}'; END $$"
        )


@pytest.mark.django_db
@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_conflict_runs_the_work_again_and_keeps_what_the_last_run_wrote(sqlstate, org):
    runs = []

    def work() -> int:
        runs.append(1)
        AuditEvent.objects.create(actor_kind="system", action=f"run {len(runs)}", target_type="x")
        if len(runs) < transactions.ATTEMPTS:
            _raise(sqlstate)
        return len(runs)

    assert transactions.write(work) == transactions.ATTEMPTS
    assert list(AuditEvent.objects.filter(target_type="x").values_list("action", flat=True)) == [
        f"run {transactions.ATTEMPTS}"  # the aborted runs left nothing
    ]


@pytest.mark.django_db
def test_a_conflict_that_does_not_go_away_asks_the_client_to_retry():
    def work() -> None:
        _raise("40P01")

    with pytest.raises(ScimError) as raised:
        transactions.write(work)
    assert (raised.value.status, raised.value.retry_after) == (503, 1)


@pytest.mark.django_db
def test_other_database_errors_are_not_retried():
    runs = []

    def work() -> None:
        runs.append(1)
        _raise("53300")  # too_many_connections: the database's trouble, not a conflict

    with pytest.raises(Exception, match="conflict"):
        transactions.write(work)
    assert len(runs) == 1


@pytest.fixture
def conflicting_people_updates(db) -> Iterator[None]:
    """Every UPDATE of a person fails as if it had deadlocked with another server."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION test_deadlock() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END
            $$ LANGUAGE plpgsql;
            CREATE TRIGGER test_deadlock BEFORE UPDATE ON accounts_user
            FOR EACH ROW EXECUTE FUNCTION test_deadlock();
            """
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER test_deadlock ON accounts_user; DROP FUNCTION test_deadlock();"
        )


def test_a_scim_write_that_keeps_deadlocking_is_a_503_with_retry_after(
    scim, learner, conflicting_people_updates
):
    body = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "X"}]}
    events = AuditEvent.objects.count()

    response = scim.patch(f"Users/{learner.public_id}", body)

    document = assert_scim_error(response, 503)
    assert response["Retry-After"] == "1"
    assert "Retry" in document["detail"]
    assert User.objects.get(pk=learner.pk).title == ""
    assert AuditEvent.objects.count() == events
