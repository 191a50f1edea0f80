"""``__any`` (auzlearn/lookups.py) finds exactly what ``__in`` finds, with the values as one
array parameter and one SQL text whatever their number on PostgreSQL."""

import uuid

import pytest
from django.db import connection

from accounts.models import TeamMembership, User
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(org) -> list[User]:
    everyone = [factories.user(org, f"p{n}@acme.test") for n in range(6)]
    factories.team(org, "Sales", members=everyone[:3])
    return everyone


@pytest.mark.parametrize(
    "pick",
    [
        lambda people: [p.pk for p in people[:3]],
        lambda people: [people[0].pk, people[0].pk, None, 2**40],  # repeats, NULL, nobody
        lambda people: {p.pk for p in people[2:]},
        lambda people: [],
        lambda people: [None],
    ],
)
def test_any_finds_what_in_finds(people, pick):
    values = pick(people)
    assert set(User.objects.filter(pk__any=values)) == set(User.objects.filter(pk__in=values))
    assert set(User.objects.exclude(pk__any=values)) == set(User.objects.exclude(pk__in=values))


def test_any_takes_uuids_people_and_subqueries(people):
    ids = [people[1].public_id, uuid.uuid4()]
    assert list(User.objects.filter(public_id__any=ids)) == [people[1]]
    members = TeamMembership.objects.filter(user__any=people[2:4]).values_list("user", flat=True)
    assert list(members) == [people[2].pk]
    first_two = User.objects.filter(pk__in=[p.pk for p in people[:2]]).values("pk")
    assert set(User.objects.filter(pk__any=first_two)) == set(people[:2])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the array form is PostgreSQL's")
def test_on_postgresql_the_values_are_one_parameter_and_the_text_is_the_same(people):
    short = User.objects.filter(pk__any=[p.pk for p in people[:2]]).query.sql_with_params()
    long = User.objects.filter(pk__any=[p.pk for p in people]).query.sql_with_params()

    assert short[0] == long[0]  # the same text, whatever the number of values
    assert '"accounts_user"."id" = ANY(%s)' in short[0]
    assert short[1] == ([p.pk for p in people[:2]],)  # one parameter: the array
    assert set(User.objects.filter(pk__any=[p.pk for p in people])) == set(people)
