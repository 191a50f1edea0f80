"""A SCIM answer is freed as soon as it is sent, by reference counting, not at Python's next full
garbage collection: a worker that keeps every 10,000-member team document it sent until then
grew by over 100 MB in the bench (scim.rendering._let_go_of_the_response).

Requests go through Django's WSGI handler, as gunicorn calls it (the test client keeps its
responses for the test to read); the garbage collector is off while they run, so only reference
counting can free an answer."""

import gc
import io
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.http.response import HttpResponseBase

from tests import factories
from tests.scim.conftest import ScimClient, scim_client_for


@pytest.fixture
def okta(transactional_db, org) -> ScimClient:
    # Committed data: the handler ends each request by closing the connection, as in production.
    return scim_client_for(org)


@pytest.fixture
def no_garbage_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _sent(
    okta: ScimClient, method: str, path: str, body: bytes = b""
) -> weakref.ref[HttpResponseBase]:
    """Send one request through the WSGI handler, read and close its answer as gunicorn does,
    and return a weak reference to the response object."""
    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": f"{okta.base}/{path}",
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_TYPE": "application/scim+json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Bearer {okta.key}",
    }
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
        statuses.append(status)

    response = WSGIHandler()(environ, start_response)
    assert b"".join(response)
    response.close()
    assert statuses, "no status was sent"
    reference = weakref.ref(response)
    del response
    return reference


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "Groups/{team}", b""),
        ("GET", "Users?count=10", b""),
        ("GET", "Users/{person}", b""),
        (
            "PATCH",
            "Users/{person}",
            b'{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
            b'"Operations":[{"op":"replace","path":"title","value":"Chef"}]}',
        ),
        ("GET", "Users/no-such-person", b""),  # an error answer
        ("GET", "Users?filter=bad filter", b""),
    ],
)
def test_an_answer_is_freed_once_sent_without_a_garbage_collection(
    okta, org, no_garbage_collector, method, path, body
):
    people = factories.many_users(org, 3)
    team = factories.team(org, "Big", members=people)
    path = path.format(team=team.public_id, person=people[0].public_id)

    reference = _sent(okta, method, path, body)

    assert reference() is None, gc.get_referrers(reference())
