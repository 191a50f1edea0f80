"""The request log's INSERT in one round trip to PostgreSQL.

Every SCIM request writes one log entry, whose commit need not wait for the disk (scim.api says
why). Through the ORM that costs four round trips: BEGIN, SET LOCAL synchronous_commit, the
INSERT, COMMIT. Sent as one query string, ``SET LOCAL synchronous_commit TO OFF; INSERT ...``,
PostgreSQL runs both statements in one implicit transaction, which commits without waiting for
the WAL and leaves the session's setting as it was: one round trip, the same durability. It
saved three of the eight round trips of a userName lookup (bench/README.md, issue 15).

The INSERT itself is the ORM's, compiled from the model's fields, so it stays what ``save()``
would send. The one-string form needs psycopg's client-side binding (the simple query protocol
is the one that takes several statements), so it has a cursor of that kind even where the
connection's others bind on the server. Anywhere else (inside a transaction, where a failed
INSERT must not abort the outer one; SQLite) the entry is saved the ORM's way, in a savepoint
or transaction of its own.
"""

from typing import Any

from django.db import connection, transaction
from django.db.models.sql import InsertQuery

from scim.models import ScimRequest

WITHOUT_WAITING_FOR_DISK = "SET LOCAL synchronous_commit TO OFF"


def insert(entry: ScimRequest) -> None:
    """Write ``entry`` (not saved yet); its ``pk`` is set afterwards, as by ``save()``."""
    if not _one_round_trip():
        with transaction.atomic():
            without_waiting_for_disk()
            entry.save(force_insert=True)
        return
    sql, params = _insert_sql(entry)
    with _client_side_binding_cursor() as cursor:
        cursor.execute(f"{WITHOUT_WAITING_FOR_DISK}; {sql}", params)
        cursor.nextset()  # the INSERT's result: the SET has none
        row = cursor.fetchone()
    entry.pk = row[0]
    entry._state.adding = False
    entry._state.db = connection.alias


def without_waiting_for_disk() -> None:
    """In a transaction of the log's own: its commit does not wait for the WAL to reach disk. A
    log entry (or a refused request's count) is worth less than the request's latency: a crash
    may lose the last few entries, never the provisioning itself, which commits normally. Tried
    the other way, one plain INSERT whose commit waits: a PATCH took 1.5 to 2.5 ms longer on the
    bench's machine."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(WITHOUT_WAITING_FOR_DISK)


def _one_round_trip() -> bool:
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def _client_side_binding_cursor() -> Any:
    """A cursor that binds the parameters into the query string itself, as the simple query
    protocol (the one that takes two statements in one string) needs, even on a connection
    whose other cursors bind on the server (auzlearn/config.py: prepared statements)."""
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


def _insert_sql(entry: ScimRequest) -> tuple[str, tuple[Any, ...]]:
    """The INSERT ... RETURNING id that ``entry.save()`` would send."""
    meta = ScimRequest._meta
    fields = [field for field in meta.local_concrete_fields if not field.primary_key]
    query = InsertQuery(ScimRequest)
    query.insert_values(fields, [entry])
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = [meta.pk]
    [(sql, params)] = compiler.as_sql()
    return sql, tuple(params)
