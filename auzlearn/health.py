"""/healthz and /readyz, for load balancers and orchestrators (DESIGN §8).

- ``/healthz``: the process answers. No database, no cache: a database outage must not make
  every app server look dead and get restarted.
- ``/readyz``: every database answers ``SELECT 1``, the default database has every migration
  applied, every cache takes a write and a read. A database or migration failure is a 503: the
  server cannot serve. A cache failure is reported ("degraded") but stays a 200: without Redis
  the rate limits and sign-in throttles fail open and everything else works (DESIGN §8), while
  a 503 would take every app server out of the load balancer at once for a Redis blip.

Both answer 200 or 503 with a small JSON body naming each check, GET or HEAD only, without
authentication, and set no cookie: they read neither the session nor a CSRF token, so the
session and CSRF middlewares have nothing to save. Plain http is not redirected to https for
them (SECURE_REDIRECT_EXEMPT), since probes often come over plain http.

Cheap enough to poll every second: once the default database has every migration applied,
this process remembers it (migration files do not change under a running process) and does
not load the migration graph again, so a ready probe costs one ``SELECT 1`` per database and
one write and one read per cache. While migrations are missing (a deploy in progress) it looks
again on every call, so the server turns ready as soon as ``migrate`` has run.

Failures are logged when the set of failing checks changes, not on every probe; the body never
carries an error's text (it is served to anyone, and database errors name hosts and users).
"""

import logging
import os
import uuid

from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

OK = "ok"
UNREACHABLE = "unreachable"
UNAPPLIED = "unapplied"
NOT_CHECKED = "not checked"

# Database aliases known to have every migration applied, in this process.
_migrated: set[str] = set()
# The checks that failed at the last probe, to log changes rather than every probe.
_last_failed: frozenset[str] = frozenset()
# One key per process, so that app servers sharing a cache do not overwrite each other's probe.
_CACHE_PROBE_KEY = f"auzlearn:readyz:{os.getpid()}:{uuid.uuid4().hex}"


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": OK})


@require_safe
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    errors: dict[str, str] = {}
    for alias in connections:
        name = _check_name("database", alias)
        checks[name] = _check_database(alias, errors, name)
    if checks[_check_name("database", DEFAULT_DB_ALIAS)] == OK:
        checks["migrations"] = _check_migrations(DEFAULT_DB_ALIAS, errors)
    else:
        checks["migrations"] = NOT_CHECKED
        errors["migrations"] = "not checked: the database is unreachable"
    for alias in settings.CACHES:
        name = _check_name("cache", alias)
        checks[name] = _check_cache(alias, errors, name)
    failed = [name for name, outcome in checks.items() if outcome not in (OK, NOT_CHECKED)]
    _log_changes(frozenset(failed), errors)
    if any(not name.startswith("cache") for name in failed):
        body = {"status": "unavailable", "failed": failed, "checks": checks}
        response = JsonResponse(body, status=503)
        # Logged above when it changed; without this, django.request would log an error for
        # every probe, every second, from every load balancer, for as long as the outage lasts.
        response._has_been_logged = True  # type: ignore[attr-defined]  # django.utils.log
        return response
    if failed:
        return JsonResponse({"status": "degraded", "failed": failed, "checks": checks})
    return JsonResponse({"status": OK, "checks": checks})


def _check_name(kind: str, alias: str) -> str:
    # "database" and "cache" for the default ones: the only ones in a standard deployment.
    return kind if alias == "default" else f"{kind}:{alias}"


def _check_database(alias: str, errors: dict[str, str], name: str) -> str:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any driver error (refused, timeout, auth, no file) is a failure
        errors[name] = repr(error)
        return UNREACHABLE
    return OK


def _check_migrations(alias: str, errors: dict[str, str]) -> str:
    if alias in _migrated:
        return OK
    try:
        executor = MigrationExecutor(connections[alias])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as error:  # a database gone between the two checks
        errors["migrations"] = repr(error)
        return UNREACHABLE
    if plan:
        errors["migrations"] = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:10])
        return UNAPPLIED
    _migrated.add(alias)
    return OK


def _check_cache(alias: str, errors: dict[str, str], name: str) -> str:
    try:
        cache = caches[alias]
        cache.set(_CACHE_PROBE_KEY, OK, timeout=60)
        answered = cache.get(_CACHE_PROBE_KEY)
    except Exception as error:  # each cache backend raises its client's own errors
        errors[name] = repr(error)
        return UNREACHABLE
    if answered != OK:
        errors[name] = "wrote a value and could not read it back"
        return UNREACHABLE
    return OK


def _log_changes(failed: frozenset[str], errors: dict[str, str]) -> None:
    global _last_failed
    if failed == _last_failed:
        return
    _last_failed = failed
    if failed:
        details = "; ".join(f"{name}: {errors.get(name, '?')}" for name in sorted(failed))
        logger.warning("Not ready: %s", details)
    else:
        logger.info("Ready: every check passes.")
