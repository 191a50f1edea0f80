"""A request's first read on a kept database connection, without Django's health check.

With CONN_HEALTH_CHECKS (auzlearn/config.py) Django sends ``SELECT 1`` before the first query of
every request on a connection kept from an earlier one: a connection PostgreSQL dropped in the
meantime (a restart, a failover, an idle timeout) is then replaced before the request uses it.
That is one round trip more on every request, a fifth of a SCIM lookup's (bench/README.md,
issue 15). ``first_read`` gets the same guarantee for a read: it runs the read at once, and only
when the read fails on a connection that turns out to be dead does it open a new one and run the
read again. A read is safe to run twice; a write would not be, so only reads go through here.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

T = TypeVar("T")


def first_read(read: Callable[[], T], using: str = DEFAULT_DB_ALIAS) -> T:
    """``read()``, standing in for the health check the connection is due (if it is due one)."""
    # Any: django-stubs do not declare the health-check attributes (Django 4.1+ has them).
    connection: Any = connections[using]
    due = (
        connection.connection is not None
        and connection.health_check_enabled
        and not connection.health_check_done
        and not connection.in_atomic_block
    )
    if not due:
        return read()
    connection.health_check_done = True
    try:
        return read()
    except (OperationalError, InterfaceError):
        # What Django would have found before the read: a dead connection. Anything else
        # (a timeout, a live server refusing the query) is the read's own error.
        if connection.is_usable():
            raise
        connection.close()
        return read()
