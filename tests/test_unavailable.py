"""The answers a request gets when the database cannot be reached (auzlearn/unavailable.py),
in-process, on whichever database the suite runs on (SQLite or PostgreSQL): the default
connection is swapped for one that cannot open, as in tests/test_health.py. The same faults
under a real gunicorn server are tests/test_database_faults.py.
"""

import logging
from collections.abc import Iterator

import pytest
from django.db import connections
from django.db.utils import load_backend

from auzlearn import db_faults, unavailable
from scim import handlers
from tests.test_health import _unreachable

SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture(autouse=True)
def fresh_outage_state() -> Iterator[None]:
    """Each test starts as a new process: no outage known."""
    for outage in db_faults._outages:
        outage.faults.clear()
        outage.counts.clear()
    yield
    for outage in db_faults._outages:
        outage.faults.clear()
        outage.counts.clear()


@pytest.fixture
def database_down(db, tmp_path) -> Iterator[None]:
    original = connections["default"]
    config = _unreachable(original.settings_dict, tmp_path)
    broken = load_backend(config["ENGINE"]).DatabaseWrapper(config, "default")
    connections["default"] = broken
    yield
    broken.close()
    connections["default"] = original


def test_scim_gets_a_503_scim_error_with_retry_after(client, org, database_down, caplog):
    caplog.set_level(logging.INFO)
    url = f"/scim/v2/{org.public_id}/Users"
    headers = {"HTTP_AUTHORIZATION": "Bearer some-key-of-forty-characters-xxxxxxxxxxxxx"}

    answers = [
        client.get(url, **headers),
        client.post(url, data={"userName": "x"}, content_type="application/scim+json", **headers),
    ]

    for answer in answers:
        assert answer.status_code == 503
        assert answer["Retry-After"] == str(db_faults.RETRY_AFTER_SECONDS)
        assert answer["Content-Type"].startswith("application/scim+json")
        body = answer.json()
        assert body["schemas"] == [SCIM_ERROR] and body["status"] == "503"
        assert body["detail"].startswith("The service is temporarily unavailable")
    # Once per outage, without a traceback; django.request logs none of them.
    warnings = [r for r in caplog.records if r.name == "auzlearn.db_faults"]
    assert len(warnings) == 1 and warnings[0].exc_info is None
    assert "the database is unavailable" in warnings[0].getMessage()
    assert not [r for r in caplog.records if r.name == "django.request"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_page_gets_the_plain_503_page_built_without_the_database(client, database_down, caplog):
    client.cookies["sessionid"] = "a" * 32  # a signed-in browser: its session is in the database

    page = client.get("/")

    assert page.status_code == 503
    assert page.content == unavailable.PAGE
    assert page["Retry-After"] == str(db_faults.RETRY_AFTER_SECONDS)
    assert page["Cache-Control"] == "no-store"
    assert "sessionid" not in page.cookies  # the session is neither saved nor ended
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_the_acs_says_the_sign_in_was_not_completed(client, database_down):
    answer = client.post("/sso/saml/abcdefabcdefabcdefab/acs/", {"SAMLResponse": "PHg+"})

    assert answer.status_code == 503
    assert answer.content == unavailable.SIGN_IN_PAGE
    assert b"Sign-in not completed: please try again" in answer.content
    assert not answer.cookies.get("sessionid")


def test_probes_tell_a_live_process_from_a_ready_one(client, database_down):
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "unreachable"


def test_the_database_working_again_is_logged_once(client, org, database_down, caplog):
    headers = {"HTTP_AUTHORIZATION": "Bearer some-key-of-forty-characters-xxxxxxxxxxxxx"}
    assert client.get(f"/scim/v2/{org.public_id}/Users", **headers).status_code == 503

    db_faults.observe(lambda *args: None, "SELECT 1", None, False, None)
    db_faults.observe(lambda *args: None, "SELECT 1", None, False, None)

    back = [r.getMessage() for r in caplog.records if "works again" in r.getMessage()]
    assert back == [
        "Requests answered 503: the database works again (it was unavailable; 1 time(s) in "
        "this process)."
    ]


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/scim/v2/x/Users", "application/scim+json"), ("/settings/sso/", "text/html")],
)
def test_a_fault_outside_the_view_reaches_handler500_and_gets_the_same_503(
    rf, database_down, path, content_type
):
    # What a middleware or a template raises after the view reaches Django's handler500
    # (scim.handlers.server_error), from within the handling of the exception.
    request = rf.get(path)
    try:
        connections["default"].ensure_connection()
    except Exception:
        answer = handlers.server_error(request)
    assert answer.status_code == 503
    assert answer["Content-Type"].startswith(content_type)
    assert answer["Retry-After"] == str(db_faults.RETRY_AFTER_SECONDS)
    assert getattr(answer, "_has_been_logged", False)  # django.request does not log it again


def test_handler500_still_answers_500_for_a_bug(rf):
    request = rf.get("/settings/sso/")
    try:
        raise ValueError("a bug")
    except ValueError:
        answer = handlers.server_error(request)
    assert answer.status_code == 500
