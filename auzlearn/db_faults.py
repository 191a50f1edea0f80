"""What a database error means for the client: the one place that tells a passing fault of the
database (worth a 503 with Retry-After, which Okta and Entra retry by themselves) from a bug
(a 500, logged with its traceback).

Errors are told apart by their SQLSTATE, which psycopg gives for every error the server sent;
message texts change between PostgreSQL versions and languages. An error without one is the
driver's own: the connection could not be opened or was lost, so the server is unreachable.
SQLite (local runs and part of CI) has no SQLSTATE; its error names say the same things.

``Outage`` logs a fault once when it starts and once when it ends, per process: an outage seen
by every request must not log a traceback per request. The state is process-local on purpose
(each gunicorn worker says it once); nothing else depends on it.
"""

import enum
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import DatabaseError, transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Fault(enum.Enum):
    # The database cannot be reached: refused, cut, shutting down, in recovery, out of slots.
    UNAVAILABLE = "unavailable"
    # It answers reads and refuses writes: a standby after a failover, a database set read-only.
    READ_ONLY = "read-only"
    # A lock or a statement took longer than this process lets it (lock_timeout,
    # statement_timeout; auzlearn/db_timeouts.py).
    TIMED_OUT = "timed out"
    # PostgreSQL aborted the transaction to resolve a conflict (deadlock, serialization): run
    # again, it finds the rows free (scim/transactions.py).
    CONFLICT = "conflict"


# Seconds a client is told to wait before retrying: long enough for a failover or a lock to
# clear, short enough that Okta's and Entra's own back-off stays the one that matters.
RETRY_AFTER_SECONDS = 5

_BY_SQLSTATE = {
    "57P01": Fault.UNAVAILABLE,  # admin_shutdown (also: a backend terminated)
    "57P02": Fault.UNAVAILABLE,  # crash_shutdown
    "57P03": Fault.UNAVAILABLE,  # cannot_connect_now (starting up, in recovery)
    "57P04": Fault.UNAVAILABLE,  # database_dropped
    "53300": Fault.UNAVAILABLE,  # too_many_connections
    "53100": Fault.UNAVAILABLE,  # disk_full
    "53200": Fault.UNAVAILABLE,  # out_of_memory
    "25006": Fault.READ_ONLY,  # read_only_sql_transaction
    "55P03": Fault.TIMED_OUT,  # lock_not_available (lock_timeout, NOWAIT)
    "57014": Fault.TIMED_OUT,  # query_canceled (statement_timeout)
    "40001": Fault.CONFLICT,  # serialization_failure
    "40P01": Fault.CONFLICT,  # deadlock_detected
}
# Class 08 is "connection exception" as a whole.
_SQLSTATE_CLASSES = {"08": Fault.UNAVAILABLE}

_BY_SQLITE_ERROR = {
    "SQLITE_BUSY": Fault.TIMED_OUT,
    "SQLITE_LOCKED": Fault.TIMED_OUT,
    "SQLITE_READONLY": Fault.READ_ONLY,
    "SQLITE_CANTOPEN": Fault.UNAVAILABLE,
}


def classify(error: BaseException | None) -> Fault | None:
    """The fault ``error`` reports, or None when it is not a passing fault of the database
    (a bug, a constraint, bad SQL: those stay 500s or the caller's own errors)."""
    seen = 0
    while error is not None and seen < 5:
        fault = _classify_one(error)
        if fault is not None:
            return fault
        error = error.__cause__ or error.__context__
        seen += 1
    return None


def _classify_one(error: BaseException) -> Fault | None:
    if isinstance(error, sqlite3.Error):
        return _BY_SQLITE_ERROR.get(getattr(error, "sqlite_errorname", ""))
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        return _BY_SQLSTATE.get(sqlstate) or _SQLSTATE_CLASSES.get(sqlstate[:2])
    if _is_driver_error(error) and type(error).__name__ in ("OperationalError", "InterfaceError"):
        # psycopg's own OperationalError/InterfaceError without a SQLSTATE: the connection could
        # not be opened ("connection refused", "not currently accepting connections") or is
        # gone ("the connection is closed"). Its subclasses all carry a SQLSTATE.
        return Fault.UNAVAILABLE
    return None


def _is_driver_error(error: BaseException) -> bool:
    return type(error).__module__.split(".")[0] == "psycopg"


class Outage:
    """Says once when a fault starts and once when it ends, per process.

    An outage ends when the database does again what the fault prevented: any statement for an
    unreachable database, a write for a read-only one (``observe``, on every connection). Lock
    and statement timeouts and conflicts come and go with each request rather than with the
    database, so they are summed up at most once a minute instead."""

    def __init__(self, log: logging.Logger, what: str) -> None:
        self.log = log
        self.what = what  # what the fault costs, e.g. "SCIM request log entries skipped"
        self.faults: dict[Fault, float] = {}  # fault -> when it was logged (monotonic)
        self.counts: dict[Fault, int] = {}
        self._lock = threading.Lock()
        _outages.append(self)

    def failed(self, fault: Fault, error: BaseException) -> None:
        moment = time.monotonic()
        with self._lock:
            self.counts[fault] = self.counts.get(fault, 0) + 1
            logged = self.faults.get(fault)
            if logged is not None and (fault in _OUTAGES or moment - logged < _EPISODE_SECONDS):
                return
            count = self.counts[fault]
            self.faults[fault] = moment
            self.counts[fault] = 0 if fault not in _OUTAGES else count
        if fault in _OUTAGES:
            self.log.warning("%s: the database is %s (%s).", self.what, fault.value, _brief(error))
        else:
            self.log.warning(
                "%s: database %s, %d time(s) in the last minute in this process (%s).",
                self.what,
                fault.value,
                count,
                _brief(error),
            )

    def recovered(self, *, wrote: bool) -> None:
        if Fault.UNAVAILABLE not in self.faults and Fault.READ_ONLY not in self.faults:
            return  # the usual case: nothing to say, no lock taken
        ended = {Fault.UNAVAILABLE, Fault.READ_ONLY} if wrote else {Fault.UNAVAILABLE}
        with self._lock:
            over = {fault: self.counts.get(fault, 0) for fault in ended if fault in self.faults}
            for fault in over:
                del self.faults[fault]
                self.counts.pop(fault, None)
        for fault, count in over.items():
            self.log.warning(
                "%s: the database works again (it was %s; %d time(s) in this process).",
                self.what,
                fault.value,
                count,
            )


# Faults of the database itself, which end when it works again; the others are per request.
_OUTAGES = {Fault.UNAVAILABLE, Fault.READ_ONLY}
_EPISODE_SECONDS = 60.0
_outages: list[Outage] = []
_WRITES = ("INSERT", "UPDATE", "DELETE")


def _brief(error: BaseException) -> str:
    # The error's text, not its traceback: it names the cause (which server, which state).
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:300]}"


def observe(execute: Callable[..., T], sql: str, params: object, many: bool, context: object) -> T:
    """An execute wrapper on every connection (auzlearn/db_timeouts.py installs it): a
    statement that succeeds ends the outages it proves over. One comparison per statement
    while nothing is wrong."""
    result = execute(sql, params, many, context)
    if any(outage.faults.keys() & _OUTAGES for outage in _outages):
        wrote = sql.lstrip()[:6].upper() in _WRITES
        for outage in _outages:
            outage.recovered(wrote=wrote)
    return result


# Requests answered 503 because of the database, for the whole process (auzlearn/unavailable.py
# and the SCIM handler).
requests = Outage(logger, "Requests answered 503")


def skip_if_unwritable(work: Callable[[], T], *, default: T, outage: Outage) -> T:
    """Run a write that only records something (a last-used time, a log line) in its own
    savepoint; when the database cannot take it (read-only, unreachable, locked) skip it with
    ``default`` and say so once per outage, so that a read never fails for want of a write."""
    try:
        with transaction.atomic():
            return work()
    except DatabaseError as error:
        fault = classify(error)
        if fault is None:
            raise
        outage.failed(fault, error)
        return default
