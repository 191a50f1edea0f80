"""Reads compiled once and run again with new values (auzlearn/compiled_reads.py) give exactly
what the ORM gives for the same queryset, by the same SQL each time, with the values as
parameters."""

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import connection
from django.db.models import Subquery, Value
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts import services
from accounts.models import PeopleCount, TeamMembership, User
from accounts.versions import membership_changed
from auzlearn.compiled_reads import CompiledRead, CompiledValues
from scim import users
from scim.models import ScimKey
from scim.query import Projection
from tests import factories

pytestmark = pytest.mark.django_db


def _people(username: str) -> Any:
    return users.for_rendering(
        User.objects.get_queryset().not_deleted().filter(username=username),
        Projection(),
        one=True,
    )


BY_USERNAME = CompiledRead(_people, username="\x00marker")


def _everything(user: User) -> dict[str, Any]:
    annotations = {name: value for name, value in vars(user).items() if name.startswith("scim_")}
    return {**model_to_dict(user), "pk": user.pk, **annotations}


def test_a_compiled_read_makes_what_the_orm_makes():
    organisation = factories.organisation()
    boss = factories.user(organisation, "boss@acme.test")
    person = factories.user(
        organisation,
        "lee@acme.test",
        given_name="Lee",
        emails=[{"value": "lee@acme.test", "primary": True}],
        custom_attributes={"badge": 7},
    )
    services.user_set_manager(user=person, actor=factories.SYSTEM, manager=boss)
    factories.team(organisation, "Sales", members=[person])

    [compiled] = BY_USERNAME(username="lee@acme.test")
    [orm] = _people("lee@acme.test")

    assert _everything(compiled) == _everything(orm)
    assert compiled.scim_manager_email == "boss@acme.test"
    assert compiled.emails == [{"value": "lee@acme.test", "primary": True}]  # JSON decoded
    assert compiled._state.adding is False and compiled._state.db == "default"


def test_related_objects_come_as_the_orm_makes_them():
    organisation = factories.organisation(name="Acme")
    ScimKey.objects.create(organisation=organisation, prefix="abcdefgh", digest="d")
    read = CompiledRead(
        lambda prefix: ScimKey.objects.select_related("organisation").filter(prefix=prefix),
        prefix="\x00marker",
    )

    [key] = read(prefix="abcdefgh")

    with CaptureQueriesContext(connection) as captured:
        assert key.organisation.name == "Acme"  # read with the key, not afterwards
    assert captured.captured_queries == []
    assert read(prefix="abcdefgi") == []


def test_every_run_sends_the_same_sql_with_its_own_values():
    organisation = factories.organisation()
    for name in ("ada@acme.test", "lee@acme.test"):
        factories.user(organisation, name)

    with CaptureQueriesContext(connection) as captured:
        ada = BY_USERNAME(username="ada@acme.test")
        lee = BY_USERNAME(username="lee@acme.test")

    assert [person.username for person in ada + lee] == ["ada@acme.test", "lee@acme.test"]
    first, second = (query["sql"] for query in captured.captured_queries)
    assert first.replace("ada@", "lee@") == second  # only the value differs


@settings(max_examples=25, deadline=None)
@given(username=st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=30))
def test_values_are_parameters_whatever_they_hold(username):
    organisation = factories.organisation()
    for name in (username, username + "'--", "%" + username):
        User.objects.create(organisation=organisation, username=name)

    found = BY_USERNAME(username=username)

    assert [person.username for person in found] == [username]
    User.objects.filter(organisation=organisation).delete()


def test_a_marker_the_orm_rewrites_is_refused_when_first_compiled():
    read = CompiledRead(
        lambda username: User.objects.filter(username__icontains=username), username="\x00m"
    )
    with pytest.raises(ValueError, match="use it once, in an exact lookup"):
        read(username="lee")


def test_a_marker_used_twice_is_refused_when_first_compiled():
    marker = uuid.UUID(int=7)
    read = CompiledRead(
        lambda public_id: User.objects.filter(public_id=public_id).annotate(same=Value(public_id)),
        public_id=marker,
    )
    with pytest.raises(ValueError, match="2 times"):
        read(public_id=uuid.uuid4())


def test_a_marker_said_to_repeat_takes_the_value_everywhere_it_is_sent():
    organisation = factories.organisation()
    factories.user(organisation, "lee@acme.test")
    factories.user(organisation, "ada@acme.test")
    read = CompiledRead(
        lambda username: User.objects.filter(username=username).annotate(asked=Value(username)),
        repeated=("username",),
        username="\x00marker",
    )

    [lee] = read(username="lee@acme.test")
    [ada] = read(username="ada@acme.test")

    assert (lee.username, lee.asked) == ("lee@acme.test", "lee@acme.test")  # type: ignore[attr-defined]
    assert (ada.username, ada.asked) == ("ada@acme.test", "ada@acme.test")  # type: ignore[attr-defined]


def test_two_markers_of_the_same_value_are_refused():
    with pytest.raises(ValueError, match="must differ"):
        CompiledRead(lambda a, b: User.objects.filter(pk=a, organisation_id=b), a=-1, b=-1)


def test_values_for_other_names_are_refused():
    with pytest.raises(TypeError, match="expected values for"):
        BY_USERNAME(email="lee@acme.test")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not getattr(connection.features, "uses_server_side_binding", False),
    reason="prepared statements: PostgreSQL, unless the URL says ?server_side_binding=false",
)
def test_a_read_sent_again_and_again_is_prepared_once_on_its_connection():
    organisation = factories.organisation()
    factories.user(organisation, "lee@acme.test")

    for _ in range(6):  # psycopg prepares a statement at its fifth execution (config.py)
        assert len(BY_USERNAME(username="lee@acme.test")) == 1

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%accounts_user%scim_teams_read%"],
        )
        assert cursor.fetchone()[0] == 1


def _teams_of(user_ids: list[int]) -> Any:
    return TeamMembership.objects.filter(user__in=user_ids).values_list(
        "user_id", "team__public_id", "team__display_name", membership_changed()
    )


def test_a_compiled_values_read_makes_the_tuples_values_list_makes():
    organisation = factories.organisation()
    ada, lee = factories.user(organisation), factories.user(organisation)
    factories.team(organisation, "Sales", members=[ada, lee])
    factories.team(organisation, "Support", members=[lee])
    read = CompiledValues(lambda lee_id: _teams_of([lee_id]), lee_id=-7)

    compiled = read(lee_id=lee.pk)

    assert sorted(compiled) == sorted(_teams_of([lee.pk]))
    assert {type(value) for row in compiled for value in row[1:]} == {uuid.UUID, str, dt.datetime}
    assert read(lee_id=-1) == []


def test_an_integer_marker_is_found_however_the_orm_wraps_it():
    """PostgreSQL gets psycopg's Int8 of a value compared with a BigIntegerField (Django's
    integerfield_type_map): the marker is found in that form and the value sent in it."""
    organisation = factories.organisation()
    factories.user(organisation)
    factories.user(organisation)
    read = CompiledValues(
        lambda org: PeopleCount.objects.filter(organisation_id=org).values_list("people"),
        org=-3,
    )

    assert sum(people for (people,) in read(org=organisation.pk)) == 2
    assert PeopleCount.of(organisation.pk) == 2 and PeopleCount.of(-5) == 0


def test_a_repeated_marker_is_sent_in_each_place_as_the_orm_sent_it_there():
    """The organisation's id is an int in the people's condition and psycopg's Int8 in the
    count's (a BigIntegerField) on PostgreSQL: each place gets the value in its own form."""
    one, two = factories.organisation(), factories.organisation()
    factories.user(one)
    factories.user(two)
    factories.user(two)

    def build(org: int) -> Any:
        return User.objects.filter(organisation_id=org).annotate(
            people=Subquery(PeopleCount.total_in(org))
        )

    read = CompiledRead(build, repeated=("org",), org=-9)

    assert [person.people for person in read(org=one.pk)] == [1]
    assert [person.people for person in read(org=two.pk)] == [2, 2]
