"""The transaction of a SCIM write, run again when PostgreSQL aborts it to resolve a conflict."""

from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, transaction

from auzlearn import db_faults
from auzlearn.db_faults import Fault
from scim.errors import ScimError

T = TypeVar("T")

ATTEMPTS = 3
# Conflicts (deadlock_detected, serialization_failure: auzlearn/db_faults.py) are resolved by
# PostgreSQL aborting one transaction: nothing of it was committed, so it can simply run again.
BUSY = (
    "This change collided with other changes made at the same moment and was not applied. "
    "Retry the request; nothing was changed."
)


def write(work: Callable[[], T]) -> T:
    """Run ``work`` in one transaction, up to ATTEMPTS times.

    Two app servers can lock the same rows in opposite orders: a person deleted while a team
    PATCH takes them out, each request then touching the other's row to move its version
    (accounts.versions). PostgreSQL notices within a second and aborts one of them; that one is
    run again here, and finds the rows free. Should it keep colliding, the client gets a 503
    with Retry-After, which Okta and Entra retry by themselves. ``work`` must read everything
    it writes from the database itself, so that a second run starts from what is committed."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction.atomic():
                return work()
        except OperationalError as error:
            if not is_conflict(error):
                raise
            if attempt == ATTEMPTS:
                db_faults.requests.failed(Fault.CONFLICT, error)  # once a minute, with a count
                raise ScimError(503, BUSY, retry_after=1) from error
    raise AssertionError("unreachable")  # the loop returns or raises


def is_conflict(error: OperationalError) -> bool:
    return db_faults.classify(error) is Fault.CONFLICT
