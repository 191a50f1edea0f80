"""Each membership keeps its member's SCIM id and whether they are deleted (TeamMembership says
why), and triggers keep them so whoever writes:

- the person's deletion or revival, whatever code makes it, updates their memberships (an
  AFTER UPDATE trigger on the people table, PostgreSQL and SQLite);
- on PostgreSQL, a membership inserted without them (by code older than this migration, still
  serving while it is applied: README, Operations; or a bulk COPY) gets them from its person,
  read FOR SHARE so that a concurrent deletion waits for it. The code of this release writes
  them itself (accounts.services._insert_memberships), and the trigger does not fire.

The triggers are made before the memberships are filled in, within this migration's transaction
and with the people table locked against writes (PostgreSQL), so no change falls between the
two; the column is NOT NULL once filled."""

from django.db import migrations, models

POSTGRESQL = """
LOCK TABLE accounts_user IN SHARE MODE;

CREATE FUNCTION accounts_membership_member() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT public_id, deleted_at IS NOT NULL INTO NEW.user_public_id, NEW.user_deleted
    FROM accounts_user WHERE id = NEW.user_id FOR SHARE;
    RETURN NEW;
END
$$;
CREATE TRIGGER accounts_membership_member BEFORE INSERT ON accounts_teammembership
    FOR EACH ROW WHEN (NEW.user_public_id IS NULL)
    EXECUTE FUNCTION accounts_membership_member();

CREATE FUNCTION accounts_membership_member_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE accounts_teammembership SET user_deleted = NEW.deleted_at IS NOT NULL
    WHERE user_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER accounts_membership_member_deleted AFTER UPDATE OF deleted_at ON accounts_user
    FOR EACH ROW WHEN ((OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL))
    EXECUTE FUNCTION accounts_membership_member_deleted();

UPDATE accounts_teammembership AS membership
SET user_public_id = person.public_id, user_deleted = person.deleted_at IS NOT NULL
FROM accounts_user AS person
WHERE person.id = membership.user_id;
"""

POSTGRESQL_REVERSE = """
DROP TRIGGER accounts_membership_member_deleted ON accounts_user;
DROP FUNCTION accounts_membership_member_deleted();
DROP TRIGGER accounts_membership_member ON accounts_teammembership;
DROP FUNCTION accounts_membership_member();
"""

# SQLite (development and tests): its BEFORE triggers cannot set a column, and the code of this
# release writes both itself; the deletion's trigger as on PostgreSQL, made once the membership
# table has been rebuilt for NOT NULL (SQLite refuses to rebuild a table a trigger names).
SQLITE_FILL = """
UPDATE accounts_teammembership
SET user_public_id = (
        SELECT public_id FROM accounts_user WHERE id = accounts_teammembership.user_id
    ),
    user_deleted = (
        SELECT deleted_at IS NOT NULL FROM accounts_user WHERE id = accounts_teammembership.user_id
    )
"""
SQLITE_TRIGGER = """
CREATE TRIGGER accounts_membership_member_deleted AFTER UPDATE OF deleted_at ON accounts_user
WHEN (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
BEGIN
    UPDATE accounts_teammembership SET user_deleted = NEW.deleted_at IS NOT NULL
    WHERE user_id = NEW.id;
END
"""


def _vendor(schema_editor) -> str:
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise NotImplementedError(
            f"The membership triggers are written for PostgreSQL and SQLite, not {vendor}."
        )
    return vendor


def create_triggers_and_fill(apps, schema_editor):
    if _vendor(schema_editor) == "postgresql":
        schema_editor.execute(POSTGRESQL, None)
    else:
        schema_editor.execute(SQLITE_FILL, None)


def drop_triggers(apps, schema_editor):
    if _vendor(schema_editor) == "postgresql":
        schema_editor.execute(POSTGRESQL_REVERSE, None)


def create_sqlite_trigger(apps, schema_editor):
    if _vendor(schema_editor) == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER, None)


def drop_sqlite_trigger(apps, schema_editor):
    if _vendor(schema_editor) == "sqlite":
        schema_editor.execute("DROP TRIGGER accounts_membership_member_deleted", None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_membership_created_at_idx"),
    ]

    operations = [
        migrations.AddField(
            model_name="teammembership",
            name="user_public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="teammembership",
            name="user_deleted",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.RunPython(create_triggers_and_fill, drop_triggers, elidable=False),
        migrations.AlterField(
            model_name="teammembership",
            name="user_public_id",
            field=models.UUIDField(editable=False),
        ),
        migrations.RunPython(create_sqlite_trigger, drop_sqlite_trigger, elidable=False),
    ]
