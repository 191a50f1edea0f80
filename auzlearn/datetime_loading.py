"""timestamptz values parsed by psycopg's C loader, not by Django's Python one.

Django registers a loader of its own for timestamptz (django/db/backends/postgresql/
psycopg_any.py: BaseTzLoader) so that datetimes come back in the connection's time zone. It
subclasses psycopg's pure-Python loader, which parses each value's text in Python: 3.7 µs a value
on this machine, against 0.7 µs for the loader below, some 1.2 ms of a page of 100 people and
their teams (about 400 values; bench/README.md, issue 15). With USE_TZ and the session in UTC,
which is how Django opens every connection unless DATABASES sets a TIME_ZONE, psycopg's C loader
returns the very same values (aware, tzinfo datetime.timezone.utc). Each new connection gets it,
behind the ``timezone`` attribute Django compares on every cursor to decide whether to add its
own loader there (django/db/backends/postgresql/base.py: create_cursor). Any other configuration
keeps Django's loader.
"""

import datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.db.backends.signals import connection_created


def install() -> None:
    connection_created.connect(_use_the_c_parser, dispatch_uid="auzlearn.datetime_loading")


def _use_the_c_parser(connection: Any, **kwargs: Any) -> None:
    if connection.vendor != "postgresql" or not settings.USE_TZ:
        return
    if connection.timezone_name != "UTC":
        return
    oid, loader = _utc_loader()
    connection.connection.adapters.register_loader(oid, loader)


@cache
def _utc_loader() -> tuple[int, type]:
    import psycopg  # PostgreSQL only
    from psycopg.adapt import Loader
    from psycopg.pq import Format

    oid = psycopg.postgres.types["timestamptz"].oid
    # The C one with psycopg[binary]; Any: the stubs allow None, psycopg always has one here.
    parser: Any = psycopg.adapters.get_loader(oid, Format.TEXT)

    class UtcTimestamptzLoader(Loader):
        timezone = datetime.UTC  # what Django's create_cursor compares with its own

        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            self._parse = parser(oid, context).load

        def load(self, data: Any) -> datetime.datetime:
            value: datetime.datetime = self._parse(data)
            return value

    return oid, UtcTimestamptzLoader
