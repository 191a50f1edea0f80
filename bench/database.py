"""The benchmark's own PostgreSQL database: created, migrated and dropped by the run."""

import statistics
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def database_url(server_url: str, name: str) -> str:
    """``server_url`` (any database on the server, e.g. .../postgres) pointed at ``name``."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def exists(server_url: str, name: str) -> bool:
    with psycopg.connect(server_url, autocommit=True) as connection:
        row = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return row is not None


def recreate(server_url: str, name: str) -> None:
    drop(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop(server_url: str, name: str) -> None:
    # FORCE (PostgreSQL 13+): a worker of a crashed earlier run may still be connected.
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def connect_seconds(url: str, times: int = 50) -> float:
    """Median time to open a connection, run one query and close it, as a request does when
    connections are not kept (CONN_MAX_AGE 0)."""
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        with psycopg.connect(url) as connection:
            connection.execute("SELECT 1").fetchone()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def server_version(server_url: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"
