"""Schema operations the migrations share."""

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations


class AddIndexConcurrentlyOnPostgreSQL(AddIndexConcurrently):
    """AddIndexConcurrently where the database has it, a plain AddIndex elsewhere. CREATE INDEX
    CONCURRENTLY on PostgreSQL (README, Operations: a big table's index is built without a lock
    that stops sign-ins and SCIM writes), so a migration using it runs outside a transaction
    (``atomic = False``)."""

    @staticmethod
    def _way(schema_editor: Any) -> Any:
        if schema_editor.connection.vendor == "postgresql":
            return AddIndexConcurrently
        return migrations.AddIndex

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        way = self._way(schema_editor)
        way.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        way = self._way(schema_editor)
        way.database_backwards(self, app_label, schema_editor, from_state, to_state)
