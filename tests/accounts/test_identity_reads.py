"""The reads a create makes before it writes (accounts/identity_reads.py), compiled once: who
holds a userName or externalId, and who waits for a new person as their manager. Each is
checked against the rule it stands for, and each shape sends one SQL text whatever the values."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts import identity_reads
from accounts.models import User
from tests import factories

pytestmark = pytest.mark.django_db


def _new(org, username: str, external_id: str | None = None) -> User:
    return User(organisation=org, username=username, external_id=external_id)


def test_the_username_holder_is_found_ignoring_case(org):
    lee = factories.user(org, "lee@acme.test")

    found = identity_reads.identifier_holder(_new(org, "LEE@Acme.TEST"))

    assert found is not None and found.pk == lee.pk
    assert found.holds_the_username is True  # type: ignore[attr-defined]


def test_the_external_id_holder_is_found_when_no_one_holds_the_username(org):
    holder = factories.user(org, "ada@acme.test", external_id="00u1")

    found = identity_reads.identifier_holder(_new(org, "lee@acme.test", "00u1"))

    assert found is not None and found.pk == holder.pk
    assert found.holds_the_username is False  # type: ignore[attr-defined]


def test_the_username_holder_comes_first_when_both_are_taken_by_different_people(org):
    factories.user(org, "ada@acme.test", external_id="00u1")
    lee = factories.user(org, "lee@acme.test", external_id="00u2")

    found = identity_reads.identifier_holder(_new(org, "lee@acme.test", "00u1"))

    assert found is not None and found.pk == lee.pk


def test_deleted_and_inactive_people_hold_their_identifiers(org):
    gone = factories.user(org, "gone@acme.test", external_id="00u9")
    User.objects.filter(pk=gone.pk).update(
        is_active=False, deactivated_at=gone.created_at, deleted_at=gone.created_at
    )

    by_name = identity_reads.identifier_holder(_new(org, "gone@acme.test"))
    by_id = identity_reads.identifier_holder(_new(org, "other@acme.test", "00u9"))

    assert by_name is not None and by_name.pk == gone.pk
    assert by_id is not None and by_id.pk == gone.pk


def test_a_person_does_not_hold_their_own_identifiers_nor_another_organisations(org, other_org):
    lee = factories.user(org, "lee@acme.test", external_id="00u1")
    factories.user(other_org, "ada@acme.test", external_id="00u2")

    assert identity_reads.identifier_holder(lee) is None
    assert identity_reads.identifier_holder(_new(org, "ada@acme.test", "00u2")) is None


def test_each_shape_sends_one_sql_text_whatever_the_values(org):
    factories.user(org, "lee@acme.test")
    plain, with_ids = factories.user(org, "c@acme.test"), factories.user(org, "dd@acme.test")
    User.objects.filter(pk=with_ids.pk).update(external_id="00uD", email="")
    with_ids.refresh_from_db()
    with CaptureQueriesContext(connection) as captured:
        identity_reads.identifier_holder(_new(org, "a@acme.test", "00uA"))
        identity_reads.identifier_holder(_new(org, "bb@acme.test", "00uBB"))
        identity_reads.waiting_reports(plain)
        identity_reads.waiting_reports(with_ids)

    first, second, third, fourth = (_without_values(q["sql"]) for q in captured.captured_queries)
    assert first == second
    assert third == fourth


def _without_values(sql: str) -> str:
    """The statement as sent, without the values Django's log fills in."""
    return re.sub(r"'[^']*'|\b\d+\b", "?", sql)


def _waiting_for_a_manager(org, username: str, value: str = "", display: str = "") -> User:
    """Someone whose manager reference waits (set directly: user_create would link it)."""
    report = factories.user(org, username)
    User.objects.filter(pk=report.pk).update(
        pending_manager_value=value, pending_manager_display=display
    )
    return report


def test_waiting_reports_are_those_naming_the_manager_by_id_external_id_username_or_email(
    org, other_org
):
    boss = factories.user(org, "Boss@acme.test", external_id="00uBOSS", email="b.oss@acme.test")
    _waiting_for_a_manager(org, "by.id@acme.test", value=str(boss.public_id))
    _waiting_for_a_manager(org, "by.external.id@acme.test", value="00uBOSS")
    _waiting_for_a_manager(org, "by.username@acme.test", display="boss@ACME.test")
    _waiting_for_a_manager(org, "by.email@acme.test", display="B.OSS@acme.test")
    _waiting_for_a_manager(org, "someone.else@acme.test", value="00uOTHER", display="x@acme.test")
    factories.user(org, "no.reference@acme.test")
    _waiting_for_a_manager(other_org, "namesake@other.test", value="00uBOSS")

    found = identity_reads.waiting_reports(boss)

    assert [person.username for person in found] == [
        "by.id@acme.test",
        "by.external.id@acme.test",
        "by.username@acme.test",
        "by.email@acme.test",
    ]
    assert [person.pk for person in found] == sorted(person.pk for person in found)


NAMES = st.text(st.sampled_from("abAB.@0u"), max_size=5)


@settings(max_examples=40, deadline=None)
@given(
    manager=st.tuples(NAMES.filter(bool), NAMES, NAMES),
    references=st.lists(st.tuples(NAMES, NAMES), max_size=5),
)
def test_waiting_reports_follow_the_rule_for_any_names(manager, references):
    username, external_id, email = manager
    org = factories.organisation()
    boss = factories.user(org, "boss")
    User.objects.filter(pk=boss.pk).update(
        username=username, external_id=external_id or None, email=email
    )
    boss.refresh_from_db()
    for n, (value, display) in enumerate(references):
        _waiting_for_a_manager(org, f"report-{n}", value, display)

    def names_boss(value: str, display: str) -> bool:
        by_value = value != "" and value in {str(boss.public_id), external_id}
        by_display = display != "" and display.lower() in {username.lower(), email.lower()}
        return by_value or by_display

    found = identity_reads.waiting_reports(boss)

    expected = [f"report-{n}" for n, ref in enumerate(references) if names_boss(*ref)]
    assert [person.username for person in found] == expected
