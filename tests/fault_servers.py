"""What the fault tests share (tests/test_database_faults.py, test_cache_faults.py,
test_graceful_restart.py): a real gunicorn server started with the production configuration
(gunicorn.conf.py) on the test database, a switch that does to that database what an outage
does, and a steady SCIM push that retries the way Okta does and remembers what was
acknowledged.

The servers see the test's data because these tests commit (transactional_db), as in
tests/test_two_servers.py, whose HTTP client and SCIM helpers are reused.
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import psycopg.sql
from django.conf import settings
from django.db import connection

from tests.test_two_servers import ROOT, Answer, Browser, Tenant, _free_port

SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def redis_answers(port: int = 6379) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
            probe.sendall(b"PING\r\n")
            return probe.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def worker_pids(self) -> set[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return {int(pid) for pid in children.read_text().split()}


def server_environment(**overrides: str) -> dict[str, str]:
    database = connection.settings_dict
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.fault_settings",
        "DEBUG": "false",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        ),
        "CACHE_URL": f"redis://127.0.0.1:6379/0?key_prefix=faults-{secrets.token_hex(6)}",
        "PUBLIC_BASE_URL": settings.PUBLIC_BASE_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "SCIM_KEY_SECRET": settings.SCIM_KEY_SECRET,
        "GUNICORN_WORKERS": "2",
        # Short, so that the tests wait little; the production defaults are in settings.py.
        "WEB_DB_LOCK_TIMEOUT_MS": "1000",
        "WEB_DB_STATEMENT_TIMEOUT_MS": "3000",
        "LOG_LEVEL": "WARNING",
        **overrides,
    }
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return environment


def start(environment: dict[str, str], log: Path) -> Server:
    """gunicorn as the README runs it, `-c gunicorn.conf.py auzlearn.wsgi`, on a free port."""
    port = _free_port()
    environment = {**environment, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "auzlearn.wsgi"]
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            command, env=environment, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped at start:\n{log.read_text()[-3000:]}")
        try:
            if Browser().send(f"{server.url}/healthz").status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer:\n{log.read_text()[-3000:]}")


def stop(server: Server) -> None:
    if server.process.poll() is not None:
        return
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=45)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


class DatabaseSwitch:
    """Does to the test database what an outage does, from a connection of its own to the
    maintenance database. Only ever the test database (test_<name>), and every change is undone
    by ``restore``, which the tests call in a finally block."""

    def __init__(self) -> None:
        self.name = connection.settings_dict["NAME"]
        assert self.name.startswith("test_"), self.name  # never anyone else's database
        connection.ensure_connection()
        assert connection.connection is not None
        # The test's own connection survives every cut: the tests read the outcome through it.
        self.keep = connection.connection.info.backend_pid
        database = connection.settings_dict
        self.control = psycopg.connect(
            host=database["HOST"],
            port=database["PORT"],
            user=database["USER"],
            dbname="postgres",
            autocommit=True,
        )
        self.quoted = psycopg.sql.Identifier(self.name)

    def _alter(self, clause: str) -> None:
        statement = psycopg.sql.SQL("ALTER DATABASE {} " + clause).format(self.quoted)
        self.control.execute(statement)

    @staticmethod
    def connect_to_test_database(**options: Any) -> psycopg.Connection[Any]:
        database = connection.settings_dict
        return psycopg.connect(
            host=database["HOST"],
            port=database["PORT"],
            user=database["USER"],
            dbname=database["NAME"],
            **options,
        )

    def lock_table(self, table: str) -> psycopg.Connection[Any]:
        """A connection holding an ACCESS EXCLUSIVE lock on ``table`` (a migration's ALTER
        TABLE, a VACUUM FULL) until it is closed."""
        holder = self.connect_to_test_database()
        holder.execute(
            psycopg.sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                psycopg.sql.Identifier(table)
            )
        )
        return holder

    def cut(self) -> None:
        """Close the servers' connections, as a restart or a failover does."""
        self.control.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> %s AND pid <> pg_backend_pid()",
            [self.name, self.keep],
        )

    def refuse_connections(self) -> None:
        self._alter("ALLOW_CONNECTIONS false")
        self.cut()

    def read_only(self) -> None:
        self._alter("SET default_transaction_read_only = on")
        self.cut()

    def restore(self) -> None:
        self._alter("ALLOW_CONNECTIONS true")
        self._alter("RESET default_transaction_read_only")
        self.cut()  # read-only sessions would keep their setting

    def close(self) -> None:
        self.control.close()


@dataclass
class Push:
    """Clients creating people one after another, as Okta pushes new assignments: a 503 or a
    connection that fails is retried (the same person) after a short pause; a 409 on a retry
    means an earlier, unclear attempt was stored. Everything is recorded."""

    tenant: Tenant
    server_url: str
    clients: int = 4
    retry_pause: float = 0.2
    answers: list[tuple[float, str, int, dict[str, str], bytes]] = field(default_factory=list)
    errors: list[tuple[float, str, str]] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    prefix: str = field(default_factory=lambda: secrets.token_hex(3))
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> "Push":
        for number in range(self.clients):
            thread = threading.Thread(target=self._client, args=(number,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _client(self, number: int) -> None:
        serial = 0
        while not self._stop.is_set():
            serial += 1
            user_name = f"push-{self.prefix}-{number}-{serial}@faults.test"
            self._create(user_name)

    def _create(self, user_name: str) -> None:
        document = {
            "schemas": [USER_SCHEMA],
            "userName": user_name,
            "name": {"givenName": "Push", "familyName": "Test"},
            "emails": [{"value": user_name, "primary": True}],
            "active": True,
        }
        retried = False
        while True:
            try:
                answer = scim(self.tenant, self.server_url, "POST", "Users", document)
            except (urllib.error.URLError, OSError) as error:
                with self._lock:
                    self.errors.append((time.monotonic(), user_name, repr(error)))
                if self._stop.is_set():
                    return  # given up while unclear: neither acknowledged nor counted as lost
                retried = True
                time.sleep(self.retry_pause)
                continue
            with self._lock:
                self.answers.append(
                    (time.monotonic(), user_name, answer.status, answer.headers, answer.body)
                )
            if answer.status == 201 or (answer.status == 409 and retried):
                with self._lock:
                    self.acknowledged.append(user_name)
                return
            if answer.status in (503, 429) and not self._stop.is_set():
                retried = True
                time.sleep(self.retry_pause)
                continue
            return  # anything else is recorded, and the test looks at it

    def statuses(self) -> list[int]:
        with self._lock:
            return [status for _, _, status, _, _ in self.answers]

    def wait_for(self, status: int, *, after: float, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if any(at > after and code == status for at, _, code, _, _ in self.answers):
                    return
            time.sleep(0.05)
        raise AssertionError(f"no {status} after the moment asked for: {self.statuses()[-20:]}")


def scim(tenant: Tenant, url: str, method: str, path: str, document: Any = None) -> Answer:
    body = json.dumps(document).encode() if document is not None else None
    headers = {"Authorization": f"Bearer {tenant.key}", "Content-Type": "application/scim+json"}
    return Browser().send(f"{url}{tenant.base}/{path}", method=method, body=body, headers=headers)


def lines(log: str, text: str) -> list[str]:
    return [line for line in log.splitlines() if text in line]


def scim_error(answer: Answer) -> dict[str, Any]:
    assert answer.headers.get("Content-Type", "").startswith("application/scim+json"), answer
    document: dict[str, Any] = answer.json()
    assert document["schemas"] == [SCIM_ERROR]
    return document
