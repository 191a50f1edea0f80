"""Strict readers for environment variables.

django-environ does the parsing of URLs; this wrapper makes every failure name the variable and
refuses values django-environ would quietly coerce (``DEBUG=yes please`` is not ``False``).
"""

import logging
import os
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
# Executions of the same statement on a connection before psycopg prepares it (its default).
PREPARE_AFTER = 5


# The cache settings Django reads from a CACHES entry itself (the rest are the backend's OPTIONS).
_CACHE_SETTINGS = ("TIMEOUT", "KEY_PREFIX", "VERSION", "KEY_FUNCTION")


def _fail(name: str, problem: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"Environment variable {name}: {problem}")


def _flag(name: str, option: str, value: object) -> bool:
    """A true/false option of a URL's query string, which django-environ leaves as text."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise _fail(name, f"?{option}= must be true or false, got {value!r}")


class EnvReader:
    def __init__(self) -> None:
        self._env = environ.Env()

    def _raw(self, name: str) -> str | None:
        return os.environ.get(name)

    def get_bool(self, name: str, *, default: bool) -> bool:
        raw = self._raw(name)
        if raw is None:
            return default
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise _fail(name, f"expected true or false, got {raw!r}")

    def get_int(self, name: str, *, default: int) -> int:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise _fail(name, f"expected a whole number, got {raw!r}") from None
        if value <= 0:
            raise _fail(name, f"expected a positive number, got {raw!r}")
        return value

    def get_list(self, name: str, *, default: list[str]) -> list[str]:
        raw = self._raw(name)
        if raw is None:
            return default
        items = [item.strip() for item in raw.split(",") if item.strip()]
        if not items:
            raise _fail(name, "expected a comma-separated list, got nothing")
        return items

    def secret(self, name: str, *, debug: bool, debug_default: str) -> str:
        raw = self._raw(name)
        if raw is None or not raw.strip():
            if debug:
                return debug_default
            raise _fail(name, "must be set when DEBUG is off (a long random string)")
        if len(raw) < 32:
            raise _fail(name, "must be at least 32 characters long")
        return raw

    def base_url(self, name: str, *, default: str, debug: bool) -> str:
        raw = self._raw(name) or default
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise _fail(name, f"expected a URL like https://lms.example.com, got {raw!r}")
        if parts.path.strip("/") or parts.query or parts.fragment:
            raise _fail(name, f"must be scheme and host only (no path or query), got {raw!r}")
        # Okta and Entra refuse plain http for SCIM and SAML; allow it only for local use.
        if parts.scheme == "http" and not debug and parts.hostname not in _LOOPBACK_HOSTS:
            raise _fail(name, "must use https when DEBUG is off (http only for localhost)")
        return f"{parts.scheme}://{parts.netloc}"

    def default_hosts(self, base_url: str, *, debug: bool) -> list[str]:
        host = urlsplit(base_url).hostname or ""
        hosts = [host]
        if debug:
            hosts += ["localhost", "127.0.0.1", "[::1]"]
        return sorted(set(hosts))

    def database(self, name: str, *, default: str) -> dict[str, Any]:
        raw = self._raw(name) or default
        if urlsplit(raw).scheme not in environ.Env.DB_SCHEMES:
            raise _fail(name, f"unknown database scheme in {raw!r} (use postgres:// or sqlite://)")
        try:
            config: dict[str, Any] = self._env.db_url_config(raw)
        except Exception as exc:  # django-environ raises several types for bad URLs
            raise _fail(name, f"not a database URL ({exc})") from None
        if config["ENGINE"] == "django.db.backends.sqlite3":
            config["ENGINE"] = "auzlearn.sqlite_backend"
        else:
            # Keep server connections open between requests (a new PostgreSQL connection
            # costs milliseconds on every request); ?conn_max_age=0 in the URL turns it off.
            config.setdefault("CONN_MAX_AGE", 60)
            config.setdefault("CONN_HEALTH_CHECKS", True)
            # Prepared statements: a statement sent five times on a connection is prepared
            # there, and PostgreSQL stops planning it again (a SCIM lookup's statements are the
            # same text every time: auzlearn/compiled_reads.py). Psycopg does it only when it
            # binds parameters on the server. ?server_side_binding=false turns both off (a
            # pooler in transaction mode that does not keep prepared statements: PgBouncer
            # before 1.21, or without max_prepared_statements).
            options = config.setdefault("OPTIONS", {})
            binding = options.get("server_side_binding", True)
            options["server_side_binding"] = _flag(name, "server_side_binding", binding)
            options.setdefault("prepare_threshold", PREPARE_AFTER)
        return config

    def cache(self, name: str, *, default: str) -> dict[str, Any]:
        raw = self._raw(name) or default
        try:
            config: dict[str, Any] = self._env.cache_url_config(raw)
        except Exception as exc:
            raise _fail(name, f"not a cache URL ({exc})") from None
        # django-environ lowercases every query parameter of a redis:// URL, Django's own
        # settings (key_prefix, timeout…) included, which Django then ignores without a word:
        # two deployments sharing one Redis would share their counters.
        for setting in _CACHE_SETTINGS:
            if setting.lower() in config:
                config[setting] = config.pop(setting.lower())
        if "redis" in config.get("BACKEND", "").lower():
            # Bounded waits: without them, a Redis host that stops answering (rather than
            # refusing) would hold every request that counts something until TCP gives up.
            # The callers fail open after these (scim/limits.py, accounts/throttle.py).
            options = config.setdefault("OPTIONS", {})
            options.setdefault("socket_connect_timeout", 0.5)
            options.setdefault("socket_timeout", 0.5)
        return config

    def log_level(self, name: str, *, default: str) -> str:
        raw = (self._raw(name) or default).upper()
        if raw not in logging.getLevelNamesMapping():
            raise _fail(name, f"unknown log level {raw!r}")
        return raw


# --- PostgreSQL's planner for short requests ---

# What every connection asks of PostgreSQL's planner unless the URL's own options say otherwise.
# Our statements are short indexed reads and writes, but at a million people the planner's cost
# estimate of some (a 10,000-member team's members) passes the thresholds at which it starts
# parallel workers or compiles the query to machine code (JIT), each costing more than the
# query itself: that team's members took 32 ms with two workers and 7 ms with none (EXPLAIN
# ANALYZE at 100,000 people; bench/README.md, "The scale mode").
SHORT_REQUEST_PLANNING = {"jit": "off", "max_parallel_workers_per_gather": "0"}


def set_planning(databases: dict[str, dict[str, Any]]) -> None:
    """Add SHORT_REQUEST_PLANNING to the libpq options of every PostgreSQL database, except the
    settings the URL's options already give."""
    for config in databases.values():
        if "postgresql" not in config.get("ENGINE", ""):
            continue
        options = config.setdefault("OPTIONS", {})
        given = _split(options.get("options", ""))
        named = {part.split("=", 1)[0] for part in given}
        ours = [
            f"{name}={value}" for name, value in SHORT_REQUEST_PLANNING.items() if name not in named
        ]
        options["options"] = " ".join(f"-c {part}" for part in [*given, *ours])


# --- PostgreSQL timeouts (auzlearn/db_timeouts.py) ---

_TIMEOUTS = ("lock_timeout", "statement_timeout")


def set_timeouts(
    databases: dict[str, dict[str, Any]], *, lock_timeout_ms: int, statement_timeout_ms: int | None
) -> None:
    """Set the timeouts in the libpq options of every PostgreSQL database, keeping any other
    option the URL gave; a timeout of None is left to the server's default."""
    for config in databases.values():
        if "postgresql" not in config.get("ENGINE", ""):
            continue
        options = config.setdefault("OPTIONS", {})
        kept = [
            part
            for part in _split(options.get("options", ""))
            if part.split("=", 1)[0] not in _TIMEOUTS
        ]
        ours = [f"lock_timeout={lock_timeout_ms}"]
        if statement_timeout_ms is not None:
            ours.append(f"statement_timeout={statement_timeout_ms}")
        options["options"] = " ".join(f"-c {part}" for part in [*kept, *ours])


def _split(options: str) -> list[str]:
    """The ``name=value`` settings of a libpq options string (``-c a=1 -c b=2``, ``-ca=1``)."""
    parts: list[str] = []
    words = options.split()
    index = 0
    while index < len(words):
        word = words[index]
        if word == "-c" and index + 1 < len(words):
            parts.append(words[index + 1])
            index += 2
            continue
        if word.startswith(("-c", "--")):
            parts.append(word[2:])
        index += 1
    return parts
