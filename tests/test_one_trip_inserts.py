"""New rows of several tables in one round trip (auzlearn/one_trip_inserts.py): exactly the rows
bulk_create writes, values kept as values, in the caller's transaction."""

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts import audit, profile_values
from accounts.identity_reads import waiting_reports_read
from accounts.models import AuditEvent, ProfileValue, User
from auzlearn.one_trip_inserts import insert_all
from tests import factories

pytestmark = pytest.mark.django_db

EMAILS: list[dict[str, Any]] = [
    {"value": "lee@acme.test", "type": "work", "primary": True},
    {"value": "it's 100% ; DROP TABLE x; --@acme.test", "type": "home %s %(x)s"},
]


def _rows(user: User, changes: dict[str, Any]) -> tuple[list[ProfileValue], list[AuditEvent]]:
    event = audit.event(actor=factories.SYSTEM, action="user.create", target=user, changes=changes)
    return profile_values.rows_of(user, ["emails"]), [event]


def _written(user: User) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What was written for this person, without what differs from one person to the next."""
    values = ProfileValue.objects.filter(user=user).order_by("pk")
    events = AuditEvent.objects.filter(target_id=str(user.public_id), action="user.create")
    own = ["id", "user", "created_at", "target_id", "target_label"]
    return (
        [model_to_dict(row, exclude=own) for row in values],
        [model_to_dict(row, exclude=own) for row in events.order_by("pk")],
    )


def test_the_rows_are_those_bulk_create_writes(org):
    ours = factories.user(org, "lee@acme.test", emails=EMAILS)
    theirs = factories.user(org, "ada@acme.test", emails=EMAILS)
    ProfileValue.objects.filter(user__in=[ours, theirs]).delete()
    AuditEvent.objects.filter(action="user.create").delete()
    changes = {"name": "%s %(x)s", "quote": "it's", "list": [1, None, True]}

    insert_all(*_rows(ours, changes))
    values, events = _rows(theirs, changes)
    ProfileValue.objects.bulk_create(values)
    AuditEvent.objects.bulk_create(events)

    our_values, our_events = _written(ours)
    assert len(our_values) == 2 and len(our_events) == 1
    assert our_values[1]["value"] == EMAILS[1]["value"]
    assert our_events[0]["changes"] == changes
    assert (our_values, our_events) == _written(theirs)


def test_on_postgresql_every_group_goes_in_one_statement(org):
    user = factories.user(org, "lee@acme.test", emails=EMAILS)
    ProfileValue.objects.filter(user=user).delete()

    with CaptureQueriesContext(connection) as captured:
        insert_all(*_rows(user, {"n": 1}))

    statements = [query["sql"] for query in captured.captured_queries]
    if connection.vendor == "postgresql":
        assert len(statements) == 1
        assert statements[0].count("INSERT INTO") == 2
    else:
        assert len(statements) == 2
    assert ProfileValue.objects.filter(user=user).count() == 2


def test_a_read_at_the_end_sees_the_rows_before_it_and_returns_its_own(org):
    """A create sends the read of the reports waiting for its person after its inserts: the
    read's rows come back as model objects, from the last result of the one statement."""
    boss = factories.user(org, "boss@acme.test", external_id="00uBOSS")
    waiting = [
        factories.user(org, f"r{n}@acme.test", pending_manager_value="00uBOSS") for n in (1, 2)
    ]
    factories.user(org, "other@acme.test", pending_manager_value="00uOTHER")
    user = factories.user(org, "lee@acme.test", emails=EMAILS)
    ProfileValue.objects.filter(user=user).delete()

    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        found = insert_all(*_rows(user, {"n": 1}), then=waiting_reports_read(boss))
        inserted = ProfileValue.objects.filter(user=user).count()

    assert [(p.pk, p.username) for p in found] == [(p.pk, p.username) for p in waiting]
    assert all(isinstance(p, User) and p._state.adding is False for p in found)
    assert inserted == 2
    if connection.vendor == "postgresql":
        [sent, _count] = [query["sql"] for query in captured.captured_queries]
        assert sent.count("INSERT INTO") == 2 and sent.rstrip().endswith("FOR NO KEY UPDATE")


def test_a_read_alone_is_sent_alone(org):
    boss = factories.user(org, "boss@acme.test")
    report = factories.user(org, "r@acme.test", pending_manager_display="BOSS@acme.test")
    with transaction.atomic():
        assert insert_all([], then=waiting_reports_read(boss)) == [report]


def test_nothing_to_insert_sends_nothing(org):
    with CaptureQueriesContext(connection) as captured:
        insert_all([], [])
    assert captured.captured_queries == []


def test_a_failing_insert_fails_the_callers_transaction_and_writes_nothing(org):
    user = factories.user(org, "lee@acme.test")
    events_before = AuditEvent.objects.count()
    broken = ProfileValue(user=user, attribute=None, value="x@acme.test")  # type: ignore[misc]  # NOT NULL
    event = audit.event(actor=factories.SYSTEM, action="user.create", target=user)

    with pytest.raises(IntegrityError), transaction.atomic():
        insert_all([event], [broken])  # the first INSERT succeeds, the second does not

    assert AuditEvent.objects.count() == events_before
    assert not ProfileValue.objects.filter(value="x@acme.test").exists()


@settings(max_examples=30, deadline=None)
@given(text=st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=40))
def test_values_stay_values_whatever_they_hold(text):
    organisation = factories.organisation()
    user = factories.user(organisation, "lee@acme.test")
    event = audit.event(
        actor=factories.SYSTEM, action="user.update", target=user, changes={"text": text}
    )

    insert_all([event])

    written = AuditEvent.objects.get(action="user.update", target_id=str(user.public_id))
    assert written.changes == {"text": text}
