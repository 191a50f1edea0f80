"""The whole profile (issue 13): every RFC 7643 core User attribute a directory fills and the
whole enterprise extension. The one email and phone number people had become the first value
of their lists, as SCIM showed them ({"value": …, "type": "work"}), and their first rows for
filters. The phone_number column goes in 0006, in a transaction of its own: on PostgreSQL a
table cannot be altered in the transaction that queued foreign-key checks on it (the rows
inserted here). An email column stays: it is the sign-in address."""

import accounts.models
import django.db.models.deletion
import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


# One statement per list whatever the number of people: set-based SQL, in each database's own
# JSON functions (the two auzlearn runs on).
_AS_LIST = {
    "postgresql": "jsonb_build_array(jsonb_build_object('value', {column}, 'type', 'work'))",
    "sqlite": "json_array(json_object('value', {column}, 'type', 'work'))",
}


def keep_email_and_phone_number(apps, schema_editor):
    connection = schema_editor.connection
    users = apps.get_model("accounts", "User")._meta.db_table
    values = apps.get_model("accounts", "ProfileValue")._meta.db_table
    for column, attribute in (("email", "emails"), ("phone_number", "phone_numbers")):
        as_list = _AS_LIST[connection.vendor].format(column=column)
        schema_editor.execute(
            f"UPDATE {users} SET {attribute} = {as_list} WHERE {column} <> ''"
        )
        schema_editor.execute(
            f"INSERT INTO {values} (user_id, attribute, value, display, type, \"primary\", "
            "formatted, street_address, locality, region, postal_code, country) "
            f"SELECT id, '{attribute}', {column}, '', 'work', FALSE, '', '', '', '', '', '' "
            f"FROM {users} WHERE {column} <> ''"
        )


def back_to_one_phone_number(apps, schema_editor):
    """The phone number the people list showed before: the primary one, else the last work
    one, else the first."""
    User = apps.get_model("accounts", "User")
    changed = []
    for user in User.objects.exclude(phone_numbers=[]).only("pk", "phone_numbers"):
        numbers = [n for n in user.phone_numbers if isinstance(n, dict)]
        chosen = (
            next((n for n in numbers if n.get("primary") is True), None)
            or next((n for n in reversed(numbers) if str(n.get("type", "")).lower() == "work"), None)
            or (numbers[0] if numbers else {})
        )
        user.phone_number = str(chosen.get("value", ""))[:50]
        changed.append(user)
    User.objects.bulk_update(changed, ["phone_number"], batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_custom_attributes'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='addresses',
            field=accounts.models.ProfileJSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name='user',
            name='company',
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name='user',
            name='cost_center',
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name='user',
            name='division',
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name='user',
            name='emails',
            field=accounts.models.ProfileJSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name='user',
            name='formatted_name',
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name='user',
            name='honorific_prefix',
            field=models.CharField(blank=True, max_length=50),
        ),
        migrations.AddField(
            model_name='user',
            name='honorific_suffix',
            field=models.CharField(blank=True, max_length=50),
        ),
        migrations.AddField(
            model_name='user',
            name='middle_name',
            field=models.CharField(blank=True, max_length=150),
        ),
        migrations.AddField(
            model_name='user',
            name='nick_name',
            field=models.CharField(blank=True, max_length=150),
        ),
        migrations.AddField(
            model_name='user',
            name='phone_numbers',
            field=accounts.models.ProfileJSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name='user',
            name='photos',
            field=accounts.models.ProfileJSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name='user',
            name='preferred_language',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name='user',
            name='profile_url',
            field=models.CharField(blank=True, max_length=2048),
        ),
        migrations.AddField(
            model_name='user',
            name='user_type',
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.CreateModel(
            name='ProfileValue',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('attribute', models.CharField(choices=[('emails', 'emails'), ('phone_numbers', 'phone_numbers'), ('addresses', 'addresses'), ('photos', 'photos')], max_length=20)),
                ('value', models.CharField(blank=True, max_length=2048)),
                ('display', models.CharField(blank=True, max_length=255)),
                ('type', models.CharField(blank=True, max_length=64)),
                ('primary', models.BooleanField(default=False)),
                ('formatted', models.CharField(blank=True, max_length=1024)),
                ('street_address', models.CharField(blank=True, max_length=1024)),
                ('locality', models.CharField(blank=True, max_length=255)),
                ('region', models.CharField(blank=True, max_length=255)),
                ('postal_code', models.CharField(blank=True, max_length=64)),
                ('country', models.CharField(blank=True, max_length=64)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='profile_values', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'indexes': [models.Index(django.db.models.functions.text.Lower('value'), models.F('attribute'), name='profile_value_ci_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('attribute__in', ['emails', 'phone_numbers', 'addresses', 'photos'])), name='profile_value_attribute_valid')],
            },
        ),
        migrations.AlterField(
            model_name='user',
            name='custom_attributes',
            field=accounts.models.ProfileJSONField(blank=True, default=dict),
        ),
        migrations.RunPython(keep_email_and_phone_number, back_to_one_phone_number),
    ]
