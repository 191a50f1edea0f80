"""Datetimes read from PostgreSQL by psycopg's C loader (auzlearn/datetime_loading.py) are the
values Django's own loader gives: aware, in UTC, to the microsecond."""

import datetime as dt

import psycopg
import pytest
from django.db import connection
from psycopg.pq import Format

from accounts.models import User
from tests import factories

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's loaders"),
]

MOMENTS = [
    dt.datetime(2026, 12, 7, 1, 52, 3, 123456, tzinfo=dt.UTC),
    dt.datetime(1969, 7, 20, 20, 17, 40, tzinfo=dt.UTC),  # before 1970
    dt.datetime(2040, 2, 29, 23, 59, 59, 999999, tzinfo=dt.UTC),  # after 2038
    dt.datetime(2026, 3, 29, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
]


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_datetime_comes_back_as_stored_aware_and_in_utc(org, moment):
    person = factories.user(org, "lee@acme.test")
    User.objects.filter(pk=person.pk).update(updated_at=moment)

    read = User.objects.values_list("updated_at", flat=True).get(pk=person.pk)

    assert read == moment
    assert read.tzinfo is dt.UTC
    assert read.utcoffset() == dt.timedelta(0)


def test_the_connection_parses_timestamptz_with_psycopg_s_c_parser():
    connection.ensure_connection()
    oid = psycopg.postgres.types["timestamptz"].oid
    used = connection.connection.adapters.get_loader(oid, Format.TEXT)
    assert used.__name__ == "UtcTimestamptzLoader"
    parser = used(oid, connection.connection)._parse
    assert type(parser.__self__).__module__.startswith("psycopg_binary")  # the C one
    with connection.cursor() as cursor:  # Django adds no loader of its own to the cursor
        assert cursor.cursor.adapters.get_loader(oid, Format.TEXT) is used
