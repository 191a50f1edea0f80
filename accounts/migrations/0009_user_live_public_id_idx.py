"""A covering index for a team's members (issue 19), built without blocking the people table.

CREATE INDEX CONCURRENTLY on PostgreSQL (README, Operations: a big table's index is built without
a lock that stops sign-ins and SCIM writes), so this migration runs outside a transaction.
SQLite has no covering indexes: Django skips the index there, as for any `include`."""

from django.db import migrations, models

from accounts.schema_operations import AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0008_people_count"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="user",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", True)),
                fields=["id"],
                include=("public_id",),
                name="user_live_public_id_idx",
            ),
        ),
    ]
