"""When Redis fails under a running server (issue 18, item 4): provisioning and sign-in go on,
the password back-off keeps protecting accounts (counted in each process), /readyz says
"degraded" without taking the server out, and everything uses Redis again when it is back,
without a restart.

The test runs a Redis of its own on a free port and stops it, rather than the shared one at
127.0.0.1:6379 that other tests and people use.
"""

import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from accounts.models import User
from tests import factories
from tests.fault_servers import (
    Server,
    lines,
    redis_answers,
    scim,
    server_environment,
    start,
    stop,
)
from tests.test_two_servers import Browser, _free_port, _tenant

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="app servers share PostgreSQL; CI runs it"
    ),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]

MAX_FAILURES = 3
# One worker, so that the back-off's count is exact: with Redis down each worker process counts
# on its own, and the one process here must refuse after exactly MAX_FAILURES.
WORKERS = 1


class PrivateRedis:
    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.directory),
        ]  # fmt: skip
        self.process = subprocess.Popen(  # noqa: S603 (a fixed command)
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while not redis_answers(self.port):
            assert time.monotonic() < deadline, "the test's Redis did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def stored_keys(self) -> list[bytes]:
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as probe:
            probe.sendall(b"KEYS *\r\n")
            time.sleep(0.1)
            return re.findall(rb"\r\n([^$*\r\n][^\r\n]*)", probe.recv(65536))


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    private = PrivateRedis(tmp_path)
    private.start()
    try:
        yield private
    finally:
        private.stop()


@pytest.fixture
def server(redis: PrivateRedis, tmp_path: Path) -> Iterator[Server]:
    environment = server_environment(
        CACHE_URL=f"redis://127.0.0.1:{redis.port}/0",
        GUNICORN_WORKERS=str(WORKERS),
        SIGN_IN_MAX_FAILURES=str(MAX_FAILURES),
    )
    started = start(environment, tmp_path / "server.log")
    try:
        yield started
    finally:
        stop(started)


def _attempt(server: Server, password: str) -> int:
    browser = Browser()
    page = browser.send(f"{server.url}/sign-in/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    assert token is not None, page.body[:500]
    fields = {
        "csrfmiddlewaretoken": token.group(1).decode(),
        "organisation": "cache",
        "login": "admin@cache.test",
        "password": password,
    }
    return browser.form(f"{server.url}/sign-in/", fields).status


def _person(user_name: str) -> dict[str, object]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "emails": [{"value": user_name}],
    }


def test_with_redis_down_provisioning_and_sign_in_go_on_and_the_back_off_still_holds(server, redis):
    tenant = _tenant("cache")
    factories.user(tenant.organisation, "admin@cache.test")
    assert scim(tenant, server.url, "GET", "Users?count=1").status == 200
    assert any(b"scim-rate" in key for key in redis.stored_keys())  # the rate limit counts in Redis

    redis.stop()

    created = scim(tenant, server.url, "POST", "Users", _person("during@cache.test"))
    listed = scim(tenant, server.url, "GET", 'Users?filter=userName%20eq%20"during@cache.test"')
    ready = Browser().send(f"{server.url}/readyz")
    assert _attempt(server, factories.PASSWORD) == 302  # sign-in works without Redis
    # Wrong passwords: checked MAX_FAILURES times, then refused. Never unprotected.
    attempts = [_attempt(server, "wrong password") for _ in range(MAX_FAILURES + 3)]
    held = _attempt(server, factories.PASSWORD)

    assert created.status == 201, created.body[:300]
    assert listed.status == 200 and listed.json()["totalResults"] == 1
    assert ready.status == 200
    assert ready.json()["status"] == "degraded"
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok", "cache": "unreachable"}
    assert attempts == [200] * MAX_FAILURES + [429] * 3  # the form again, then refused
    assert held == 429
    assert User.objects.filter(username="during@cache.test").count() == 1

    redis.start()  # empty, as a restarted Redis without persistence is

    # Used again without a restart: the rate limit counts in Redis at once, /readyz is ok.
    assert scim(tenant, server.url, "GET", "Users?count=1").status == 200
    assert any(b"scim-rate" in key for key in redis.stored_keys())
    assert Browser().send(f"{server.url}/readyz").json()["status"] == "ok"
    log = server.output()
    assert 1 <= len(lines(log, "SCIM rate limits are off: the cache cannot be reached")) <= WORKERS
    assert len(lines(log, "Sign-in back-off counts in this process only")) <= WORKERS
    assert lines(log, "SCIM rate limits are on again: the cache answers.")
    # The first warning of each outage carries the client's error, once; no request fails.
    assert not lines(log, " ERROR "), log[-3000:]
