"""Concurrent SCIM requests on real PostgreSQL connections (Okta sends in parallel)."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from accounts.models import Team, User
from tests import factories
from tests.scim.conftest import scim_client_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises writers, so there is no race to test; CI runs PostgreSQL",
    ),
]


def _at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; each thread has its own connection."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_concurrent_posts_of_one_username_create_exactly_one_user():
    org = factories.organisation("race")
    scim = scim_client_for(org)
    body = {"userName": "jane@race.test", "emails": [{"value": "jane@race.test"}]}
    for _ in range(5):  # a few rounds, so the race is really run
        User.objects.filter(organisation=org).delete()
        responses = _at_once(lambda: scim.post("Users", body), lambda: scim.post("Users", body))
        assert sorted(r.status_code for r in responses) == [201, 409]
        conflict = next(r for r in responses if r.status_code == 409).json()
        assert conflict["scimType"] == "uniqueness"
        assert User.objects.filter(organisation=org).count() == 1


def test_two_concurrent_patches_adding_different_members_keep_both():
    org = factories.organisation("race")
    scim = scim_client_for(org)
    first, second = factories.user(org, "a@race.test"), factories.user(org, "b@race.test")
    team = factories.team(org, "Sales")

    def add(person: User) -> Any:
        body = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "add", "path": "members", "value": [{"value": str(person.public_id)}]}
            ],
        }
        return scim.patch(f"Groups/{team.public_id}", body)

    responses = _at_once(lambda: add(first), lambda: add(second))
    assert [r.status_code for r in responses] == [204, 204]
    assert set(Team.objects.get(pk=team.pk).members.all()) == {first, second}
