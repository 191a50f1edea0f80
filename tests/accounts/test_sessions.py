"""The session engine (accounts/sessions.py): Django's database sessions, a new one written once,
when the response saves it, and never over someone else's."""

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import sessions
from accounts.sessions import SessionStore
from tests import factories
from tests.accounts.test_sign_in import assert_signed_in_as, sign_in

pytestmark = pytest.mark.django_db


def _session_statements(captured: CaptureQueriesContext) -> list[str]:
    return [
        query["sql"].split()[0]
        for query in captured.captured_queries
        if "django_session" in query["sql"]
    ]


def test_signing_in_writes_the_new_session_once(client, learner):
    with CaptureQueriesContext(connection) as captured:
        sign_in(client, "acme", "lee@acme.test", factories.PASSWORD)

    # No lookup of the new key, no INSERT followed by an UPDATE: one INSERT.
    assert _session_statements(captured) == ["INSERT"]
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert SessionStore(key).load()["_auth_user_id"] == str(learner.pk)
    assert_signed_in_as(client, learner)


def test_a_session_already_written_is_updated_in_place(learner):
    store = SessionStore()
    store["step"] = 1
    store.save()
    key = store.session_key
    store["step"] = 2
    store.save()

    assert store.session_key == key
    assert Session.objects.count() == 1
    assert SessionStore(key).load() == {"step": 2}


def test_a_new_key_that_is_taken_is_replaced_and_the_other_session_kept(monkeypatch):
    owner = SessionStore()
    owner["who"] = "first"
    owner.save()
    taken = owner.session_key
    assert taken is not None
    keys = iter([taken, "k" * 32])
    monkeypatch.setattr(sessions, "get_random_string", lambda *args: next(keys))

    store = SessionStore()
    store["who"] = "second"
    store.save()

    assert store.session_key == "k" * 32
    assert SessionStore(taken).load() == {"who": "first"}
    assert SessionStore("k" * 32).load() == {"who": "second"}


def test_an_unknown_key_from_a_cookie_gets_a_new_session(learner):
    store = SessionStore("x" * 32)  # expired or made up: nothing in the database
    store["step"] = 1
    store.save()

    assert store.session_key != "x" * 32
    assert not Session.objects.filter(session_key="x" * 32).exists()
    assert SessionStore(store.session_key).load() == {"step": 1}


@pytest.mark.parametrize("data", [{}, {"visited": True}])
def test_a_rotated_key_drops_the_old_session_and_keeps_the_data(data):
    store = SessionStore()
    store.update(data)
    store.save()
    old = store.session_key

    store.cycle_key()
    store.save()

    assert store.session_key != old
    assert not Session.objects.filter(session_key=old).exists()
    assert SessionStore(store.session_key).load() == data
