"""SCIM rate limits (DESIGN §5, §8): per organisation for requests with a valid key, per client
address for requests without one.

Counted in fixed one-minute windows in Django's cache (CACHE_URL: Redis in production), which
every app server shares, so a limit holds for the whole deployment and one tenant cannot starve
the others. This runs on every SCIM request, so it costs one cache round trip and no database
statement: a counter per window that INCR creates, with an expiry set in the same round trip.
A fixed window lets a client send up to twice the limit across a window boundary; a sliding
window would need a second round trip, and the limit is far above what clients send anyway.

When the cache cannot be reached the limits are off (fail open) and provisioning goes on: a
rate limit protects the service, and losing it for a while costs less than refusing every
identity provider while Redis is down. The outage is logged once per process, and its end too.
"""

import logging
import math
import time

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.http import HttpRequest

from accounts.client import address_block, client_address
from accounts.fail_open import FailOpen
from accounts.models import Organisation
from scim.errors import ScimError

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
# Counters outlive their window by this much, so a clock a little behind another server's
# still finds the counter it shares with it.
EXPIRY_SLACK_SECONDS = 10


def clock() -> float:
    """Seconds since the epoch: the windows are aligned to it on every app server. Tests move
    time through this function alone."""
    return time.time()


def check_organisation(organisation: Organisation) -> None:
    """Count a request authenticated with one of the organisation's keys; a 429 when its
    organisation is over SCIM_RATE_LIMIT_PER_MINUTE in this window."""
    limit: int = settings.SCIM_RATE_LIMIT_PER_MINUTE
    retry_after = _over(f"organisation:{organisation.public_id}", limit)
    if retry_after is not None:
        raise ScimError(
            429,
            f"Too many SCIM requests: this organisation's SCIM clients may send {limit} requests "
            f"a minute. Retry after {retry_after} seconds (Okta and Entra do so by themselves).",
            retry_after=retry_after,
        )


def check_unauthenticated(request: HttpRequest) -> None:
    """Count a request that carried no valid key for its Tenant URL, per client address; a 429
    when the address is over SCIM_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE in this window.
    Requests with a valid key never count here, so an address shared by many of Okta's
    customers is never refused for one of them pasting a wrong key."""
    limit: int = settings.SCIM_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE
    retry_after = _over(f"address:{address_block(client_address(request))}", limit)
    if retry_after is not None:
        raise ScimError(
            429,
            f"Too many requests without a valid Secret Key from this address ({limit} a "
            f"minute). Retry after {retry_after} seconds, with the Secret Key from Settings → "
            "Single Sign-on → SCIM.",
            retry_after=retry_after,
        )


def _over(name: str, limit: int) -> int | None:
    """Count one request under ``name``; the seconds until the window ends when the count is
    over ``limit``, else None (also when the cache cannot count)."""
    moment = clock()
    window = int(moment // WINDOW_SECONDS)
    seconds_left = (window + 1) * WINDOW_SECONDS - moment
    count = _count(f"scim-rate:{name}:{window}", math.ceil(seconds_left) + EXPIRY_SLACK_SECONDS)
    if count is None or count <= limit:
        return None
    return max(1, math.ceil(seconds_left))


_cache = FailOpen(
    logger,
    off=(
        "SCIM rate limits are off: the cache cannot be reached. Requests are let through until "
        "it answers again."
    ),
    on="SCIM rate limits are on again: the cache answers.",
)


def _count(key: str, expiry: int) -> int | None:
    return _cache.call(lambda: _increment(caches["default"], key, expiry), default=None)


def _increment(cache: BaseCache, key: str, expiry: int) -> int:
    if isinstance(cache, RedisCache):
        # Django's RedisCache.incr() is EXISTS then INCR (two round trips) and fails on a
        # missing key, so add()+incr() would cost three. INCR creates the counter; EXPIRE,
        # sent in the same pipeline, makes it go away after its window.
        full_key = cache.make_and_validate_key(key)
        # The backend's own client and connection pool (Django documents get_client() for
        # custom clients; the stubs leave out the attribute that holds it).
        redis_client: RedisCacheClient = cache._cache  # type: ignore[attr-defined]
        client = redis_client.get_client(full_key, write=True)
        with client.pipeline(transaction=False) as pipeline:
            pipeline.incr(full_key)
            pipeline.expire(full_key, expiry)
            count, _ = pipeline.execute()
        return int(count)
    # Other caches (memcached, the per-process memory of local runs and tests): incr() is one
    # atomic step once the counter exists; the window's first request creates it with add().
    try:
        return cache.incr(key)
    except ValueError:
        if cache.add(key, 1, expiry):
            return 1
        return cache.incr(key)  # another server created it in between
