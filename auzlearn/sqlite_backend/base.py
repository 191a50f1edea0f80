"""SQLite with its real bound-parameter limit.

Django 5.2 assumes SQLite's old compile-time limit of 999 parameters and splits bulk inserts into
batches of that size, so adding 1,000 team members costs several queries on SQLite and one on
PostgreSQL. Every SQLite Python 3.11 ships with reports a much higher limit (32,766 by default);
Django 6.0 reads it the same way. With this, bulk operations cost the same number of queries on
both databases, and the query-count tests mean the same thing on both.
"""

import sqlite3

from django.db.backends.sqlite3 import base, features
from django.utils.functional import cached_property


class DatabaseFeatures(features.DatabaseFeatures):
    @cached_property
    def max_query_params(self) -> int:  # type: ignore[override]
        self.connection.ensure_connection()
        return int(self.connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
