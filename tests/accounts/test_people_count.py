"""PeopleCount: an organisation's number of people, kept by database triggers, never drifting
whatever writes the person table (services, bulk loads, raw SQL, concurrent requests)."""

import random
import threading
import urllib.parse
from typing import Any

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from accounts import services
from accounts.models import PEOPLE_COUNT_SLOTS, Organisation, PeopleCount, User
from tests import factories
from tests.factories import SYSTEM
from tests.scim.conftest import scim_client_for


def real_count(organisation: Organisation) -> int:
    return User.objects.for_organisation(organisation).not_deleted().count()


def assert_counted(*organisations: Organisation) -> None:
    for organisation in organisations:
        assert PeopleCount.of(organisation.pk) == real_count(organisation)


@pytest.mark.django_db
def test_every_way_people_come_and_go_is_counted(org, other_org):
    assert PeopleCount.of(org.pk) == 0
    people = [factories.user(org) for _ in range(5)]
    factories.user(other_org)
    factories.staff()  # support staff belong to no organisation: not counted anywhere
    assert (PeopleCount.of(org.pk), PeopleCount.of(other_org.pk)) == (5, 1)

    services.user_deactivate(user=people[0], actor=SYSTEM)  # still a person of the directory
    assert PeopleCount.of(org.pk) == 5
    services.user_delete(user=people[1], actor=SYSTEM)
    services.user_delete(user=people[1], actor=SYSTEM)  # idempotent: counted once
    assert PeopleCount.of(org.pk) == 4
    services.user_revive(user=people[1], actor=SYSTEM)
    assert PeopleCount.of(org.pk) == 5
    services.user_update(user=people[2], actor=SYSTEM, title="Chef")  # no change of count
    factories.many_users(org, 40)  # bulk_create, as the benchmark loads
    User.objects.filter(pk=people[3].pk).delete()  # a row really deleted
    with connection.cursor() as cursor:  # and one written behind the ORM's back
        cursor.execute(
            "UPDATE accounts_user SET deleted_at = created_at, is_active = false, "
            "deactivated_at = created_at WHERE id = %s",
            [people[4].pk],
        )
    assert_counted(org, other_org)
    assert PeopleCount.of(org.pk) == 43
    # Rows are spread over the slots, and no slot row is ever read past the slots.
    assert PeopleCount.objects.filter(organisation_id=org.pk).count() <= PEOPLE_COUNT_SLOTS


@pytest.mark.django_db
def test_moving_a_person_between_organisations_moves_the_count(org, other_org):
    person = factories.user(org)
    User.objects.filter(pk=person.pk).update(organisation=other_org)
    assert (PeopleCount.of(org.pk), PeopleCount.of(other_org.pk)) == (0, 1)


@pytest.mark.django_db
def test_an_organisation_deleted_takes_its_counts_with_it(org):
    factories.many_users(org, 20)
    organisation_id = org.pk
    User.objects.filter(organisation=org).delete()  # people are protected: they go first
    assert PeopleCount.of(organisation_id) == 0
    org.delete()
    assert not PeopleCount.objects.filter(organisation_id=organisation_id).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises writers, so there is no race to test; CI runs PostgreSQL",
)
def test_concurrent_creates_deletes_and_revivals_never_drift():
    """Six threads, each its own connection, create, deactivate, delete and revive people of
    one organisation at once; the count is exact afterwards and at every moment in between
    (each thread checks it in its own transactions as it goes)."""
    org = factories.organisation("drift")
    seed_people = factories.many_users(org, 30)
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        rng = random.Random(index)  # noqa: S311 (a repeatable mix of steps, not a secret)
        try:
            barrier.wait()
            mine: list[User] = []
            for step in range(25):
                choice = rng.random()
                if choice < 0.4 or not mine:
                    mine.append(factories.user(org, f"w{index}-{step}@drift.test"))
                else:
                    person = User.objects.get(pk=rng.choice(mine + seed_people).pk)
                    if person.is_deleted:
                        services.user_revive(user=person, actor=SYSTEM)
                    elif choice < 0.7:
                        services.user_delete(user=person, actor=SYSTEM)
                    else:
                        services.user_deactivate(user=person, actor=SYSTEM)
        except BaseException as error:  # reported below, on the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert PeopleCount.of(org.pk) == real_count(org)
    assert real_count(org) > 30


# --- SCIM lists ---------------------------------------------------------------------------


def ids_of(document: dict[str, Any]) -> list[str]:
    return [resource["id"] for resource in document["Resources"]]


@pytest.mark.django_db
def test_an_unfiltered_list_totals_without_counting_the_directory(org):
    scim = scim_client_for(org)
    people = factories.many_users(org, 12)
    services.user_delete(user=people[0], actor=SYSTEM)
    with CaptureQueriesContext(connection) as queries:
        document = scim.get("Users?startIndex=1&count=5").json()
    assert document["totalResults"] == 11
    counted = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counted == []
    # A filter still counts what it matches: exact either way.
    query = urllib.parse.quote('userName sw "bulk1"')
    filtered = scim.get(f"Users?filter={query}").json()
    expected = [p for p in people[1:] if p.username.startswith("bulk1")]
    assert filtered["totalResults"] == len(expected) > 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sort",
    [
        "",
        "&sortBy=title",
        "&sortBy=title&sortOrder=descending",
        "&sortBy=userName&sortOrder=descending",
    ],
)
def test_pages_read_from_the_end_are_the_same_pages(org, sort):
    """Pages in the second half are read backwards; every page, at every start, is exactly the
    slice of the whole ordered list, ties and people without a value included."""
    scim = scim_client_for(org)
    for i in range(23):
        factories.user(org, f"p{i:02d}@acme.test", title=["", "Chef", "Nurse"][i % 3])
    everyone = ids_of(scim.get(f"Users?startIndex=1&count=1000{sort}").json())
    assert len(everyone) == 23
    for start in range(1, 26):
        for count in (1, 4, 10):
            document = scim.get(f"Users?startIndex={start}&count={count}{sort}").json()
            assert ids_of(document) == everyone[start - 1 : start - 1 + count], (start, count)
            assert document["totalResults"] == 23


@pytest.mark.django_db
def test_a_page_past_the_end_reads_no_people(org):
    scim = scim_client_for(org)
    factories.many_users(org, 3)
    with CaptureQueriesContext(connection) as queries:
        document = scim.get("Users?startIndex=50&count=10").json()
    assert document["totalResults"] == 3 and document["Resources"] == []
    assert not [q for q in queries.captured_queries if "accounts_user" in q["sql"]]


def test_people_count_slots_is_what_the_migration_uses() -> None:
    from importlib import import_module

    migration = import_module("accounts.migrations.0008_people_count")
    assert migration.SLOTS == PEOPLE_COUNT_SLOTS
