"""accounts.client: the client's address, from X-Forwarded-For only behind trusted proxies."""

import pytest
from django.test import RequestFactory, override_settings

from accounts.client import client_address


def request_from(remote: str, forwarded: str | None = None):
    request = RequestFactory().get("/", REMOTE_ADDR=remote)
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


def test_without_trusted_proxies_the_header_is_ignored():
    assert client_address(request_from("10.0.0.9", "203.0.113.7")) == "10.0.0.9"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "203.0.113.7", "203.0.113.7"),
        # The client wrote the left part itself: only what our proxy appended counts.
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        (2, "198.51.100.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "203.0.113.7", "10.0.0.9"),  # fewer hops than proxies: the peer we saw
        (1, "not-an-address", "unknown"),
        (1, " ::ffff:203.0.113.7 ", "203.0.113.7"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_behind_trusted_proxies_the_client_is_what_the_first_trusted_proxy_saw(
    proxies, forwarded, expected
):
    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert client_address(request_from("10.0.0.9", forwarded)) == expected
