"""Counts the SQL statements of each request and times it inside the worker, and reports both in
headers: X-Query-Count and X-Server-Time (milliseconds from this middleware's entry to its
exit: everything Django does, opening the database connection included; not gunicorn's
parsing nor the network).

Enabled only by bench/settings.py. Savepoints count too, as they do in the test suite's
django_assert_num_queries: each one is a round trip to the database.
"""

import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponseBase

QUERY_COUNT_HEADER = "X-Query-Count"
SERVER_TIME_HEADER = "X-Server-Time"


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def count_queries(
    get_response: Callable[[HttpRequest], HttpResponseBase],
) -> Callable[[HttpRequest], HttpResponseBase]:
    def middleware(request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        counter = _Counter()
        with connection.execute_wrapper(counter):
            response = get_response(request)
        response[QUERY_COUNT_HEADER] = str(counter.count)
        response[SERVER_TIME_HEADER] = f"{(time.perf_counter() - started) * 1000:.3f}"
        return response

    return middleware
