"""auzlearn.config.EnvReader: every bad value stops the process with a message naming the
variable; good values parse to what Django expects."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from auzlearn.config import EnvReader

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LONG_SECRET = "s" * 32


@pytest.fixture
def env() -> EnvReader:
    return EnvReader()


# --- booleans, numbers, lists ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
        ("", False),
    ],
)
def test_bool_accepts_the_usual_spellings(env, monkeypatch, raw, expected):
    monkeypatch.setenv("DEBUG", raw)

    assert env.get_bool("DEBUG", default=not expected) is expected


def test_bool_takes_the_default_when_unset(env, monkeypatch):
    monkeypatch.delenv("DEBUG", raising=False)

    assert env.get_bool("DEBUG", default=True) is True
    assert env.get_bool("DEBUG", default=False) is False


@pytest.mark.parametrize("raw", ["maybe", "yes please", "2", "truee"])
def test_bool_refuses_anything_else_naming_the_variable(env, monkeypatch, raw):
    monkeypatch.setenv("DEBUG", raw)

    with pytest.raises(ImproperlyConfigured, match=r"Environment variable DEBUG: .*true or false"):
        env.get_bool("DEBUG", default=False)


@pytest.mark.parametrize("raw", ["eight hours", "0", "-5", "1.5"])
def test_int_refuses_a_non_positive_or_non_whole_number(env, monkeypatch, raw):
    monkeypatch.setenv("SESSION_COOKIE_AGE", raw)

    with pytest.raises(ImproperlyConfigured, match="SESSION_COOKIE_AGE"):
        env.get_int("SESSION_COOKIE_AGE", default=60)


def test_int_parses_a_positive_number(env, monkeypatch):
    monkeypatch.setenv("SESSION_COOKIE_AGE", "3600")

    assert env.get_int("SESSION_COOKIE_AGE", default=60) == 3600


def test_list_splits_on_commas_and_trims(env, monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", " lms.example.com, ,api.example.com ")

    assert env.get_list("ALLOWED_HOSTS", default=[]) == ["lms.example.com", "api.example.com"]


def test_list_refuses_an_empty_value(env, monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", " , ")

    with pytest.raises(ImproperlyConfigured, match="ALLOWED_HOSTS"):
        env.get_list("ALLOWED_HOSTS", default=["x"])


# --- secrets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_missing_secret_key_is_refused_when_debug_is_off(env, monkeypatch, raw):
    if raw is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", raw)

    with pytest.raises(ImproperlyConfigured, match=r"Environment variable SECRET_KEY: must be set"):
        env.secret("SECRET_KEY", debug=False, debug_default="dev-default")


def test_missing_secret_key_takes_the_development_default_in_debug(env, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)

    assert env.secret("SECRET_KEY", debug=True, debug_default="dev-default") == "dev-default"


@pytest.mark.parametrize("debug", [False, True])
def test_short_secret_is_refused(env, monkeypatch, debug):
    monkeypatch.setenv("SCIM_KEY_SECRET", "s" * 31)

    with pytest.raises(ImproperlyConfigured, match=r"SCIM_KEY_SECRET: .*at least 32"):
        env.secret("SCIM_KEY_SECRET", debug=debug, debug_default="dev-default")


def test_long_secret_is_used_as_given(env, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", LONG_SECRET)

    assert env.secret("SECRET_KEY", debug=False, debug_default="dev-default") == LONG_SECRET


# --- public base URL and allowed hosts -------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("https://lms.example.com/app", id="path"),
        pytest.param("https://lms.example.com/?x=1", id="query"),
        pytest.param("https://lms.example.com/#top", id="fragment"),
        pytest.param("lms.example.com", id="no-scheme"),
        pytest.param("ftp://lms.example.com", id="other-scheme"),
        pytest.param("https://", id="no-host"),
    ],
)
def test_public_base_url_must_be_scheme_and_host(env, monkeypatch, raw):
    monkeypatch.setenv("PUBLIC_BASE_URL", raw)

    with pytest.raises(ImproperlyConfigured, match="Environment variable PUBLIC_BASE_URL"):
        env.base_url("PUBLIC_BASE_URL", default="http://127.0.0.1:8000", debug=True)


def test_public_base_url_over_http_on_a_public_host_is_refused_with_debug_off(env, monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://lms.example.com")

    with pytest.raises(ImproperlyConfigured, match=r"PUBLIC_BASE_URL: must use https"):
        env.base_url("PUBLIC_BASE_URL", default="http://127.0.0.1:8000", debug=False)


def test_public_base_url_over_http_on_a_public_host_is_allowed_in_debug(env, monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://lms.example.com")

    assert (
        env.base_url("PUBLIC_BASE_URL", default="http://127.0.0.1:8000", debug=True)
        == "http://lms.example.com"
    )


@pytest.mark.parametrize(
    "raw", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"]
)
def test_public_base_url_over_http_on_loopback_is_allowed_with_debug_off(env, monkeypatch, raw):
    monkeypatch.setenv("PUBLIC_BASE_URL", raw)

    assert env.base_url("PUBLIC_BASE_URL", default="https://x.example", debug=False) == raw


def test_public_base_url_drops_a_trailing_slash(env, monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://lms.example.com/")

    assert (
        env.base_url("PUBLIC_BASE_URL", default="http://127.0.0.1:8000", debug=False)
        == "https://lms.example.com"
    )


def test_public_base_url_default_is_used_when_unset(env, monkeypatch):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)

    assert (
        env.base_url("PUBLIC_BASE_URL", default="http://127.0.0.1:8000", debug=False)
        == "http://127.0.0.1:8000"
    )


def test_allowed_hosts_default_is_the_public_host(env, monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://lms.example.com:8443")
    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    base = env.base_url("PUBLIC_BASE_URL", default="http://127.0.0.1:8000", debug=False)

    hosts = env.get_list("ALLOWED_HOSTS", default=env.default_hosts(base, debug=False))

    assert hosts == ["lms.example.com"]


def test_allowed_hosts_default_adds_loopback_names_in_debug(env):
    assert env.default_hosts("https://lms.example.com", debug=True) == [
        "127.0.0.1",
        "[::1]",
        "lms.example.com",
        "localhost",
    ]


def test_allowed_hosts_from_the_environment_win_over_the_default(env, monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "a.example.com,b.example.com")

    hosts = env.get_list(
        "ALLOWED_HOSTS", default=env.default_hosts("https://lms.example.com", debug=False)
    )

    assert hosts == ["a.example.com", "b.example.com"]


# --- database and cache ----------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["nosuch://x", "not a url"])
def test_bad_database_url_is_refused_naming_the_variable(env, monkeypatch, raw):
    monkeypatch.setenv("DATABASE_URL", raw)

    with pytest.raises(ImproperlyConfigured, match="Environment variable DATABASE_URL"):
        env.database("DATABASE_URL", default="sqlite:///db.sqlite3")


def test_sqlite_database_url_uses_our_sqlite_backend(env, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:////var/lib/auzlearn/db.sqlite3")

    config = env.database("DATABASE_URL", default="sqlite:///db.sqlite3")

    assert config["ENGINE"] == "auzlearn.sqlite_backend"
    assert config["NAME"] == "/var/lib/auzlearn/db.sqlite3"


def test_postgres_database_url_parses(env, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://lms:pw@db.internal:5433/auzlearn")

    config = env.database("DATABASE_URL", default="sqlite:///db.sqlite3")

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == ("auzlearn", "lms", "pw")
    assert (config["HOST"], int(config["PORT"])) == ("db.internal", 5433)


def test_database_default_is_used_when_unset(env, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)

    config = env.database("DATABASE_URL", default="sqlite:////tmp/default.sqlite3")

    assert config["ENGINE"] == "auzlearn.sqlite_backend"
    assert config["NAME"] == "/tmp/default.sqlite3"  # noqa: S108 - a name, never opened


def test_redis_cache_url_parses(env, monkeypatch):
    monkeypatch.setenv("CACHE_URL", "redis://127.0.0.1:6379/0")

    config = env.cache("CACHE_URL", default="locmemcache://")

    assert config["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert config["LOCATION"] == "redis://127.0.0.1:6379/0"


def test_a_redis_cache_url_keeps_djangos_own_settings(env, monkeypatch):
    # django-environ lowercases them for Redis, and Django ignores "key_prefix": two
    # deployments sharing one Redis would then share their counters.
    url = "redis://127.0.0.1:6379/2?key_prefix=staging&timeout=60&socket_timeout=0.2"
    monkeypatch.setenv("CACHE_URL", url)

    config = env.cache("CACHE_URL", default="locmemcache://")

    assert config["KEY_PREFIX"] == "staging" and config["TIMEOUT"] == 60
    # socket_connect_timeout: the bounded wait every Redis URL gets unless it names its own.
    assert config["OPTIONS"] == {"socket_timeout": 0.2, "socket_connect_timeout": 0.5}
    assert "key_prefix" not in config and "timeout" not in config


def test_bad_cache_url_is_refused_naming_the_variable(env, monkeypatch):
    monkeypatch.setenv("CACHE_URL", "nosuch://x")

    with pytest.raises(ImproperlyConfigured, match="Environment variable CACHE_URL"):
        env.cache("CACHE_URL", default="locmemcache://")


def test_log_level_is_case_insensitive_and_refuses_unknown_levels(env, monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "warning")
    assert env.log_level("LOG_LEVEL", default="INFO") == "WARNING"

    monkeypatch.setenv("LOG_LEVEL", "loud")
    with pytest.raises(ImproperlyConfigured, match="LOG_LEVEL"):
        env.log_level("LOG_LEVEL", default="INFO")


# --- the real settings module ----------------------------------------------------------------


def _settings_process(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Import auzlearn.settings in a fresh interpreter with a controlled environment."""
    base = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DEBUG",
            "SECRET_KEY",
            "SCIM_KEY_SECRET",
            "PUBLIC_BASE_URL",
            "ALLOWED_HOSTS",
            "DJANGO_SETTINGS_MODULE",
        }
    }
    base.update(DJANGO_SETTINGS_MODULE="auzlearn.settings", **env)
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=PROJECT_ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_settings_refuse_to_start_without_secret_key_when_debug_is_unset():
    result = _settings_process("")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_settings_derive_allowed_hosts_and_csrf_origins_from_the_public_base_url():
    result = _settings_process(
        "import json; from django.conf import settings as s; "
        "print(json.dumps([s.DEBUG, s.ALLOWED_HOSTS, s.CSRF_TRUSTED_ORIGINS, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE]))",
        SECRET_KEY=LONG_SECRET,
        SCIM_KEY_SECRET=LONG_SECRET + "x",
        PUBLIC_BASE_URL="https://lms.example.com",
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        False,
        ["lms.example.com"],
        ["https://lms.example.com"],
        True,
        True,
    ]


def test_settings_refuse_a_bad_debug_value_at_start():
    result = _settings_process("", DEBUG="maybe", SECRET_KEY=LONG_SECRET)

    assert result.returncode != 0
    assert "Environment variable DEBUG" in result.stderr


def test_postgresql_connections_are_kept_open_unless_the_url_says_otherwise(monkeypatch):
    reader = EnvReader()
    monkeypatch.setenv("DATABASE_URL", "postgres://root@127.0.0.1:5432/x")
    config = reader.database("DATABASE_URL", default="sqlite:///x")
    assert (config["CONN_MAX_AGE"], config["CONN_HEALTH_CHECKS"]) == (60, True)
    monkeypatch.setenv("DATABASE_URL", "postgres://root@127.0.0.1:5432/x?conn_max_age=0")
    assert reader.database("DATABASE_URL", default="sqlite:///x")["CONN_MAX_AGE"] == 0


@pytest.mark.parametrize(
    ("query", "binding"),
    [("", True), ("?server_side_binding=false", False), ("?server_side_binding=TRUE", True)],
)
def test_postgresql_statements_are_prepared_unless_the_url_says_otherwise(
    monkeypatch, query, binding
):
    monkeypatch.setenv("DATABASE_URL", f"postgres://root@127.0.0.1:5432/x{query}")
    options = EnvReader().database("DATABASE_URL", default="sqlite:///x")["OPTIONS"]
    assert options["server_side_binding"] is binding
    assert options["prepare_threshold"] == 5


def test_a_binding_option_that_is_not_true_or_false_is_refused(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://root@127.0.0.1:5432/x?server_side_binding=2")
    with pytest.raises(ImproperlyConfigured, match=r"\?server_side_binding= must be true or"):
        EnvReader().database("DATABASE_URL", default="sqlite:///x")


def _manage_py_unconfigured(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """manage.py in an environment that configures nothing (plus ``env``)."""
    unset = {"DEBUG", "SECRET_KEY", "SCIM_KEY_SECRET", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    environment = {key: value for key, value in os.environ.items() if key not in unset}
    return subprocess.run(  # noqa: S603 - fixed arguments, our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_fresh_checkout_can_check_its_migrations_without_any_configuration(tmp_path):
    result = _manage_py_unconfigured(
        "makemigrations", "--check", "--dry-run", DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "No changes detected"


def test_manage_py_says_what_is_misconfigured_in_one_line_and_exits_1():
    result = _manage_py_unconfigured("check")

    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Configuration error: Environment variable SECRET_KEY: must be set when DEBUG is off "
        "(a long random string)"
    )


# --- production headers: HSTS, https redirect, check --deploy --------------------------------

# What a production server has (README, "Production"): DEBUG off, an https public address behind
# a TLS-terminating proxy, real secrets. A random-looking key: Django's deploy check wants 50+
# characters with some variety.
PRODUCTION = {
    "DEBUG": "false",
    "PUBLIC_BASE_URL": "https://lms.example.com",
    "TRUST_X_FORWARDED_PROTO": "true",
    "SECRET_KEY": "q8Zr0v-Tn3Lw7Ye2Ua5Kd9Hc4Jf6Mg1Xb8Ps0Vt2Rk7Nj5Qh3We",
    "SCIM_KEY_SECRET": "Bv4Lm9Xe2Qt7Rk0Zn5Hw3Jd8Pc1Fy6Gs4Tu9Ka2Ne7Wr0Mx5Lb",
}
_HEADER_SETTINGS = (
    "import json; from django.conf import settings as s; print(json.dumps([s.SECURE_HSTS_SECONDS, "
    "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_SSL_REDIRECT]))"
)


def test_production_sends_hsts_for_a_year_without_subdomains_and_redirects_http():
    result = _settings_process(_HEADER_SETTINGS, **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [365 * 24 * 60 * 60, False, True]


def test_hsts_max_age_and_subdomains_are_configurable():
    result = _settings_process(
        _HEADER_SETTINGS, **PRODUCTION, HSTS_SECONDS="300", HSTS_INCLUDE_SUBDOMAINS="true"
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [300, True, True]


def test_no_hsts_and_no_redirect_over_plain_http():
    result = _settings_process(
        _HEADER_SETTINGS, **{**PRODUCTION, "PUBLIC_BASE_URL": "http://localhost:8000"}
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [0, False, False]


def test_no_https_redirect_when_the_proxys_scheme_is_not_trusted():
    # Every request would look like plain http and be redirected forever.
    result = _settings_process(
        _HEADER_SETTINGS, **{**PRODUCTION, "TRUST_X_FORWARDED_PROTO": "false"}
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[2] is False


def test_deploy_check_is_clean_with_production_settings(tmp_path, monkeypatch):
    # Set by the browser tests (tests/browser/conftest.py) for Playwright; never in production.
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)

    result = _manage_py_unconfigured(
        "check",
        "--deploy",
        "--fail-level",
        "DEBUG",  # any message at all fails
        **PRODUCTION,
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        CACHE_URL="locmemcache://",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("System check identified no issues"), result.stdout
