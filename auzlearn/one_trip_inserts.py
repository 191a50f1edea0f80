"""New rows of several tables written to PostgreSQL in one round trip.

A create writes, after its person, their profile rows and its audit row: through the ORM each is
a statement and a round trip of its own (bulk_create, save). Sent as one query string of several
INSERTs they are one round trip, in the caller's transaction like any other statement, and a
failure aborts it as either would (bench/README.md, issue 15: a POST /Users). Each INSERT is the
ORM's, compiled from the model's fields as ``bulk_create`` compiles it (once, for a group of one
row: auzlearn/compiled_inserts.py), so it stays what the ORM would send. A read compiled once
(auzlearn/compiled_reads.py) may end the string, its rows read back from the last result.

Several statements in one string need psycopg's client-side binding (the simple query protocol
is the one that takes them), so these go through a cursor of that kind even where the
connection's others bind on the server (auzlearn/config.py: prepared statements). On SQLite
each table's rows are bulk_created.
"""

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

from auzlearn.compiled_inserts import insert_sql
from auzlearn.compiled_reads import BoundRead

M = TypeVar("M", bound=Model)


def insert_all(*groups: Sequence[Model], then: BoundRead[M] | None = None) -> list[M]:
    """Insert each group's new rows (each group one model's), then run the read ``then``, if
    any, in the same round trip, and return its rows (a create locks the reports waiting for
    its person in the trip that writes its profile). The inserted rows' pks are not read back,
    for callers that do not need them."""
    groups = tuple(group for group in groups if group)
    if connection.vendor != "postgresql":
        for group in groups:
            type(group[0])._default_manager.bulk_create(group)
        return [] if then is None else then.fetch()
    statements = [insert_sql(group) for group in groups]
    if then is not None:
        statements.append((then.sql, then.params))
    if not statements:
        return []
    sql = "; ".join(text for text, _ in statements)
    params = tuple(param for _, statement_params in statements for param in statement_params)
    with client_side_binding_cursor() as cursor:
        cursor.execute(sql, params)
        if then is None:
            return []
        while cursor.nextset():  # to the read's result, the last
            pass
        return then.objects(cursor.fetchall())


def client_side_binding_cursor() -> Any:
    """A cursor that binds the parameters into the query string itself, as the simple query
    protocol (the one that takes several statements in one string) needs, even on a connection
    whose other cursors bind on the server."""
    if not getattr(connection.features, "uses_server_side_binding", False):
        return connection.cursor()
    # PostgreSQL only (psycopg); Any: django-stubs declare neither this class nor the wrapper's
    # _prepare_cursor, which wraps a cursor as connection.cursor() does.
    from django.db.backends.postgresql.base import Cursor  # type: ignore[attr-defined]

    database: Any = connection
    database.close_if_health_check_failed()
    database.ensure_connection()
    with database.wrap_database_errors:
        return database._prepare_cursor(Cursor(database.connection))
