"""Two app servers, one PostgreSQL database and one Redis (DESIGN §8): what one server knows, the
other knows too, because nothing that must be shared lives in a process.

Two real gunicorn servers run the product against the test database (the tests here commit, so
the servers see their data) and one Redis cache, and the tests talk to them over HTTP:

- a SAML assertion accepted by one server is refused by the other (the replay store);
- a revoked SCIM key stops on both at once;
- the password back-off and the SCIM rate limit count requests sent to both;
- concurrent SCIM writes spread over both make no duplicates.
"""

import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from accounts import services
from accounts.models import Organisation, Team, User
from scim import keys
from sso.models import SignInAttempt
from tests import factories
from tests.sso.idp import okta_idp

ROOT = Path(__file__).resolve().parent.parent
REDIS = ("127.0.0.1", 6379)
SCIM_LIMIT = 12  # per organisation and minute, low enough to reach in a test


def _redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1) as probe:
            probe.sendall(b"PING\r\n")
            return probe.recv(16).startswith(b"+PONG")
    except OSError:
        return False


pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="app servers share a PostgreSQL database in production; CI runs PostgreSQL",
    ),
    pytest.mark.skipif(not _redis_answers(), reason="needs Redis at 127.0.0.1:6379 (.ci/run)"),
]


# --- the servers ------------------------------------------------------------------------------


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer to look at, not to follow


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Browser:
    """One HTTP client with its own cookies, speaking to any of the servers."""

    cookies: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def send(
        self,
        url: str,
        *,
        method: str = "GET",
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        opener = urllib.request.build_opener(
            NoRedirects, urllib.request.HTTPCookieProcessor(self.cookies)
        )
        assert url.startswith("http://127.0.0.1:")  # only our own servers
        request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310
        try:
            with opener.open(request, timeout=30) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read())

    def form(self, url: str, fields: dict[str, str]) -> Answer:
        body = urllib.parse.urlencode(fields).encode()
        return self.send(
            url,
            method="POST",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(environment: dict[str, str], log: Path) -> Server:
    port = _free_port()
    command = [
        sys.executable, "-m", "gunicorn", "auzlearn.wsgi",
        "--workers", "2", "--bind", f"127.0.0.1:{port}", "--error-logfile", "-",
    ]  # fmt: skip
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            command, env=environment, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT
        )
    server = Server(f"http://127.0.0.1:{port}", process)
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


def _stop(server: Server) -> None:
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture
def servers(transactional_db: None, tmp_path: Path) -> Iterator[list[Server]]:
    """Two gunicorn servers of the product on the test database and one Redis, with production
    settings (DEBUG off) but for the test suite's fast password hasher and plain static files
    (tests.settings). Each test gets its own cache key prefix, so no test sees another's
    counters and nothing else in Redis is touched."""
    database = connection.settings_dict
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DEBUG": "false",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        ),
        "CACHE_URL": f"redis://{REDIS[0]}:{REDIS[1]}/0?key_prefix=two-servers-{secrets.token_hex(6)}",
        "PUBLIC_BASE_URL": settings.PUBLIC_BASE_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "SCIM_KEY_SECRET": settings.SCIM_KEY_SECRET,
        "SCIM_RATE_LIMIT_PER_MINUTE": str(SCIM_LIMIT),
    }
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    started: list[Server] = []
    try:
        for number in (1, 2):
            started.append(_start(environment, tmp_path / f"server-{number}.log"))
        yield started
    finally:
        for server in started:
            _stop(server)


# --- SCIM helpers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    organisation: Organisation
    key: str

    @property
    def base(self) -> str:  # the path of the Tenant URL, without a host
        return f"/scim/v2/{self.organisation.public_id}"

    def request(
        self, server: Server, method: str, path: str, document: Any = None, *, key: str = ""
    ) -> Answer:
        body = json.dumps(document).encode() if document is not None else None
        headers = {
            "Authorization": f"Bearer {key or self.key}",
            "Content-Type": "application/scim+json",
        }
        return Browser().send(f"{server.url}{self.base}/{path}", method=method, body=body,
                              headers=headers)  # fmt: skip


def _tenant(slug: str) -> Tenant:
    organisation = factories.organisation(slug)
    services.organisation_update(
        organisation=organisation, actor=factories.SYSTEM, scim_enabled=True
    )
    issued = keys.issue(organisation=organisation, actor=factories.SYSTEM, created_by=None)
    return Tenant(organisation, issued.secret)


def _at_once(calls: list[Any]) -> list[Answer]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


# --- the tests --------------------------------------------------------------------------------


def test_an_assertion_accepted_by_one_server_is_refused_by_the_other(servers):
    first, second = servers
    organisation = factories.organisation("replay")
    person = factories.user(organisation, "lee@replay.test")
    idp = okta_idp()
    saml = factories.saml_connection(organisation, idp)
    xml = idp.response(
        acs_url=saml.acs_url,
        audience=saml.sp_entity_id,
        name_id=person.username,
        attributes=idp.default_attributes("Lee", "Learner", person.username),
    )
    acs = urllib.parse.urlsplit(saml.acs_url).path

    accepted = Browser().form(f"{first.url}{acs}", idp.post_form(xml))
    replayed = Browser().form(f"{second.url}{acs}", idp.post_form(xml))

    assert accepted.status == 302, accepted.body[:500]
    assert replayed.status == 403, replayed.body[:500]
    outcomes = list(SignInAttempt.objects.order_by("pk").values_list("reason_code", flat=True))
    assert outcomes[-1] == "replay"


def test_a_revoked_key_stops_on_both_servers_at_once(servers):
    tenant = _tenant("revoke")
    for server in servers:
        assert tenant.request(server, "GET", "Users?count=1").status == 200

    keys.revoke(organisation=tenant.organisation, actor=factories.SYSTEM)

    for server in servers:
        refused = tenant.request(server, "GET", "Users?count=1")
        assert refused.status == 401
        assert refused.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


def _sign_in(server: Server, organisation: str, login: str, password: str) -> Answer:
    browser = Browser()
    page = browser.send(f"{server.url}/sign-in/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    assert token is not None, page.body[:500]
    fields = {
        "csrfmiddlewaretoken": token.group(1).decode(),
        "organisation": organisation,
        "login": login,
        "password": password,
    }
    return browser.form(f"{server.url}/sign-in/", fields)


def test_the_password_back_off_counts_attempts_sent_to_both_servers(servers):
    organisation = factories.organisation("backoff")
    factories.user(organisation, "admin@backoff.test")
    failures = settings.SIGN_IN_MAX_FAILURES

    for attempt in range(failures):
        wrong = _sign_in(servers[attempt % 2], "backoff", "admin@backoff.test", "wrong password")
        assert wrong.status == 200, (attempt, wrong.body[-800:])  # the form again, with its error

    for server in servers:  # the right password, on either server, is held back now
        held = _sign_in(server, "backoff", "admin@backoff.test", factories.PASSWORD)
        assert held.status == 429
        assert b"Too many attempts. Try again in 1 minute." in held.body


def _wait_for_a_fresh_window(room_seconds: float = 15) -> None:
    """The limit counts in windows of a minute on the clock: start where the whole test fits."""
    into_window = time.time() % 60
    if into_window > 60 - room_seconds:
        time.sleep(60 - into_window + 0.5)


def test_the_scim_rate_limit_counts_requests_sent_to_both_servers(servers):
    tenant = _tenant("limit")
    other = _tenant("other")
    _wait_for_a_fresh_window()

    statuses = [
        tenant.request(servers[number % 2], "GET", "Users?count=1").status
        for number in range(SCIM_LIMIT)
    ]
    over = [tenant.request(server, "GET", "Users?count=1") for server in servers]

    assert statuses == [200] * SCIM_LIMIT
    assert [answer.status for answer in over] == [429, 429]
    assert all(int(answer.headers["Retry-After"]) >= 1 for answer in over)
    assert over[0].json()["status"] == "429"
    assert other.request(servers[0], "GET", "Users?count=1").status == 200  # its own count


def test_concurrent_scim_writes_to_both_servers_make_no_duplicates(servers):
    tenant = _tenant("dupes")
    person = {"userName": "same@dupes.test", "emails": [{"value": "same@dupes.test"}]}
    team = {"displayName": "Same Team"}

    # Within the organisation's rate limit: SCIM_LIMIT requests a minute.
    people = _at_once(
        [lambda n=n: tenant.request(servers[n % 2], "POST", "Users", person) for n in range(6)]
    )
    teams = _at_once(
        [lambda n=n: tenant.request(servers[n % 2], "POST", "Groups", team) for n in range(4)]
    )

    assert sorted(answer.status for answer in people) == [201] + [409] * 5
    assert sorted(answer.status for answer in teams) == [201] + [409] * 3
    assert User.objects.filter(username="same@dupes.test").count() == 1
    assert Team.objects.filter(display_name="Same Team").count() == 1
