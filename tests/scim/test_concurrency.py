"""Concurrent SCIM requests on real PostgreSQL connections (Okta sends in parallel)."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import pytest
from django.db import connection, connections, transaction

from accounts import services
from accounts.errors import UserConflict
from accounts.models import AuditEvent, Team, TeamMembership, User
from scim import groups
from tests import factories
from tests.scim.conftest import scim_client_for

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises writers, so there is no race to test; CI runs PostgreSQL",
    ),
]


@contextmanager
def _uncommitted_elsewhere(work: Callable[[], Any]) -> Iterator[None]:
    """``work`` done in a transaction on another connection (another server), still uncommitted
    when the block starts, and committed half a second into it: what the block does meanwhile
    finds it in progress and, where it needs the same rows, waits for it."""
    done, release = threading.Event(), threading.Event()

    def other_server() -> None:
        try:
            with transaction.atomic():
                work()
                done.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    other = threading.Thread(target=other_server)
    other.start()
    assert done.wait(timeout=10)
    threading.Timer(0.5, release.set).start()
    try:
        yield
    finally:
        other.join(timeout=10)


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


def test_of_twenty_concurrent_posts_reviving_one_person_exactly_one_revives():
    org = factories.organisation("race")
    scim = scim_client_for(org)
    body = {"userName": "back@race.test", "emails": [{"value": "back@race.test"}]}
    for _ in range(3):
        person = User.objects.filter(organisation=org).first() or factories.user(
            org, "back@race.test"
        )
        services.user_delete(user=person, actor=factories.SYSTEM)
        events = AuditEvent.objects.filter(action="user.revive").count()

        responses = _at_once(*[lambda: scim.post("Users", body)] * 20)

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] + [409] * 19, statuses
        for response in responses:
            if response.status_code == 409:
                assert response.json()["scimType"] == "uniqueness"
        assert User.objects.filter(organisation=org).count() == 1
        assert AuditEvent.objects.filter(action="user.revive").count() == events + 1


def test_two_people_made_each_others_manager_at_once_one_wins_and_no_cycle_is_stored():
    org = factories.organisation("race")
    scim = scim_client_for(org)
    first, second = factories.user(org, "a@race.test"), factories.user(org, "b@race.test")

    def manage(person: User, manager: User) -> Any:
        body = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "replace", "path": f"{ENTERPRISE}:manager", "value": str(manager.public_id)}
            ],
        }
        return scim.patch(f"Users/{person.public_id}", body)

    for _ in range(8):
        User.objects.filter(organisation=org).update(manager=None)
        responses = _at_once(lambda: manage(first, second), lambda: manage(second, first))

        assert sorted(r.status_code for r in responses) == [200, 400]
        refused = next(r for r in responses if r.status_code == 400).json()
        assert "cycle" in refused["detail"] and refused["scimType"] == "invalidValue"
        managers = dict(User.objects.filter(organisation=org).values_list("pk", "manager_id"))
        assert managers in (
            {first.pk: second.pk, second.pk: None},
            {first.pk: None, second.pk: first.pk},
        )


def test_deleting_a_person_while_a_team_push_takes_them_out_fails_neither():
    # The delete moves the version of the person's teams, the team PATCH that of the people
    # it removes: the two lock the same rows in opposite orders, and PostgreSQL aborts one
    # of them, which is run again (scim.transactions) rather than answered with a 500.
    org = factories.organisation("race")
    scim = scim_client_for(org)
    for round_ in range(4):
        person = factories.user(org, f"leaver{round_}@race.test")
        teams = [factories.team(org, f"Team {round_}-{n}", members=[person]) for n in range(3)]
        remove = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "remove", "path": f'members[value eq "{person.public_id}"]'}],
        }
        calls = [partial(scim.delete, f"Users/{person.public_id}")]
        calls += [partial(scim.patch, f"Groups/{team.public_id}", remove) for team in teams]

        responses = _at_once(*calls)

        assert [r.status_code for r in responses] == [204] * 4, [r.content for r in responses]
        assert not TeamMembership.objects.filter(user=person).exists()
        assert User.objects.get(pk=person.pk).is_deleted


def test_a_create_that_loses_a_race_leaves_its_callers_transaction_usable():
    """The other server's INSERT is not committed yet when this create makes its own: this
    INSERT waits for it on the unique index, then inserts nothing. The UserConflict comes out
    of user_create naming the person the other server made, with the transaction still
    usable, as the revival after it needs."""
    org = factories.organisation("race")

    # This INSERT waits on the unique index for the other one.
    with (
        _uncommitted_elsewhere(lambda: factories.user(org, "jane@race.test", external_id="00uJ")),
        transaction.atomic(),
    ):
        with pytest.raises(UserConflict) as caught:
            services.user_create(
                organisation=org,
                actor=factories.SYSTEM,
                username="jane.doe@race.test",
                external_id="00uJ",
            )
        after = services.user_create(
            organisation=org, actor=factories.SYSTEM, username="ada@race.test"
        )

    assert sorted(User.objects.filter(organisation=org).values_list("username", flat=True)) == [
        "ada@race.test",
        "jane@race.test",
    ]
    assert caught.value.field == "externalId"
    assert caught.value.existing == User.objects.get(username="jane@race.test")
    assert AuditEvent.objects.filter(action="user.create").count() == 2  # none for the loser
    assert after.pk is not None


@pytest.mark.parametrize("change", ["delete", "revive"])
def test_a_person_deleted_or_revived_while_joining_a_team_is_shown_by_it_as_they_end_up(change):
    """A membership keeps whether its member is deleted (TeamMembership.user_deleted). The
    other server's add reads the person FOR SHARE: this deletion or revival waits for it to
    commit, and then updates the new membership too."""
    org = factories.organisation("race")
    team = factories.team(org, "Sales")
    ada = factories.user(org, "ada@race.test")
    if change == "revive":
        services.user_delete(user=ada, actor=factories.SYSTEM)

    def add() -> None:
        services.team_add_members(
            team=Team.objects.get(pk=team.pk),
            actor=factories.SYSTEM,
            users=[User.objects.get(pk=ada.pk)],
        )

    with _uncommitted_elsewhere(add):  # this change waits for the add's lock
        person = User.objects.get(pk=ada.pk)
        if change == "delete":
            services.user_delete(user=person, actor=factories.SYSTEM)
        else:
            services.user_revive(user=person, actor=factories.SYSTEM)

    membership = TeamMembership.objects.get(team=team, user=ada)
    assert membership.user_deleted is (change == "delete")
    shown = groups.members_of([team]).get(team.pk, [])
    assert shown == ([] if change == "delete" else [str(ada.public_id)])


def test_a_team_add_racing_another_s_audits_only_whom_it_added():
    """The other server adds ada and has not committed when this request adds ada and lee:
    this INSERT waits for it on the unique index, skips ada, and the change it audits (and the
    team's new version) is lee's alone."""
    org = factories.organisation("race")
    team = factories.team(org, "Sales")
    ada, lee = factories.user(org, "ada@race.test"), factories.user(org, "lee@race.test")

    with _uncommitted_elsewhere(
        lambda: services.team_add_members(team=team, actor=factories.SYSTEM, users=[ada])
    ):
        services.team_add_members(team=team, actor=factories.SYSTEM, users=[ada, lee])

    changes = [
        event.changes["members"]
        for event in AuditEvent.objects.filter(action="team.members").order_by("pk")
    ]
    assert changes == [
        {"added": [str(ada.public_id)], "removed": []},
        {"added": [str(lee.public_id)], "removed": []},
    ]
    assert set(team.members.all()) == {ada, lee}
