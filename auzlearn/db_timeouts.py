"""Bounded waits on PostgreSQL: every connection starts with a lock timeout, and a web request's
with a statement timeout too.

A web request that waits for a lock (a migration's ALTER TABLE, a VACUUM FULL, a long admin
query) or runs a statement past its timeout is stopped by PostgreSQL and answered 503 with
Retry-After (auzlearn/unavailable.py) within seconds, long before gunicorn's worker timeout
(gunicorn.conf.py) would kill the worker and leave the client without any answer.

The values travel in libpq's ``options`` (``-c lock_timeout=…``), so they cost no statement:
they are set as each connection opens. Settings (auzlearn/settings.py, through
auzlearn.config.set_timeouts) give every connection the management commands' values
(``COMMAND_DB_LOCK_TIMEOUT_MS``, and no statement timeout: a migration or a prune may run
long, but must not queue everyone behind a lock it is waiting for), and the WSGI application
(auzlearn/wsgi.py) replaces them with the web values before its first connection
(``WEB_DB_LOCK_TIMEOUT_MS``, ``WEB_DB_STATEMENT_TIMEOUT_MS``).
"""

from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

from auzlearn import db_faults
from auzlearn.config import set_timeouts


def use_for_web_requests(*, lock_timeout_ms: int, statement_timeout_ms: int) -> None:
    """The web process's values, for every connection it opens from now on (any connection
    already open is closed, so that none keeps the commands' values)."""
    set_timeouts(
        connections.settings,
        lock_timeout_ms=lock_timeout_ms,
        statement_timeout_ms=statement_timeout_ms,
    )
    connections.close_all()
    watch_connections()


def watch_connections() -> None:
    """Every connection reports the statements that succeed to db_faults, which is how a
    process learns that an outage is over (one comparison per statement while nothing is
    wrong)."""
    connection_created.connect(_observe, dispatch_uid="auzlearn.db_faults.observe")
    for connection in connections.all(initialized_only=True):
        _observe(connection=connection)


def _observe(connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if db_faults.observe not in connection.execute_wrappers:
        connection.execute_wrappers.append(db_faults.observe)
