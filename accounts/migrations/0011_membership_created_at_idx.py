"""The index incremental imports use to find who joined a team since a moment, built without
blocking the membership table (accounts.schema_operations)."""

from django.db import migrations, models

from accounts.schema_operations import AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0010_teammembership_created_at"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="teammembership",
            index=models.Index(fields=["created_at"], name="membership_created_at_idx"),
        ),
    ]
