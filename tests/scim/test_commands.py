"""Management commands: scim_key, scim_attributes and prune_scim_requests."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services
from accounts.models import ActorKind, AuditEvent, CustomAttribute
from scim import activity, keys
from scim.models import Outcome, RefusedRequestCount, ScimKey, ScimRequest
from tests import factories
from tests.manage import manage, migrated_database

COMMAND_ACTOR = "manage.py scim_key"


def run(name: str, *args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def key_from(out: str) -> str:
    lines = out.splitlines()
    assert len(lines) == 2, out
    assert lines[1].startswith("key=")
    return lines[1].removeprefix("key=")


# --- scim_key --------------------------------------------------------------------------------


def test_scim_key_turns_scim_on_and_prints_the_tenant_url_and_a_working_key(org, settings):
    out, err = run("scim_key", "acme")

    key = key_from(out)
    assert out == f"tenant_url={settings.PUBLIC_BASE_URL}/scim/v2/{org.public_id}\nkey={key}\n"
    assert err == ""
    record = keys.verify(key)
    assert record is not None
    assert record.organisation == org
    assert record.created_by is None
    assert record.digest != key
    org.refresh_from_db()
    assert org.scim_enabled
    events = AuditEvent.objects.filter(organisation=org, actor_label=COMMAND_ACTOR)
    assert sorted(events.values_list("action", "actor_kind", "changes")) == [
        ("organisation.update", ActorKind.SYSTEM, {"scim_enabled": [False, True]}),
        ("scim.key_issue", ActorKind.SYSTEM, {"prefix": key[:8]}),
    ]


def test_scim_key_replaces_the_key_the_organisation_had(org):
    old = keys.issue(organisation=org, actor=factories.SYSTEM, created_by=None).secret

    new = key_from(run("scim_key", "acme")[0])

    assert new != old
    assert keys.verify(old) is None
    assert keys.verify(new) is not None
    assert ScimKey.objects.filter(organisation=org, revoked_at__isnull=True).count() == 1


def test_scim_key_leaves_scim_on_as_it_is(org):
    services.organisation_update(organisation=org, actor=factories.SYSTEM, scim_enabled=True)

    key_from(run("scim_key", "acme")[0])

    assert not AuditEvent.objects.filter(
        actor_label=COMMAND_ACTOR, action="organisation.update"
    ).exists()


def test_scim_key_leaves_other_organisations_alone(org, other_org):
    theirs = keys.issue(organisation=other_org, actor=factories.SYSTEM, created_by=None).secret

    run("scim_key", "acme")

    assert keys.verify(theirs) is not None
    other_org.refresh_from_db()
    assert not other_org.scim_enabled


def test_scim_key_revoke_revokes_without_issuing(org):
    services.organisation_update(organisation=org, actor=factories.SYSTEM, scim_enabled=True)
    old = keys.issue(organisation=org, actor=factories.SYSTEM, created_by=None).secret

    out, _ = run("scim_key", "acme", "--revoke")

    assert out == f"Revoked the SCIM key {old[:8]}… of acme.\n"
    assert keys.verify(old) is None
    assert not ScimKey.objects.filter(revoked_at__isnull=True).exists()
    org.refresh_from_db()
    assert org.scim_enabled  # only the key goes
    event = AuditEvent.objects.get(action="scim.key_revoke")
    assert (event.actor_kind, event.actor_label) == (ActorKind.SYSTEM, COMMAND_ACTOR)


def test_scim_key_revoke_without_a_key_says_there_was_none(org):
    out, _ = run("scim_key", "acme", "--revoke")

    assert out == "acme has no active SCIM key; nothing was revoked.\n"
    assert not AuditEvent.objects.filter(action="scim.key_revoke").exists()


def test_scim_key_rotate_keeps_the_old_key_working_until_the_new_one_is_used(org, settings):
    settings.SCIM_KEY_OVERLAP_HOURS = 24
    old = key_from(run("scim_key", "acme")[0])

    out, _ = run("scim_key", "acme", "--rotate")

    new = key_from(out)
    assert out == f"tenant_url={settings.PUBLIC_BASE_URL}/scim/v2/{org.public_id}\nkey={new}\n"
    assert keys.verify(old) is not None
    record = keys.verify(new)
    assert record is not None
    old_record = ScimKey.objects.get(prefix=old[:8])
    assert old_record.retires_at is not None
    assert timedelta(hours=23) < old_record.retires_at - timezone.now() <= timedelta(hours=24)
    events = AuditEvent.objects.filter(actor_label=COMMAND_ACTOR, action="scim.key_retire")
    assert [event.changes["prefix"] for event in events] == [old[:8]]

    keys.note_use(record)  # the identity provider's first request with the new key

    assert keys.verify(old) is None
    assert keys.verify(new) is not None


def test_scim_key_revoke_stops_both_keys_of_a_rotation(org):
    old = key_from(run("scim_key", "acme")[0])
    new = key_from(run("scim_key", "acme", "--rotate")[0])

    out, _ = run("scim_key", "acme", "--revoke")

    assert out.startswith("Revoked the SCIM key ")
    assert old[:8] in out and new[:8] in out
    assert keys.verify(old) is None
    assert keys.verify(new) is None


def test_plain_scim_key_after_a_rotation_stops_both_old_keys_at_once(org):
    first = key_from(run("scim_key", "acme")[0])
    second = key_from(run("scim_key", "acme", "--rotate")[0])

    third = key_from(run("scim_key", "acme")[0])

    assert keys.verify(first) is None
    assert keys.verify(second) is None
    assert keys.verify(third) is not None


def test_scim_key_takes_rotate_or_revoke_not_both(org):
    with pytest.raises(CommandError, match="not allowed with argument"):
        run("scim_key", "acme", "--rotate", "--revoke")

    assert not ScimKey.objects.exists()


def test_scim_key_for_an_unknown_slug_is_a_clear_error(org):
    with pytest.raises(CommandError, match=r"There is no organisation with the slug 'nope'\."):
        run("scim_key", "nope")

    assert not ScimKey.objects.exists()


def test_scim_key_exits_with_status_1_for_an_unknown_slug(tmp_path):
    database_url = migrated_database(tmp_path)

    result = manage("scim_key", "nope", database_url=database_url)

    assert result.returncode == 1
    assert result.stdout == ""
    assert "CommandError: There is no organisation with the slug 'nope'." in result.stderr
    assert "Traceback" not in result.stderr


# --- prune_scim_requests ---------------------------------------------------------------------


def _log(organisation, days_ago: float) -> ScimRequest:
    return ScimRequest.objects.create(
        organisation=organisation,
        created_at=timezone.now() - timedelta(days=days_ago),
        method="GET",
        path="/scim/v2/x/Users",
        status=200,
        outcome=Outcome.SUCCEEDED,
        duration_ms=3,
    )


def test_prune_deletes_only_requests_older_than_the_retention_period(org, other_org, settings):
    settings.SCIM_REQUEST_RETENTION_DAYS = 30
    old = [_log(org, 31), _log(other_org, 45)]
    kept = [_log(org, 29), _log(org, 0), _log(other_org, 1)]

    out, _ = run("prune_scim_requests")

    assert out == "Deleted 2 SCIM request log entries older than 30 days.\n"
    assert set(ScimRequest.objects.all()) == set(kept)
    assert not ScimRequest.objects.filter(pk__in=[row.pk for row in old]).exists()


def test_prune_deletes_old_counts_of_refused_requests_too(org, settings):
    settings.SCIM_REQUEST_RETENTION_DAYS = 30
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    RefusedRequestCount.objects.create(organisation=org, hour=hour - timedelta(days=31), count=7)
    kept = RefusedRequestCount.objects.create(organisation=org, hour=hour, count=2)

    out, _ = run("prune_scim_requests")

    assert out == "Deleted 0 SCIM request log entries older than 30 days.\n"
    assert list(RefusedRequestCount.objects.all()) == [kept]


def test_prune_takes_its_default_from_the_setting(org, settings):
    settings.SCIM_REQUEST_RETENTION_DAYS = 5
    kept = _log(org, 4)
    _log(org, 6)

    out, _ = run("prune_scim_requests")

    assert out == "Deleted 1 SCIM request log entry older than 5 days.\n"
    assert list(ScimRequest.objects.all()) == [kept]


def test_prune_days_option_overrides_the_setting(org, settings):
    settings.SCIM_REQUEST_RETENTION_DAYS = 30
    kept = _log(org, 2)
    _log(org, 11)

    out, _ = run("prune_scim_requests", "--days", "10")

    assert out == "Deleted 1 SCIM request log entry older than 10 days.\n"
    assert list(ScimRequest.objects.all()) == [kept]


def _log_deletes(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured if q["sql"].startswith('DELETE FROM "scim_scimrequest"')]


def test_prune_deletes_in_batches_each_a_statement_of_its_own(org, other_org):
    old = [_log(org if n % 2 else other_org, 40 + n) for n in range(5)]
    kept = _log(org, 1)

    with CaptureQueriesContext(connection) as captured:
        deleted = activity.prune(older_than_days=30, batch_size=2)

    assert deleted == 5
    assert list(ScimRequest.objects.all()) == [kept]
    log_deletes = _log_deletes(captured)
    assert len(log_deletes) == 3  # 2, 2 and the last 1
    assert all("LIMIT 2" in sql for sql in log_deletes)
    assert not ScimRequest.objects.filter(pk__in=[row.pk for row in old]).exists()


def test_prune_stops_when_a_batch_is_not_full_and_refuses_an_empty_batch(org):
    for days in (31, 32):
        _log(org, days)
    with CaptureQueriesContext(connection) as captured:
        assert activity.prune(older_than_days=30, batch_size=2) == 2
    # A full batch does not tell whether more are left: one more DELETE looks.
    assert len(_log_deletes(captured)) == 2

    with pytest.raises(ValueError, match="batch_size"):
        activity.prune(older_than_days=30, batch_size=0)


def test_prune_with_nothing_to_delete_says_so(org):
    _log(org, 0)

    out, _ = run("prune_scim_requests")

    assert out.startswith("Deleted 0 SCIM request log entries")
    assert ScimRequest.objects.count() == 1


def test_prune_refuses_negative_days(org):
    _log(org, 0)

    with pytest.raises(CommandError, match="--days must be 0 or more"):
        run("prune_scim_requests", "--days", "-1")

    assert ScimRequest.objects.count() == 1


# --- scim_attributes -------------------------------------------------------------------------

ATTRIBUTES_ACTOR = "manage.py scim_attributes"


def test_scim_attributes_add_defines_an_attribute_through_the_service(org, other_org):
    out, err = run(
        "scim_attributes", "acme", "add", "costCentre", "--type", "string",
        "--description", "Finance's code",
    )  # fmt: skip

    assert (out, err) == ("Added costCentre (string) to acme.\n", "")
    assert list(
        CustomAttribute.objects.values_list("organisation", "name", "type", "description")
    ) == [(org.pk, "costCentre", "string", "Finance's code")]
    event = AuditEvent.objects.get(action="custom_attribute.add")
    assert (event.organisation, event.actor_kind, event.actor_label) == (
        org,
        ActorKind.SYSTEM,
        ATTRIBUTES_ACTOR,
    )


def test_scim_attributes_list_prints_name_type_and_description_one_a_line(org, other_org):
    run("scim_attributes", "acme", "add", "track", "--type", "string")
    run("scim_attributes", "acme", "add", "Level", "--type", "integer", "--description", "1 to 9")
    run("scim_attributes", "globex", "add", "secret", "--type", "boolean")

    out, _ = run("scim_attributes", "acme", "list")

    assert out == "Level\tinteger\t1 to 9\ntrack\tstring\n"


def test_scim_attributes_list_says_when_there_are_none(org):
    assert run("scim_attributes", "acme", "list")[0] == "acme has no attributes of its own.\n"


def test_scim_attributes_remove_deletes_the_attribute_and_its_values(org, other_org, learner):
    run("scim_attributes", "acme", "add", "costCentre", "--type", "string")
    run("scim_attributes", "globex", "add", "costCentre", "--type", "string")
    services.user_set_custom_attributes(
        user=learner, actor=factories.SYSTEM, values={"costCentre": "CC-1"}
    )

    out, _ = run("scim_attributes", "acme", "remove", "COSTCENTRE")

    assert out == "Removed costCentre from acme; 1 person's value deleted.\n"
    assert list(CustomAttribute.objects.values_list("organisation", flat=True)) == [other_org.pk]
    learner.refresh_from_db()
    assert learner.custom_attributes == {}
    event = AuditEvent.objects.get(action="custom_attribute.remove")
    assert (event.actor_label, event.changes["values_deleted"]) == (ATTRIBUTES_ACTOR, 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["acme", "add", "costcentre", "--type", "integer"],
            "This organisation already has an attribute named 'costcentre' (SCIM compares "
            "attribute names ignoring case).",
        ),
        (
            ["acme", "add", "cost centre", "--type", "string"],
            "'cost centre' is not a SCIM attribute name: use 1 to 64 letters, digits, hyphens "
            "and underscores, starting with a letter.",
        ),
        (
            ["acme", "add", "level", "--type", "float"],
            "'float' is not a type; use one of string, boolean, integer, decimal, dateTime.",
        ),
        (["nope", "list"], "There is no organisation with the slug 'nope'."),
        (["acme", "remove", "track"], "acme has no attribute named 'track'."),
    ],
    ids=["duplicate", "grammar", "type", "organisation", "attribute"],
)
def test_scim_attributes_refuses_with_a_clear_error_and_changes_nothing(org, args, message):
    run("scim_attributes", "acme", "add", "costCentre", "--type", "string")

    with pytest.raises(CommandError) as refused:
        run("scim_attributes", *args)

    assert str(refused.value) == message
    assert list(CustomAttribute.objects.values_list("name", "type")) == [("costCentre", "string")]


def test_scim_attributes_exits_with_status_1_and_a_message(tmp_path):
    database_url = migrated_database(tmp_path)
    created = manage(
        "create_organisation", "acme", "--name", "Acme", "--admin-email", "it@acme.test",
        database_url=database_url,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr

    added = manage("scim_attributes", "acme", "add", "costCentre", "--type", "string",
                   database_url=database_url)  # fmt: skip
    again = manage("scim_attributes", "acme", "add", "COSTCENTRE", "--type", "date",
                   database_url=database_url)  # fmt: skip
    unknown = manage("scim_attributes", "acme", "remove", "track", database_url=database_url)

    assert (added.returncode, added.stdout) == (0, "Added costCentre (string) to acme.\n")
    for refused, message in [
        (again, "'date' is not a type"),
        (unknown, "acme has no attribute named 'track'."),
    ]:
        assert refused.returncode == 1
        assert refused.stdout == ""
        assert f"CommandError: {message}" in refused.stderr
        assert "Traceback" not in refused.stderr
    listed = manage("scim_attributes", "acme", "list", database_url=database_url)
    assert listed.stdout == "costCentre\tstring\n"
