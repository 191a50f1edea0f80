"""Bounded database waits (auzlearn/db_timeouts.py, auzlearn.config.set_timeouts): which
process gets which lock and statement timeout, read back from the real PostgreSQL."""

import copy
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.db.utils import load_backend

from auzlearn.config import set_planning, set_timeouts

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the timeouts are PostgreSQL settings"
)


def _shown(config: dict[str, Any], *names: str) -> list[str]:
    wrapper = load_backend(config["ENGINE"]).DatabaseWrapper(config, "timeouts-under-test")
    try:
        with wrapper.cursor() as cursor:
            values = []
            for name in names:
                cursor.execute(f"SHOW {name}")  # names from this test only
                values.append(cursor.fetchone()[0])
            return values
    finally:
        wrapper.close()


@postgresql_only
@pytest.mark.django_db
def test_commands_and_migrations_wait_for_a_lock_but_have_no_statement_timeout():
    # The test suite is such a process: it never imports auzlearn.wsgi.
    assert _shown(connection.settings_dict, "lock_timeout", "statement_timeout") == ["5s", "0"]
    assert settings.COMMAND_DB_LOCK_TIMEOUT_MS == 5000


@postgresql_only
@pytest.mark.django_db
def test_the_web_values_replace_the_commands_and_keep_the_urls_own_options():
    databases = {"default": copy.deepcopy(connection.settings_dict)}
    databases["default"]["OPTIONS"]["options"] = "-c work_mem=8MB -c lock_timeout=5000"

    set_timeouts(databases, lock_timeout_ms=3000, statement_timeout_ms=10000)

    config = databases["default"]
    assert config["OPTIONS"]["options"] == (
        "-c work_mem=8MB -c lock_timeout=3000 -c statement_timeout=10000"
    )
    assert _shown(config, "lock_timeout", "statement_timeout", "work_mem") == ["3s", "10s", "8MB"]


def test_sqlite_databases_are_left_alone():
    databases = {"default": {"ENGINE": "auzlearn.sqlite_backend", "OPTIONS": {}}}
    set_timeouts(databases, lock_timeout_ms=3000, statement_timeout_ms=10000)
    assert databases["default"]["OPTIONS"] == {}


# --- the planner's settings for short requests (auzlearn.config.set_planning) ---


@postgresql_only
@pytest.mark.django_db
def test_every_connection_plans_without_parallel_workers_or_jit():
    shown = _shown(connection.settings_dict, "jit", "max_parallel_workers_per_gather")
    assert shown == ["off", "0"]


@postgresql_only
@pytest.mark.django_db
def test_the_urls_own_planner_settings_win_and_the_timeouts_keep_them():
    databases = {"default": copy.deepcopy(connection.settings_dict)}
    databases["default"]["OPTIONS"]["options"] = "-c jit=on -c work_mem=8MB"

    set_planning(databases)
    set_timeouts(databases, lock_timeout_ms=3000, statement_timeout_ms=10000)

    config = databases["default"]
    assert config["OPTIONS"]["options"] == (
        "-c jit=on -c work_mem=8MB -c max_parallel_workers_per_gather=0"
        " -c lock_timeout=3000 -c statement_timeout=10000"
    )
    assert _shown(config, "jit", "max_parallel_workers_per_gather") == ["on", "0"]


def test_sqlite_databases_get_no_planner_settings():
    databases = {"default": {"ENGINE": "auzlearn.sqlite_backend", "OPTIONS": {}}}
    set_planning(databases)
    assert databases["default"]["OPTIONS"] == {}
