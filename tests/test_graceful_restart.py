"""`kill -HUP` (new code) and `kill -TERM` (a rolling deploy) of the gunicorn master under a
steady SCIM push (issue 18, item 6): no request fails, none is lost.

The server runs as the README says (gunicorn.conf.py). On HUP the master starts new workers
(loading the code anew: no preload) and lets the old ones finish what they are serving; the
listening socket stays open all along, so not one request even fails to connect. On TERM the
master stops listening and the workers finish the requests they hold (graceful_timeout): a
client then finds the port closed (a load balancer sends it to another server) but never gets
an error or a cut answer for a request the server took.
"""

import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from accounts.models import User
from tests.fault_servers import Push, Server, redis_answers, server_environment, start, stop
from tests.test_two_servers import _tenant

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="app servers share PostgreSQL; CI runs it"
    ),
    pytest.mark.skipif(not redis_answers(), reason="needs Redis at 127.0.0.1:6379 (.ci/run)"),
]


@pytest.fixture
def server(transactional_db: None, tmp_path: Path) -> Iterator[Server]:
    started = start(server_environment(), tmp_path / "server.log")
    try:
        yield started
    finally:
        stop(started)


def _wait(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _stored_once(push: Push) -> None:
    stored = Counter(
        User.objects.filter(username__startswith=f"push-{push.prefix}-").values_list(
            "username", flat=True
        )
    )
    assert push.acknowledged
    assert all(stored[name] == 1 for name in push.acknowledged)
    assert max(stored.values()) == 1


def test_hup_and_term_under_a_steady_scim_push_fail_nothing_and_lose_nothing(server):
    tenant = _tenant("graceful")
    old_workers = server.worker_pids()

    with Push(tenant, server.url) as push:
        push.wait_for(201, after=0)
        server.process.send_signal(signal.SIGHUP)
        reloaded = time.monotonic()
        # New workers take over, the old ones finish and leave.
        _wait(lambda: len(server.worker_pids()) == 2 and not server.worker_pids() & old_workers)
        push.wait_for(201, after=time.monotonic())
        during_reload = len(push.answers)
        errors_during_reload = list(push.errors)

        server.process.send_signal(signal.SIGTERM)
        stopping = time.monotonic()
        server.process.wait(timeout=60)
        stopped = time.monotonic()
        time.sleep(0.3)

    assert errors_during_reload == [], errors_during_reload[:3]
    assert during_reload > 0
    assert [s for s in push.statuses() if s != 201] == [], Counter(push.statuses())
    assert any(at > reloaded for at, *_ in push.answers)
    # After TERM: only refused connections, once the port closed; no answer cut, no reset.
    for at, _, error in push.errors:
        assert at >= stopping, error
        assert "Connection refused" in error, error
    assert server.process.returncode == 0
    assert stopped - stopping < 30
    _stored_once(push)
    log = server.output()
    assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
