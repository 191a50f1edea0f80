"""One-row INSERTs compiled once (auzlearn/compiled_inserts.py): the same statement and values
the ORM compiles for the row, one text per shape whatever the values, and the ORM's own compile
wherever the text could differ."""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.db.models.constants import OnConflict
from django.db.models.functions import Now
from django.db.models.sql import InsertQuery
from django.forms.models import model_to_dict
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts import audit
from accounts.models import Organisation, ProfileValue, User
from auzlearn import compiled_inserts
from auzlearn.compiled_inserts import columns, insert_sql
from scim.models import Outcome, ScimRequest
from tests import factories

pytestmark = pytest.mark.django_db

# Text as directories send it, and text that looks like SQL or like a placeholder.
TEXT = st.text(max_size=100).map(lambda text: text.replace("\x00", ""))


def _orm(row: Any, *, returning_pk: bool = False, ignore_conflicts: bool = False) -> Any:
    """What the ORM compiles for this row, as Model.save and bulk_create call it."""
    model = type(row)
    query = InsertQuery(model, on_conflict=OnConflict.IGNORE if ignore_conflicts else None)
    query.insert_values(columns(model), [row])
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = [model._meta.pk] if returning_pk else None
    [(sql, params)] = compiler.as_sql()
    return sql, tuple(params)


def _comparable(statement: tuple[str, tuple[Any, ...]]) -> tuple[str, tuple[Any, ...]]:
    """A statement with JSON values unwrapped: psycopg's Jsonb wrapper compares by identity."""
    sql, params = statement
    return sql, tuple(getattr(param, "obj", param) for param in params)


def _person(org: Organisation, n: int, **fields: Any) -> User:
    person = User(organisation=org, username=f"p{n}@acme.test", **fields)
    person.set_password(None)
    return person


def _execute(sql: str, params: tuple[Any, ...]) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() if " RETURNING " in sql else None


@settings(max_examples=40, deadline=None)
@given(title=TEXT, given_name=TEXT, n=st.integers(0))
def test_a_person_s_insert_is_what_the_orm_compiles(title, given_name, n):
    org = Organisation.objects.get_or_create(slug="acme", defaults={"name": "Acme"})[0]
    insert_sql([_person(org, -1)], returning_pk=True, ignore_conflicts=True)  # compiled, kept
    person = _person(
        org,
        n,
        title=title,
        given_name=given_name,
        emails=[{"value": "it's 100% %s %(x)s", "type": "work"}],
        custom_attributes={"badge": n, "note": title},
    )

    compiled = insert_sql([person], returning_pk=True, ignore_conflicts=True)
    assert _comparable(compiled) == _comparable(
        _orm(person, returning_pk=True, ignore_conflicts=True)
    )


def test_each_shape_is_one_text_and_the_rows_written_are_save_s(org):
    texts = set()
    for n in range(3):
        person = _person(org, n, title=f"Lead {n}", emails=[{"value": f"p{n}@acme.test"}])
        sql, params = insert_sql([person], returning_pk=True)
        texts.add(sql)
        person.pk = _execute(sql, params)[0]
    saved = _person(org, 9, title="Lead 2", emails=[{"value": "p2@acme.test"}])
    saved.save()

    assert len(texts) == 1
    assert texts == {compiled_inserts._TEXTS[(User, connection.alias, True, False)]}
    own = ["id", "username", "public_id", "password", "created_at", "updated_at"]
    written = model_to_dict(User.objects.get(username="p2@acme.test"), exclude=own)
    assert written == model_to_dict(User.objects.get(pk=saved.pk), exclude=own)


def test_other_models_rows_are_the_orm_s_too(org):
    person = factories.user(org, "lee@acme.test")
    rows = [
        audit.event(
            actor=factories.SYSTEM, action="user.create", target=person, changes={"q": "it's"}
        ),
        ProfileValue(user=person, attribute="emails", value="lee@acme.test"),
        ScimRequest(
            organisation=org,
            method="POST",
            path="/Users",
            status=201,
            outcome=Outcome.SUCCEEDED,
            duration_ms=3,
            summary={"userName": "100% %s"},
        ),
    ]
    for row in rows:
        insert_sql([row], returning_pk=True)  # the first compiles and keeps the text
        compiled = insert_sql([row], returning_pk=True)
        assert _comparable(compiled) == _comparable(_orm(row, returning_pk=True))
        assert (type(row), connection.alias, True, False) in compiled_inserts._TEXTS


def test_an_expression_among_the_values_is_compiled_by_the_orm(org):
    insert_sql([_person(org, 1)], returning_pk=True)
    person = _person(org, 2)
    person.created_at = Now()  # what a caller might do

    sql, params = insert_sql([person], returning_pk=True)

    assert sql.count("%s") == len(columns(User)) - 1  # the expression is in the text
    assert _comparable((sql, params)) == _comparable(_orm(person, returning_pk=True))
    stored = User.objects.get(pk=_execute(sql, params)[0])
    assert abs(stored.created_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    # The kept text is still the plain one.
    plain_sql, _ = insert_sql([_person(org, 3)], returning_pk=True)
    assert plain_sql.count("%s") == len(columns(User))


def test_several_rows_are_compiled_by_the_orm(org):
    person = factories.user(org, "lee@acme.test")
    rows = [ProfileValue(user=person, attribute="emails", value=f"{n}@acme.test") for n in range(3)]
    assert _comparable(insert_sql(rows)) == _comparable(_orm_many(rows))
    _execute(*insert_sql(rows))
    assert ProfileValue.objects.filter(user=person, value__endswith="@acme.test").count() == 4


def _orm_many(rows: list[Any]) -> Any:
    query = InsertQuery(type(rows[0]))
    query.insert_values(columns(type(rows[0])), rows)
    [(sql, params)] = query.get_compiler(connection=connection).as_sql()
    return sql, tuple(params)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite's INSERT OR IGNORE skips any constraint"
)
def test_a_taken_username_inserts_nothing_when_conflicts_are_ignored(org):
    factories.user(org, "lee@acme.test")
    again = _person(org, 0)
    again.username = "LEE@acme.test"

    assert _execute(*insert_sql([again], returning_pk=True, ignore_conflicts=True)) is None
    assert User.objects.filter(organisation=org).count() == 1
