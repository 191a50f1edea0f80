"""PeopleCount and the triggers that keep it (accounts.models.PeopleCount says why).

A person counts when they belong to an organisation and are not deleted. Each trigger adds or
takes one from the row of the person's slot (their id modulo PEOPLE_COUNT_SLOTS), creating it
when needed. The triggers are made before the counts are filled in, within this migration's
transaction and with the person table locked against writes (PostgreSQL), so no write falls
between the two."""

from django.db import migrations, models

SLOTS = 16  # accounts.models.PEOPLE_COUNT_SLOTS when this was written

COUNTED_OLD = "OLD.organisation_id IS NOT NULL AND OLD.deleted_at IS NULL"
COUNTED_NEW = "NEW.organisation_id IS NOT NULL AND NEW.deleted_at IS NULL"
CHANGED = (
    "(OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) "
    "OR OLD.organisation_id IS DISTINCT FROM NEW.organisation_id"
)
# SQLite has no IS DISTINCT FROM; IS NOT compares NULLs as values, the same thing.
CHANGED_SQLITE = (
    "(OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) "
    "OR OLD.organisation_id IS NOT NEW.organisation_id"
)


def _add(row: str, delta: int) -> str:
    return (
        "INSERT INTO accounts_peoplecount (organisation_id, slot, people) "
        f"VALUES ({row}.organisation_id, {row}.id % {SLOTS}, {delta}) "
        "ON CONFLICT (organisation_id, slot) DO UPDATE "
        f"SET people = accounts_peoplecount.people + ({delta})"
    )


POSTGRESQL = f"""
LOCK TABLE accounts_user IN SHARE MODE;

CREATE FUNCTION accounts_people_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND {COUNTED_OLD} THEN
        {_add("OLD", -1)};
    END IF;
    IF TG_OP <> 'DELETE' AND {COUNTED_NEW} THEN
        {_add("NEW", 1)};
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER accounts_people_count_insert_delete AFTER INSERT OR DELETE ON accounts_user
    FOR EACH ROW EXECUTE FUNCTION accounts_people_count();
CREATE TRIGGER accounts_people_count_update AFTER UPDATE OF deleted_at, organisation_id
    ON accounts_user FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION accounts_people_count();

CREATE FUNCTION accounts_people_count_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM accounts_peoplecount WHERE organisation_id = OLD.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER accounts_people_count_forget AFTER DELETE ON accounts_organisation
    FOR EACH ROW EXECUTE FUNCTION accounts_people_count_forget();
"""

POSTGRESQL_REVERSE = """
DROP TRIGGER accounts_people_count_forget ON accounts_organisation;
DROP FUNCTION accounts_people_count_forget();
DROP TRIGGER accounts_people_count_update ON accounts_user;
DROP TRIGGER accounts_people_count_insert_delete ON accounts_user;
DROP FUNCTION accounts_people_count();
"""

SQLITE = [
    f"""CREATE TRIGGER accounts_people_count_insert AFTER INSERT ON accounts_user
    WHEN {COUNTED_NEW} BEGIN {_add("NEW", 1)}; END""",
    f"""CREATE TRIGGER accounts_people_count_delete AFTER DELETE ON accounts_user
    WHEN {COUNTED_OLD} BEGIN {_add("OLD", -1)}; END""",
    f"""CREATE TRIGGER accounts_people_count_update_old AFTER UPDATE OF deleted_at, organisation_id
    ON accounts_user WHEN ({CHANGED_SQLITE}) AND {COUNTED_OLD} BEGIN {_add("OLD", -1)}; END""",
    f"""CREATE TRIGGER accounts_people_count_update_new AFTER UPDATE OF deleted_at, organisation_id
    ON accounts_user WHEN ({CHANGED_SQLITE}) AND {COUNTED_NEW} BEGIN {_add("NEW", 1)}; END""",
    """CREATE TRIGGER accounts_people_count_forget AFTER DELETE ON accounts_organisation
    BEGIN DELETE FROM accounts_peoplecount WHERE organisation_id = OLD.id; END""",
]
SQLITE_TRIGGERS = [
    "accounts_people_count_insert",
    "accounts_people_count_delete",
    "accounts_people_count_update_old",
    "accounts_people_count_update_new",
    "accounts_people_count_forget",
]

FILL = f"""
INSERT INTO accounts_peoplecount (organisation_id, slot, people)
SELECT organisation_id, id % {SLOTS}, COUNT(*) FROM accounts_user
WHERE organisation_id IS NOT NULL AND deleted_at IS NULL
GROUP BY organisation_id, id % {SLOTS}
"""


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL, None)
    elif vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement, None)
    else:
        raise NotImplementedError(f"PeopleCount's triggers are written for PostgreSQL and SQLite, not {vendor}.")
    schema_editor.execute(FILL, None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_REVERSE, None)
    else:
        for name in SQLITE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER {name}", None)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0007_verbose_names'),
    ]

    operations = [
        migrations.CreateModel(
            name='PeopleCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('organisation_id', models.BigIntegerField()),
                ('slot', models.PositiveSmallIntegerField()),
                ('people', models.BigIntegerField()),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('organisation_id', 'slot'), name='people_count_slot')],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
