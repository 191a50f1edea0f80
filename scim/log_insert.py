"""The request log's INSERT in one round trip to PostgreSQL.

Every SCIM request writes one log entry, whose commit need not wait for the disk (scim.api says
why). Through the ORM that costs four round trips: BEGIN, SET LOCAL synchronous_commit, the
INSERT, COMMIT. Sent as one query string, ``SET LOCAL synchronous_commit TO OFF; INSERT ...``,
PostgreSQL runs both statements in one implicit transaction, which commits without waiting for
the WAL and leaves the session's setting as it was: one round trip, the same durability. It
saved three of the eight round trips of a userName lookup (bench/README.md, issue 15).

The INSERT itself is the ORM's, compiled from the model's fields, so it stays what ``save()``
would send. The one-string form needs psycopg's client-side binding (Django's default): the
simple query protocol is the one that takes several statements. Anywhere else (inside a
transaction, where a failed INSERT must not abort the outer one; SQLite; server-side binding)
the entry is saved the ORM's way, in a savepoint or transaction of its own.
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
    with connection.cursor() as cursor:
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
    options = connection.settings_dict.get("OPTIONS", {})
    return (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and not options.get("server_side_binding")
    )


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
