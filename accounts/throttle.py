"""Sign-in back-off: password attempts for an account, or from a client address, that failed too
often are refused for a while, before any password is checked.

- An account is what was typed: (organisation slug, userName or email), ignoring case, whether
  or not anyone has that name, so a refusal looks the same for a name that exists and one that
  does not. Support staff (the admin login) have no organisation and are keyed by userName.
- SIGN_IN_MAX_FAILURES failures of one account within SIGN_IN_FAILURE_WINDOW_SECONDS, or
  SIGN_IN_MAX_FAILURES_PER_ADDRESS from one client address (for IPv6, its /64) across accounts
  (credential stuffing), start a lock-out: every attempt is refused for 1 minute. A failure
  within one window after a lock-out ends starts the next one, twice as long, up to
  SIGN_IN_MAX_BACKOFF_SECONDS; a window without failures after a lock-out starts over.
  A successful sign-in clears its account, never its address (one account an attacker owns must
  not reset their address's count).
- State lives in Django's cache (Redis in production) so that every app server sees it
  (DESIGN §8). Failures are counted with add/incr, so servers counting at once lose none; a
  lock-out is claimed with add, so it is recorded once however many servers see it start.
- Cache unreachable: sign-in goes on, and the back-off goes on too, counted in each process's
  memory with the same rules (DESIGN §8: Redis down degrades, never stops sign-in, and never
  stops protecting an account). It is weaker, not off: an account or address reaches its limit
  per worker process instead of for the whole deployment, so an attacker gets at most the
  limit times the number of worker processes before every process refuses, and the lock-outs
  then double as usual. Refusing password sign-in instead would lock every primary admin out
  for as long as Redis is down (their password is their way in when SSO breaks); counting in
  the database would add a write to every failed attempt, on the database every other request
  needs. Lock-outs started in a process during the outage still hold there after the cache
  answers again. One warning when the outage starts, one when it ends, per process.

Every rule reads time through now(), which tests move forward.
"""

import hashlib
import json
import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.core.cache import BaseCache, cache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest, HttpResponse

from accounts import audit
from accounts.backends import find_person
from accounts.client import UNKNOWN, address_block, client_address
from accounts.fail_open import FailOpen
from accounts.models import Organisation, User

logger = logging.getLogger(__name__)

FIRST_BACKOFF_SECONDS = 60
# The window is counted in this many buckets plus the current one, so "within the window" is
# exact to one bucket (a minute of the default 15) while a failure writes one key.
_BUCKETS = 15
# A claim only has to outlive servers racing to start the same lock-out (milliseconds).
_CLAIM_SECONDS = 60
_KEY_PREFIX = "sign-in-backoff"


def now() -> float:
    """The clock every rule here reads."""
    return time.time()


@dataclass(frozen=True)
class Attempt:
    """One password attempt, as typed."""

    organisation: str  # slug as the sign-in form compares it; "" for support staff
    login: str
    address: str

    @classmethod
    def of(cls, request: HttpRequest | None, *, organisation: str | None, login: str) -> "Attempt":
        return cls(
            organisation=(organisation or "").strip().lower(),
            login=login,
            address=client_address(request) if request is not None else UNKNOWN,
        )


@dataclass(frozen=True)
class _Counter:
    kind: Literal["account", "address"]
    key: str
    limit: int

    @property
    def lock_key(self) -> str:
        return f"{self.key}:lock"

    def bucket_key(self, bucket: int) -> str:
        return f"{self.key}:failures:{bucket}"

    def claim_key(self, previous_until: float) -> str:
        return f"{self.key}:claim:{previous_until!r}"


@dataclass(frozen=True)
class LockOut:
    kind: Literal["account", "address"]
    number: int  # 1 for the first of a series, 2 for the next (twice as long)...
    seconds: int
    failures: int


@dataclass(frozen=True)
class Cleared:
    failures: int
    locked_seconds: int


@dataclass(frozen=True)
class _Lock:
    until: float
    number: int


# --- what the sign-in forms call ------------------------------------------------------------


def wait_seconds(attempt: Attempt) -> int:
    """Seconds until this attempt may be checked; 0 when it may be checked now."""
    counters = _counters(attempt)
    shared = _shared(lambda: _wait_seconds(counters, cache), default=None)
    # The process's own lock-outs, from a cache outage, hold until they end.
    here = _wait_seconds(counters, _local)
    return here if shared is None else max(shared, here)


def failed(attempt: Attempt) -> list[LockOut]:
    """Count a failed attempt; start and audit the lock-outs it brings about."""
    counters = _counters(attempt)
    lock_outs = _shared(lambda: _count_failure(counters, cache), default=None)
    if lock_outs is None:  # the shared cache cannot count: this process counts
        lock_outs = _count_failure(counters, _local)
    for lock_out in lock_outs:
        _audit_lock_out(attempt, lock_out)
    return lock_outs


def succeeded(attempt: Attempt) -> None:
    counter = _account_counter(attempt.organisation, attempt.login)
    _shared(lambda: _forget(counter, cache), default=None)
    _forget(counter, _local)


def too_many_attempts(seconds: int) -> str:
    return f"Too many attempts. Try again in {in_minutes(seconds)}."


def in_minutes(seconds: int) -> str:
    """Whole minutes in words ("1 minute", "4 minutes"), rounded up so nobody comes back early."""
    minutes = max(1, math.ceil(seconds / 60))
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def refused(response: HttpResponse, seconds: int) -> HttpResponse:
    response.status_code = 429
    response["Retry-After"] = str(seconds)
    return response


def backoff_seconds(number: int) -> int:
    """How long the number-th lock-out of a series lasts: 1, 2, 4... minutes, capped."""
    doubling = FIRST_BACKOFF_SECONDS * 2 ** (min(number, 32) - 1)
    return int(min(doubling, settings.SIGN_IN_MAX_BACKOFF_SECONDS))


# --- what support staff call (manage.py sign_in_unlock) --------------------------------------
# These do not fail open: a support engineer must hear that nothing was cleared.


def clear_account(organisation: str | None, login: str) -> Cleared:
    return _clear(_account_counter((organisation or "").strip().lower(), login))


def clear_address(address: str) -> Cleared:
    return _clear(_address_counter(address_block(address)))


# --- the counters ----------------------------------------------------------------------------


def _counters(attempt: Attempt) -> list[_Counter]:
    counters = [_account_counter(attempt.organisation, attempt.login)]
    # Clients whose address we cannot read would all share one counter, and 50 typos among
    # them would lock everyone out; they are limited per account only.
    if attempt.address != UNKNOWN:
        counters.append(_address_counter(address_block(attempt.address)))
    return counters


def _account_counter(organisation: str, login: str) -> _Counter:
    # JSON keeps ("a b", "c") and ("a", "b c") apart; hashing keeps keys short and valid for
    # any cache backend, and people's names out of Redis.
    name = json.dumps([organisation, login.casefold()])
    return _Counter("account", _key("account", name), settings.SIGN_IN_MAX_FAILURES)


def _address_counter(address: str) -> _Counter:
    return _Counter("address", _key("address", address), settings.SIGN_IN_MAX_FAILURES_PER_ADDRESS)


def _key(kind: str, name: str) -> str:
    return f"{_KEY_PREFIX}:{kind}:{hashlib.sha256(name.encode()).hexdigest()}"


def _window() -> int:
    return int(settings.SIGN_IN_FAILURE_WINDOW_SECONDS)


def _bucket_seconds() -> int:
    return max(1, math.ceil(_window() / _BUCKETS))


def _buckets(at: float) -> range:
    current = int(at // _bucket_seconds())
    return range(current - _BUCKETS, current + 1)


def _wait_seconds(counters: Iterable[_Counter], store: BaseCache) -> int:
    at = now()
    locks = [_lock(value) for value in store.get_many([c.lock_key for c in counters]).values()]
    remaining = max((lock.until - at for lock in locks if lock is not None), default=0.0)
    return math.ceil(remaining) if remaining > 0 else 0


def _count_failure(counters: Iterable[_Counter], store: BaseCache) -> list[LockOut]:
    at = now()
    lock_outs = []
    for counter in counters:
        failures = _add_failure(counter, at, store)
        lock_out = _maybe_lock_out(counter, at, failures, store)
        if lock_out is not None:
            lock_outs.append(lock_out)
    return lock_outs


def _add_failure(counter: _Counter, at: float, store: BaseCache) -> int:
    """Count one failure; the failures within the window, this one included."""
    *earlier, current = _buckets(at)
    key = counter.bucket_key(current)
    # A bucket is read for as long as it is among the window's; the expiry only tidies up, as
    # the rules read the clock.
    expiry = (_BUCKETS + 1) * _bucket_seconds()
    if store.add(key, 1, expiry):
        mine = 1
    else:
        try:
            mine = store.incr(key)
        except ValueError:  # expired between add and incr
            store.add(key, 1, expiry)
            mine = 1
    counts = store.get_many([counter.bucket_key(bucket) for bucket in earlier]).values()
    return mine + sum(int(count) for count in counts)


def _maybe_lock_out(
    counter: _Counter, at: float, failures: int, store: BaseCache
) -> LockOut | None:
    previous = _lock(store.get(counter.lock_key))
    if previous is not None and at < previous.until:
        return None  # another server locked it while this attempt was being checked
    in_series = previous is not None and at < previous.until + _window()
    if failures < counter.limit and not in_series:
        return None
    # Servers that see the same lock-out start read the same previous lock; add lets one win.
    claim = counter.claim_key(previous.until if previous is not None else 0.0)
    if not store.add(claim, 1, _CLAIM_SECONDS):
        return None
    number = previous.number + 1 if in_series and previous is not None else 1
    seconds = backoff_seconds(number)
    # Kept while it can still continue a series: until a window after it ends (and a margin).
    expiry = seconds + _window() + _CLAIM_SECONDS
    store.set(counter.lock_key, (at + seconds, number), expiry)
    return LockOut(kind=counter.kind, number=number, seconds=seconds, failures=failures)


def _clear(counter: _Counter) -> Cleared:
    at = now()
    buckets = [counter.bucket_key(bucket) for bucket in _buckets(at)]
    values = cache.get_many([counter.lock_key, *buckets])
    lock = _lock(values.pop(counter.lock_key, None))
    failures = sum(int(count) for count in values.values())
    _forget(counter, cache)
    locked = math.ceil(lock.until - at) if lock is not None and lock.until > at else 0
    return Cleared(failures=failures, locked_seconds=locked)


def _forget(counter: _Counter, store: BaseCache) -> None:
    buckets = [counter.bucket_key(bucket) for bucket in _buckets(now())]
    # The first claim of a series is keyed by "no previous lock", which is true again now.
    store.delete_many([counter.lock_key, counter.claim_key(0.0), *buckets])


def _lock(value: Any) -> _Lock | None:
    # Stored as a plain (until, number) tuple, not a pickled class: renaming a class here must
    # not make the locks already in Redis unreadable.
    if isinstance(value, tuple | list) and len(value) == 2:
        return _Lock(until=float(value[0]), number=int(value[1]))
    return None


# --- the cache may be down -------------------------------------------------------------------


_cache = FailOpen(
    logger,
    off=(
        "Sign-in back-off counts in this process only: the cache (CACHE_URL) cannot be "
        "reached. Each app server process applies the limits on its own until the cache "
        "answers again."
    ),
    on="Sign-in back-off counts in the shared cache again: the cache answers.",
)
_shared = _cache.call
# The counters of this process while the shared cache is down: the same rules, in memory. Big
# enough that spraying names cannot push a live lock-out out (a key is ~100 bytes).
_local = LocMemCache("sign-in-backoff-fallback", {"OPTIONS": {"MAX_ENTRIES": 100_000}})


# --- the audit trail -------------------------------------------------------------------------


def _audit_lock_out(attempt: Attempt, lock_out: LockOut) -> None:
    actor = audit.Actor.system(f"sign-in back-off, from {attempt.address}")
    changes: dict[str, Any] = {
        "lock_out": lock_out.number,
        "seconds": lock_out.seconds,
        "failures": lock_out.failures,
        "address": attempt.address,
    }
    if lock_out.kind == "address":
        address = audit.Subject(kind="address", id=address_block(attempt.address))
        audit.record(actor=actor, action="address.sign_in_locked", target=address, changes=changes)
        return
    changes["login"] = attempt.login
    target = account_target(attempt.organisation, attempt.login)
    audit.record(actor=actor, action="user.sign_in_locked", target=target, changes=changes)


def account_target(organisation_slug: str, login: str) -> User | audit.Subject:
    """What an account's audit rows are about: the person when the name names one, else the
    name as typed (within its organisation when that exists)."""
    organisation = None
    if organisation_slug:
        organisation = Organisation.objects.filter(slug=organisation_slug).first()
        if organisation is None:
            typed = f"{organisation_slug} / {login}"
            return audit.Subject(kind="login", id=typed, label=typed)
    person = find_person(organisation, login)
    if person is not None:
        return person
    return audit.Subject(kind="login", id=login, organisation=organisation)
