"""services.user_set_role: how an organisation whose last primary admin left gets a new one.
SCIM may deactivate the only primary admin (the identity provider knows who has left); support
staff then promote someone through this service (the admin's "Make primary admin" action,
tests/accounts/test_admin.py)."""

import pytest
from django.core.exceptions import ValidationError

from accounts import services
from accounts.audit import Actor
from accounts.errors import RoleRefused, UserDeleted
from accounts.models import AuditEvent, Role, User
from tests import factories

SYSTEM = factories.SYSTEM


def _events(action: str = "user.set_role") -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def test_scim_may_deactivate_the_only_primary_admin(org, primary_admin):
    services.user_deactivate(user=primary_admin, actor=Actor.scim_key("abc123"))

    assert not User.objects.filter(
        organisation=org, role=Role.PRIMARY_ADMIN, is_active=True
    ).exists()


def test_promoting_someone_saves_the_role_and_audits_it(learner, staff_user):
    before = learner.updated_at

    services.user_set_role(user=learner, actor=Actor.admin(staff_user), role=Role.PRIMARY_ADMIN)

    learner.refresh_from_db()
    assert learner.is_primary_admin
    assert learner.updated_at > before
    [event] = _events()
    assert (event.actor_user, event.target_id, event.organisation_id) == (
        staff_user,
        str(learner.public_id),
        learner.organisation_id,
    )
    assert event.changes == {"role": ["learner", "primary_admin"]}


def test_demoting_works_the_same_way(primary_admin):
    services.user_set_role(user=primary_admin, actor=SYSTEM, role=Role.ADMIN)

    primary_admin.refresh_from_db()
    assert primary_admin.role == Role.ADMIN
    assert _events()[0].changes == {"role": ["primary_admin", "admin"]}


def test_the_same_role_again_changes_nothing_and_audits_nothing(primary_admin):
    services.user_set_role(user=primary_admin, actor=SYSTEM, role=Role.PRIMARY_ADMIN)

    assert _events() == []


def test_an_unknown_role_is_refused(learner):
    with pytest.raises(ValidationError):
        services.user_set_role(user=learner, actor=SYSTEM, role="owner")

    learner.refresh_from_db()
    assert learner.role == Role.LEARNER


def test_support_staff_are_refused(staff_user):
    with pytest.raises(RoleRefused, match="'support' is support staff"):
        services.user_set_role(user=staff_user, actor=SYSTEM, role=Role.PRIMARY_ADMIN)

    assert _events() == []


def test_deleted_people_are_refused(org):
    gone = factories.user(org, "gone@acme.test")
    services.user_delete(user=gone, actor=SYSTEM)

    with pytest.raises(UserDeleted):
        services.user_set_role(user=gone, actor=SYSTEM, role=Role.PRIMARY_ADMIN)

    gone.refresh_from_db()
    assert gone.role == Role.LEARNER


def test_inactive_people_are_refused(learner):
    services.user_deactivate(user=learner, actor=SYSTEM)

    with pytest.raises(RoleRefused, match="inactive; reactivate them first"):
        services.user_set_role(user=learner, actor=SYSTEM, role=Role.PRIMARY_ADMIN)

    learner.refresh_from_db()
    assert learner.role == Role.LEARNER
    assert _events() == []


def test_a_deactivation_committed_since_the_person_was_read_is_seen(learner):
    """The admin read the list a moment ago; SCIM deactivated the person since. The service
    decides on the row as it is now, not on the copy it was given."""
    services.user_deactivate(user=User.objects.get(pk=learner.pk), actor=SYSTEM)
    assert learner.is_active  # the stale copy

    with pytest.raises(RoleRefused):
        services.user_set_role(user=learner, actor=SYSTEM, role=Role.PRIMARY_ADMIN)

    assert User.objects.get(pk=learner.pk).role == Role.LEARNER
