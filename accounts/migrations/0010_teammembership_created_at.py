"""When each person joined their team (accounts.versions: part of a person's lastModified).

Existing memberships get 2000-01-01, not the migration's time: their joining already moved the
person's own updated_at, so no person's version changes at deploy (an incremental import would
otherwise see everyone in a team as changed). On PostgreSQL a constant default is added without
rewriting the table; new memberships get their time from the model."""

import datetime

import django.utils.timezone
from django.db import migrations, models

JOINED_BEFORE_THIS_COLUMN = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_user_live_public_id_idx"),
    ]

    operations = [
        migrations.AddField(
            model_name="teammembership",
            name="created_at",
            field=models.DateTimeField(default=JOINED_BEFORE_THIS_COLUMN),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="teammembership",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
    ]
