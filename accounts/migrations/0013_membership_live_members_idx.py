"""The index a team's members are read by (TeamMembership), built without blocking the
membership table (accounts.schema_operations)."""

from django.db import migrations, models

from accounts.schema_operations import AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0012_membership_member_copies"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="teammembership",
            index=models.Index(
                condition=models.Q(("user_deleted", False)),
                fields=["team", "user"],
                include=("user_public_id",),
                name="membership_live_members_idx",
            ),
        ),
    ]
