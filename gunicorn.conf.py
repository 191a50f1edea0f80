"""gunicorn's configuration for production: `gunicorn -c gunicorn.conf.py auzlearn.wsgi`.

Environment variables (all optional) tune it without editing the file: GUNICORN_BIND,
GUNICORN_WORKERS, GUNICORN_TIMEOUT, GUNICORN_GRACEFUL_TIMEOUT, GUNICORN_MAX_REQUESTS,
FORWARDED_ALLOW_IPS; TRUSTED_PROXY_COUNT is the project's own (auzlearn/settings.py).
README, Operations, says how each bears on an outage and a deploy.
"""

import ctypes
import os
import socket
import struct
from typing import Any

from gunicorn.workers.sync import SyncWorker  # type: ignore[import-untyped]  # no stubs


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: each request holds one worker and one database connection for its length,
# which the bounded database waits keep short. Two per core, plus one.
workers = _int("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1) + 1)

# The worker timeout must stay well above the web statement timeout (WEB_DB_STATEMENT_TIMEOUT_MS,
# 10 s) and lock timeout (3 s): a runaway statement or a lock wait is then stopped by the
# database and answered 503 with Retry-After, while a request killed here gets no answer at
# all. This is the last resort, never the usual way out.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On HUP (new code) or TERM (a deploy), a worker finishes the request it is serving before it
# stops, for up to this long; above `timeout`, so a request the worker timeout would allow is
# never cut by a graceful stop.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 35)
# Workers are replaced after this many requests (each finishes its last request first), so
# that slow growth of memory never needs a restart by hand; the jitter keeps them from all
# restarting at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max(1, max_requests // 10)
# No preload: each worker imports the application itself. Then `kill -HUP` of the master loads
# new code into new workers (with preload, HUP would fork the old code again), and no database
# connection or Redis socket opened during import is ever shared between forked workers.
preload_app = False

# Who may tell gunicorn the original scheme (X-Forwarded-Proto and the like). The project
# reads the proxy headers itself (TRUST_X_FORWARDED_PROTO, TRUSTED_PROXY_COUNT and
# accounts/client.py); gunicorn follows the same rule: with no trusted proxy, nobody; with
# some, the addresses in FORWARDED_ALLOW_IPS (the proxy's, on the same host by default).
_TRUSTED_PROXIES = _int("TRUSTED_PROXY_COUNT", 0)
forwarded_allow_ips = (
    os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1") if _TRUSTED_PROXIES > 0 else ""
)

# One access line per request, to stderr with the error log. The path without its query
# string (SAML messages, filters naming people and next= targets travel there), no headers
# (Authorization carries SCIM keys) and no cookies. The client's address is the peer's, and
# X-Forwarded-For beside it as the proxies sent it.
accesslog = "-"
errorlog = "-"
access_log_format = (
    '%(h)s fwd="%({x-forwarded-for}i)s" %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
)

# gunicorn's control socket (a fixed path in the home directory, one per user) is not used:
# signals do what it would (HUP to reload, TERM to stop, TTIN/TTOU for workers), and several
# servers on one host (a rolling deploy, the test suite) would fight over the one path.
control_socket_disable = True


# --- a stop that fails no request ------------------------------------------------------------
# On TERM, gunicorn closes the listening socket and lets each worker finish the request it is
# serving. Connections the kernel had already accepted into the socket's queue, which no worker
# took yet, would then be reset: requests a client sent and never got an answer to. So a
# stopping server first refuses new connections (a socket filter that drops every incoming
# packet: a client's connection attempt is retried by its TCP stack and then refused once the
# socket is closed, so it knows nothing was sent), and each worker serves what is queued before
# it exits. On HUP (reload) nothing changes: the socket stays open for the new workers.
# Linux only (SO_ATTACH_FILTER); elsewhere the stop is gunicorn's own.

_SO_ATTACH_FILTER = getattr(socket, "SO_ATTACH_FILTER", 26)
# One classic BPF instruction, "return 0": keep no byte of any packet.
_DROP_EVERYTHING = ctypes.create_string_buffer(struct.pack("HBBI", 0x06, 0, 0, 0))


def _refuse_new_connections(listener: socket.socket) -> None:
    program = struct.pack("HL", 1, ctypes.addressof(_DROP_EVERYTHING))
    try:
        listener.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER, program)
    except OSError:
        return  # not Linux, or not allowed: gunicorn's own stop


def _refusing(listener: socket.socket) -> bool:
    try:
        return listener.getsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER) > 0
    except OSError:
        return False


def on_starting(server: Any) -> None:
    """In the master: a graceful stop refuses new connections before it closes the socket."""
    stop = server.stop

    def stop_after_refusing_new_connections(graceful: bool = True) -> None:
        if graceful:
            for listener in server.LISTENERS:
                _refuse_new_connections(listener.sock)
        stop(graceful)

    server.stop = stop_after_refusing_new_connections


def worker_exit(server: Any, worker: Any) -> None:
    """In a stopping worker: serve the connections still queued on a socket that refuses new
    ones (only a stopping server's does), then exit."""
    if os.getpid() != worker.pid:
        return  # gunicorn also calls this in the master, for a worker that is already gone
    if not isinstance(worker, SyncWorker):
        return  # other worker classes serve connections their own way
    for listener in worker.sockets:
        if not _refusing(listener.sock):
            continue
        listener.sock.setblocking(False)
        while True:
            try:
                client, address = listener.sock.accept()
            except OSError:
                break  # the queue is empty
            client.setblocking(True)
            worker.handle(listener, client, address)
