"""Database expressions the SCIM reads need that Django does not ship for every backend."""

from typing import Any

from django.db.models import Aggregate, JSONField
from django.db.models.sql.compiler import SQLCompiler


class JSONList(Aggregate):
    """The aggregated values as one JSON array (NULL when there are none): jsonb_agg on
    PostgreSQL, json_group_array on SQLite. Lets a row carry its few related rows in the same
    query instead of a second one."""

    function = "JSONB_AGG"
    output_field = JSONField()

    def as_sqlite(self, compiler: SQLCompiler, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra)
