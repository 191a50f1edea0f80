"""When PostgreSQL fails under a running server (issue 18): a clear "try again", bounded waits,
nothing lost.

A real gunicorn server (gunicorn.conf.py, two workers, connections kept open) serves the test
database while a steady SCIM push runs and the database is cut away from it: new connections
refused and the open ones terminated, switched read-only (a failover), and a table locked by
another connection. Each test asserts what clients see (statuses, Retry-After, SCIM Error
bodies, the plain pages), what the log says (once, no tracebacks), and that every write
acknowledged before, during and after is stored exactly once.

The classifier (auzlearn/db_faults.py) is tested on the errors the real database raises.
"""

import re
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from accounts.models import User
from auzlearn import db_faults
from auzlearn.db_faults import Fault
from scim.models import ScimKey, ScimRequest
from tests import factories
from tests.fault_servers import (
    DatabaseSwitch,
    Push,
    Server,
    lines,
    redis_answers,
    scim,
    scim_error,
    server_environment,
    start,
    stop,
)
from tests.sso.idp import okta_idp
from tests.test_two_servers import Browser, Tenant, _tenant

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the faults are PostgreSQL's; CI runs PostgreSQL"
)
live = pytest.mark.skipif(not redis_answers(), reason="needs Redis at 127.0.0.1:6379 (.ci/run)")
pytestmark = [postgresql_only]


@pytest.fixture
def server(transactional_db: None, tmp_path: Path) -> Iterator[Server]:
    started = start(server_environment(), tmp_path / "server.log")
    try:
        yield started
    finally:
        stop(started)


@pytest.fixture
def switch(transactional_db: None) -> Iterator[DatabaseSwitch]:
    database = DatabaseSwitch()
    try:
        yield database
    finally:
        database.restore()
        database.close()


def _stored_once(push: Push) -> None:
    """Every acknowledged person is stored exactly once; nothing else was pushed in."""
    assert push.acknowledged, push.statuses()
    stored = Counter(
        User.objects.filter(username__startswith=f"push-{push.prefix}-").values_list(
            "username", flat=True
        )
    )
    assert all(stored[name] == 1 for name in push.acknowledged), stored.most_common(3)
    assert max(stored.values()) == 1


def _assert_503(answer, detail: str) -> None:
    assert answer.status == 503, answer.body[:500]
    assert answer.headers["Retry-After"] == str(db_faults.RETRY_AFTER_SECONDS)
    document = scim_error(answer)
    assert document["status"] == "503"
    assert detail in document["detail"]


def _sign_in(server: Server, person_name: str) -> Browser:
    browser = Browser()
    page = browser.send(f"{server.url}/sign-in/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    assert token is not None, page.body[:500]
    fields = {
        "csrfmiddlewaretoken": token.group(1).decode(),
        "organisation": "faults",
        "login": person_name,
        "password": factories.PASSWORD,
    }
    assert browser.form(f"{server.url}/sign-in/", fields).status == 302
    return browser


def _plain_503(answer, heading: bytes) -> None:
    assert answer.status == 503, answer.body[:500]
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.headers["Retry-After"] == str(db_faults.RETRY_AFTER_SECONDS)
    assert heading in answer.body
    assert b"Traceback" not in answer.body and b"psycopg" not in answer.body


def _no_tracebacks(server: Server) -> None:
    log = server.output()
    assert "Traceback" not in log, log[-3000:]
    assert not lines(log, "Internal Server Error"), log[-3000:]


# --- the database refuses connections --------------------------------------------------------


@live
def test_a_database_that_refuses_connections_gets_503s_and_loses_nothing(server, switch):
    tenant = _tenant("faults")
    person = factories.user(tenant.organisation, "lee@faults.test")
    signed_in = _sign_in(server, person.username)

    with Push(tenant, server.url) as push:
        push.wait_for(201, after=0)
        switch.refuse_connections()
        cut = time.monotonic()
        push.wait_for(503, after=cut)

        listed = scim(tenant, server.url, "GET", "Users?count=5")
        page = signed_in.send(f"{server.url}/")
        alive = Browser().send(f"{server.url}/healthz")
        ready = Browser().send(f"{server.url}/readyz")
        time.sleep(1)

        switch.restore()
        back = time.monotonic()
        push.wait_for(201, after=back)
        time.sleep(0.5)

    _assert_503(listed, "temporarily unavailable (its database cannot be reached)")
    _plain_503(page, b"Temporarily unavailable")
    assert alive.status == 200 and alive.json() == {"status": "ok"}
    assert ready.status == 503
    assert ready.json()["checks"]["database"] == "unreachable"
    # What the push saw: created, or told to retry; never a 500, never a dropped connection.
    assert set(push.statuses()) <= {201, 409, 503}, Counter(push.statuses())
    assert not push.errors, push.errors[:3]
    for _, _, status, headers, body in push.answers:
        if status == 503:
            assert headers["Retry-After"] == str(db_faults.RETRY_AFTER_SECONDS)
            assert b"temporarily unavailable" in body
    _stored_once(push)
    # The log: once per worker when it started and when it ended; no traceback per request.
    log = server.output()
    started = lines(log, "Requests answered 503: the database is unavailable")
    ended = lines(log, "Requests answered 503: the database works again (it was unavailable")
    assert 1 <= len(started) <= 2, log[-3000:]
    assert 1 <= len(ended) <= 2, log[-3000:]
    _no_tracebacks(server)
    # The signed-in person's next page works again, without signing in again.
    assert signed_in.send(f"{server.url}/").status == 200


# --- the database turns read-only (a failover) -------------------------------------------------


@live
def test_a_read_only_database_keeps_reads_going_and_refuses_writes_with_503(server, switch):
    tenant = _tenant("faults")
    person = factories.user(tenant.organisation, "lee@faults.test")
    signed_in = _sign_in(server, person.username)
    created = scim(tenant, server.url, "POST", "Users", _person("first@faults.test"))
    assert created.status == 201
    user_id = created.json()["id"]
    # The key's last use is due to be written on the next request: a read must not need it.
    ScimKey.objects.filter(organisation=tenant.organisation).update(last_used_at=None)
    logged_before = ScimRequest.objects.count()
    idp, saml, assertion = _assertion(tenant, person.username)

    with Push(tenant, server.url, clients=2) as push:
        push.wait_for(201, after=0)
        switch.read_only()
        cut = time.monotonic()
        push.wait_for(503, after=cut)

        reads = [
            scim(tenant, server.url, "GET", "Users?startIndex=1&count=2"),
            scim(tenant, server.url, "GET", 'Users?filter=userName%20eq%20"first@faults.test"'),
            scim(tenant, server.url, "GET", f"Users/{user_id}"),
            scim(tenant, server.url, "GET", "Groups"),
        ]
        write = scim(tenant, server.url, "POST", "Users", _person("during@faults.test"))
        change = scim(
            tenant,
            server.url,
            "PATCH",
            f"Users/{user_id}",
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "value": {"active": False}}],
            },
        )
        home = signed_in.send(f"{server.url}/")
        acs = Browser().form(f"{server.url}{_path(saml.acs_url)}", idp.post_form(assertion))
        logged_during = ScimRequest.objects.count()

        switch.restore()
        back = time.monotonic()
        push.wait_for(201, after=back)

    assert [answer.status for answer in reads] == [200, 200, 200, 200], reads[0].body[:300]
    assert reads[1].json()["totalResults"] == 1
    _assert_503(write, "reading users and groups still works")
    _assert_503(change, "reading users and groups still works")
    assert home.status == 200  # a signed-in page is a read too
    # The ACS cannot record the assertion in the replay store, so it accepts nothing...
    _plain_503(acs, b"Sign-in not completed: please try again")
    assert "Set-Cookie" not in acs.headers or "sessionid" not in acs.headers["Set-Cookie"]
    # ...and the same assertion, posted again once the database takes writes, signs in.
    again = Browser().form(f"{server.url}{_path(saml.acs_url)}", idp.post_form(assertion))
    assert again.status == 302, again.body[:500]

    assert not User.objects.filter(username="during@faults.test").exists()
    assert User.objects.get(public_id=user_id).is_active  # the PATCH changed nothing
    assert set(push.statuses()) <= {201, 409, 503} and not push.errors
    _stored_once(push)
    # Skipped, not kept for later: reads during the switch wrote no log entry; later ones do.
    assert logged_during - logged_before <= push.statuses().count(201) + 1
    assert scim(tenant, server.url, "GET", "Users?count=1").status == 200
    assert ScimRequest.objects.filter(method="GET", status=200).exists()
    log = server.output()
    assert 1 <= len(lines(log, "Requests answered 503: the database is read-only")) <= 2, log
    assert len(lines(log, "SCIM request log entries skipped: the database is read-only")) <= 2
    _no_tracebacks(server)


def _person(user_name: str) -> dict[str, object]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "emails": [{"value": user_name, "primary": True}],
    }


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path


def _assertion(tenant: Tenant, user_name: str):
    idp = okta_idp()
    saml = factories.saml_connection(tenant.organisation, idp)
    xml = idp.response(
        acs_url=saml.acs_url,
        audience=saml.sp_entity_id,
        name_id=user_name,
        attributes=idp.default_attributes("Lee", "Learner", user_name),
    )
    return idp, saml, xml


# --- a table locked by another connection ------------------------------------------------------


@live
def test_a_locked_table_answers_503_within_the_lock_timeout(server):
    tenant = _tenant("faults")
    assert scim(tenant, server.url, "GET", "Users?count=1").status == 200
    database = DatabaseSwitch()
    holder = database.lock_table(User._meta.db_table)
    try:
        began = time.monotonic()
        write = scim(tenant, server.url, "POST", "Users", _person("locked@faults.test"))
        # A filter reads the locked table itself (an unfiltered list of an empty organisation
        # answers from its count alone and never touches it).
        read = scim(
            tenant,
            server.url,
            "GET",
            "Users?filter=" + urllib.parse.quote('userName eq "x@y.test"'),
        )
        waited = time.monotonic() - began
    finally:
        holder.close()  # the lock goes with its transaction
        database.close()

    # WEB_DB_LOCK_TIMEOUT_MS is 1 s on this server: two requests, each stopped after about 1 s.
    assert waited < 6, waited
    _assert_503(write, "waited too long for a busy database")
    _assert_503(read, "waited too long for a busy database")
    assert not User.objects.filter(username="locked@faults.test").exists()
    assert scim(tenant, server.url, "POST", "Users", _person("locked@faults.test")).status == 201
    _no_tracebacks(server)


# --- the classifier, on the real database's errors ----------------------------------------------


def _error_of(*statements: str) -> DatabaseError:
    with pytest.raises(DatabaseError) as raised, transaction.atomic(), connection.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
    return raised.value


@pytest.mark.django_db
def test_a_statement_timeout_is_timed_out():
    error = _error_of("SET LOCAL statement_timeout = 50", "SELECT pg_sleep(1)")
    assert db_faults.classify(error) is Fault.TIMED_OUT


@pytest.mark.django_db
def test_a_write_in_a_read_only_transaction_is_read_only():
    error = _error_of("SET TRANSACTION READ ONLY", "CREATE TEMPORARY TABLE t (x int)")
    assert db_faults.classify(error) is Fault.READ_ONLY


@pytest.mark.django_db
def test_bad_sql_and_broken_constraints_are_not_faults():
    assert db_faults.classify(_error_of("SELECT * FROM no_such_table")) is None
    assert db_faults.classify(_error_of("SELECT 1/0")) is None


@pytest.mark.django_db(transaction=True)
def test_a_lock_timeout_and_a_terminated_connection_are_told_apart():
    database = DatabaseSwitch()
    holder = database.lock_table(User._meta.db_table)
    try:
        error = _error_of("SET LOCAL lock_timeout = 100", "SELECT 1 FROM accounts_user")
        assert db_faults.classify(error) is Fault.TIMED_OUT
        other = DatabaseSwitch.connect_to_test_database()
        database.control.execute("SELECT pg_terminate_backend(%s)", [other.info.backend_pid])
        with pytest.raises(Exception) as cut:
            other.execute("SELECT 1")
        assert db_faults.classify(cut.value) is Fault.UNAVAILABLE
        with pytest.raises(Exception) as closed:
            other.execute("SELECT 1")
        assert db_faults.classify(closed.value) is Fault.UNAVAILABLE
    finally:
        holder.close()
        database.close()


@pytest.mark.django_db(transaction=True)
def test_a_database_that_refuses_connections_is_unavailable(switch):
    switch.refuse_connections()
    with pytest.raises(Exception) as refused:
        DatabaseSwitch.connect_to_test_database()
    assert db_faults.classify(refused.value) is Fault.UNAVAILABLE
