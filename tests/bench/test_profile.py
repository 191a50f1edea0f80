"""bench.profile's reading of py-spy's collapsed stacks: where each sample's time is put."""

from collections import Counter

from bench.profile import OTHER, layer_of, summary

HANDLER = "handle (gunicorn/workers/sync.py:135);inner (django/core/handlers/exception.py:55)"
VIEW = f"{HANDLER};dispatch (rest_framework/views.py:512);get (scim/views/users.py:74)"


def test_a_database_wait_anywhere_in_the_stack_is_the_databases():
    frames = (
        f"{VIEW};execute (django/db/models/sql/compiler.py:1574);wait (psycopg/connection.py:495)"
    )
    assert layer_of(frames.split(";")).startswith("psycopg")


def test_otherwise_the_innermost_named_layer_takes_the_sample():
    assert layer_of(f"{VIEW};render (scim/users.py:145)".split(";")).startswith("auzlearn")
    assert layer_of(f"{VIEW};__init__ (django/db/models/base.py:493)".split(";")).startswith(
        "Django ORM"
    )
    # the standard library counts for the layer that called it
    assert layer_of(f"{VIEW};_present (scim/users.py:145);sub (re.py:10)".split(";")).startswith(
        "auzlearn"
    )
    assert layer_of(["<module> (app.py:1)"]) == OTHER


def test_summary_shares_add_up_and_name_the_hottest_function():
    stacks = Counter(
        {
            f"{VIEW};wait (psycopg/connection.py:495)": 3,
            f"{VIEW};render (scim/users.py:145)": 1,
        }
    )
    text = summary("users_filter", stacks, jobs=10)
    assert "| psycopg: waiting for PostgreSQL, reading its rows | 75.0% |" in text
    assert "| auzlearn: scim/, accounts/, sso/ | 25.0% |" in text
    assert "| `wait (psycopg/connection.py:495)` | 75.0% |" in text


def test_no_samples_is_said_rather_than_divided_by():
    assert "no samples" in summary("users_filter", Counter(), jobs=10)
