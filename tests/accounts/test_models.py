"""Invariants the database itself enforces, whatever code path writes the rows."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Organisation, Team, User
from tests import factories


def _raw_user(org: Organisation | None, username: str, **fields: object) -> User:
    return User(organisation=org, username=username, **fields)


def test_username_is_unique_per_organisation_ignoring_case(org):
    factories.user(org, "Jane.Doe@Acme.test")
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_user(org, "jane.doe@acme.TEST").save()


def test_username_uniqueness_holds_under_raw_bulk_create(org):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([_raw_user(org, "Sam@acme.test"), _raw_user(org, "sam@ACME.test")])
    assert not User.objects.filter(organisation=org).exists()


def test_same_username_is_allowed_in_another_organisation(org, other_org):
    first = factories.user(org, "sam@example.com")
    second = factories.user(other_org, "SAM@example.com")
    assert first.pk != second.pk
    assert User.objects.get_queryset().with_username("sam@example.com").count() == 2


def test_username_is_stored_exactly_as_received(org):
    user = factories.user(org, "MiXeD.Case@Acme.test")
    user.refresh_from_db()
    assert user.username == "MiXeD.Case@Acme.test"
    assert User.objects.for_organisation(org).with_username("mixed.case@acme.test").get() == user


def test_support_staff_usernames_are_unique_ignoring_case(db):
    factories.staff("support")
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_user(None, "SUPPORT").save()


def test_external_id_is_unique_per_organisation_when_present(org, other_org):
    factories.user(org, external_id="00u1")
    factories.user(other_org, external_id="00u1")
    factories.user(org, external_id=None)
    factories.user(org, external_id=None)  # any number without one
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([_raw_user(org, "x@acme.test", external_id="00u1")])


def test_empty_external_id_is_refused_by_the_database(org):
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_user(org, "x@acme.test", external_id="").save()


def test_inactive_user_must_have_a_deactivation_time(org):
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_user(org, "x@acme.test", is_active=False).save()


def test_deleted_user_cannot_be_active(org):
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_user(org, "x@acme.test", deleted_at=now).save()


def test_organisation_people_cannot_be_staff(org):
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_user(org, "x@acme.test", is_staff=True).save()


def test_unknown_role_is_refused_by_the_database(org):
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_user(org, "x@acme.test", role="owner").save()


def test_user_cannot_be_their_own_manager_in_the_database(org, learner):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=learner.pk).update(manager=learner)


def test_team_name_is_unique_per_organisation_ignoring_case(org, other_org):
    factories.team(org, "Sales")
    factories.team(other_org, "sales")
    with pytest.raises(IntegrityError), transaction.atomic():
        Team.objects.bulk_create([Team(organisation=org, display_name="SALES")])


def test_organisation_public_id_is_opaque_and_fixed_length(db):
    ids = {factories.organisation().public_id for _ in range(5)}
    assert len(ids) == 5
    for public_id in ids:
        assert len(public_id) == 20
        assert public_id.isalnum() and public_id == public_id.lower()


def test_organisation_slug_format_is_enforced_by_the_database(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.bulk_create([Organisation(slug="Bad_Slug", name="Bad")])
