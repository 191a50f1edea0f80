"""The request log's INSERT in one round trip to PostgreSQL.

Every SCIM request writes one log entry, whose commit need not wait for the disk (scim.api says
why). Through the ORM that costs four round trips: BEGIN, SET LOCAL synchronous_commit, the
INSERT, COMMIT. Sent as one query string, ``SET LOCAL synchronous_commit TO OFF; INSERT ...``,
PostgreSQL runs both statements in one implicit transaction, which commits without waiting for
the WAL and leaves the session's setting as it was: one round trip, the same durability. It
saved three of the eight round trips of a userName lookup (bench/README.md, issue 15).

The INSERT itself is the ORM's, compiled from the model's fields once
(auzlearn/compiled_inserts.py), so it stays what ``save()`` would send; the one-string form
needs psycopg's client-side binding (auzlearn/one_trip_inserts.py). Anywhere else (inside a
transaction, where a failed INSERT must not abort the outer one; SQLite) the entry is saved the
ORM's way, in a savepoint or transaction of its own.
"""

from django.db import connection, transaction

from auzlearn.compiled_inserts import insert_sql
from auzlearn.one_trip_inserts import client_side_binding_cursor
from scim.models import ScimRequest

WITHOUT_WAITING_FOR_DISK = "SET LOCAL synchronous_commit TO OFF"


def insert(entry: ScimRequest) -> None:
    """Write ``entry`` (not saved yet); its ``pk`` is set afterwards, as by ``save()``."""
    if not _one_round_trip():
        with transaction.atomic():
            without_waiting_for_disk()
            entry.save(force_insert=True)
        return
    sql, params = insert_sql([entry], returning_pk=True)
    with client_side_binding_cursor() as cursor:
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
