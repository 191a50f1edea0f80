"""Every change of organisation, user and team state, one function each.

SCIM, SAML sign-in, the settings pages, the Django admin and management commands all call these;
nothing else saves a domain model. Each function runs in one transaction and writes an audit event
naming the actor, the action, the object and the fields that changed.
"""

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, Unpack

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, NotSupportedError, connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    F,
    Func,
    JSONField,
    QuerySet,
    Value,
)
from django.db.models.functions import Lower
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from accounts import audit, custom_attributes, identity_reads, profile_values
from accounts.audit import Actor
from accounts.errors import (
    CustomAttributeNameTaken,
    CustomAttributeRefused,
    ManagerRefused,
    MembersRefused,
    OrganisationSlugTaken,
    RoleRefused,
    TeamNameTaken,
    UserConflict,
    UserDeleted,
)
from accounts.models import (
    PROFILE_LISTS,
    AttributeType,
    AuditEvent,
    CustomAttribute,
    Organisation,
    Role,
    Team,
    TeamMembership,
    User,
)
from auzlearn.compiled_inserts import insert_sql
from auzlearn.one_trip_inserts import insert_all


class UserFields(TypedDict, total=False):
    """The profile of a user that provisioning and admins may set, besides the userName."""

    external_id: str | None
    # The sign-in address. Given alone it changes that one of ``emails`` (profile_values);
    # with ``emails`` it is worked out from them and need not be given.
    email: str
    given_name: str
    middle_name: str
    family_name: str
    honorific_prefix: str
    honorific_suffix: str
    formatted_name: str
    display_name: str
    nick_name: str
    profile_url: str
    title: str
    user_type: str
    preferred_language: str
    locale: str
    timezone: str
    employee_number: str
    cost_center: str
    company: str
    division: str
    department: str
    # Lists of values as SCIM sends them (accounts.models.PROFILE_LISTS).
    emails: list[dict[str, Any]]
    phone_numbers: list[dict[str, Any]]
    addresses: list[dict[str, Any]]
    photos: list[dict[str, Any]]
    role: str


class UserChanges(UserFields, total=False):
    username: str


class TeamFields(TypedDict, total=False):
    display_name: str
    external_id: str | None


@dataclass(frozen=True)
class ManagerReference:
    """A manager as SCIM names one: ``value`` (our id, else an externalId) and ``display_name``
    (a userName or email). Both empty means "no manager"."""

    value: str = ""
    display_name: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.value and not self.display_name


# --- organisations -------------------------------------------------------------------------


@transaction.atomic
def organisation_create(*, actor: Actor, slug: str, name: str) -> Organisation:
    organisation = Organisation(slug=slug, name=name)
    organisation.full_clean(
        exclude=["public_id"], validate_unique=False, validate_constraints=False
    )
    if Organisation.objects.filter(slug=slug).exists():
        raise OrganisationSlugTaken(slug)
    try:
        with transaction.atomic():
            organisation.save()
    except IntegrityError:
        raise OrganisationSlugTaken(slug) from None
    audit.record(
        actor=actor,
        action="organisation.create",
        target=organisation,
        changes={"slug": slug, "name": name},
    )
    return organisation


class OrganisationFields(TypedDict, total=False):
    name: str
    scim_enabled: bool
    sso_required: bool


@transaction.atomic
def organisation_update(
    *, organisation: Organisation, actor: Actor, **changes: Unpack[OrganisationFields]
) -> Organisation:
    """Rename or switch features on and off; the slug and public id never change."""
    diff = _apply(organisation, dict(changes))
    if not diff:
        return organisation
    organisation.full_clean(
        exclude=["public_id"], validate_unique=False, validate_constraints=False
    )
    organisation.save(update_fields=list(diff))
    audit.record(actor=actor, action="organisation.update", target=organisation, changes=diff)
    return organisation


# --- users ---------------------------------------------------------------------------------


@transaction.atomic
def staff_create(*, username: str, password: str | None, email: str = "") -> User:
    """A support staff superuser: no organisation, Django admin only."""
    user = User(username=username, is_staff=True, is_superuser=True)
    _apply(user, _with_sign_in_email(user, {"email": email}))
    user.set_password(password)
    _validate(user)
    if User.objects.support_staff().with_username(username).exists():
        raise UserConflict(field="userName", value=username, existing=None)
    user.save()
    profile_values.store(user, [f for f in PROFILE_LISTS if getattr(user, f)], new=True)
    audit.record(
        actor=Actor.system("createsuperuser"),
        action="staff.create",
        target=user,
        changes={"username": username},
    )
    return user


def user_create(
    *,
    organisation: Organisation,
    actor: Actor,
    username: str,
    password: str | None = None,
    active: bool = True,
    manager: ManagerReference | None = None,
    **fields: Unpack[UserFields],
) -> User:
    """Create a person. Raises UserConflict when the userName or externalId is taken (active,
    inactive or deleted: the caller decides whether to revive the existing row, in the same
    transaction). The INSERT is the check: one that finds either taken, whether long ago or by
    another server a moment ago, inserts nothing and the transaction goes on
    (_insert_new_user); only then is the holder looked up, and the conflict raised outside
    the writes, as above user_deactivate."""
    user = User(organisation=organisation, username=username)
    _apply(user, _with_sign_in_email(user, dict(fields)))
    user.updated_at = user.created_at
    user.set_password(password)  # None gives an unusable password: SSO-only
    if not active:
        user.is_active, user.deactivated_at = False, timezone.now()
    _validate(user)
    with transaction.atomic(savepoint=False):
        inserted = _insert_new_user(user)
        if inserted:
            # Their profile rows and the audit row, and the lock on the reports waiting for
            # them, in one round trip (one_trip_inserts).
            waiting = insert_all(
                profile_values.rows_of(user, [f for f in PROFILE_LISTS if getattr(user, f)]),
                [
                    audit.event(
                        actor=actor, action="user.create", target=user, changes=_profile_of(user)
                    )
                ],
                then=identity_reads.waiting_reports_read(user),
            )
            if manager is not None and not manager.is_empty:
                user_set_manager_reference(user=user, actor=actor, reference=manager)
            _link_waiting_reports(manager=user, actor=actor, waiting=waiting)
    if not inserted:
        _refuse_conflicts(user)
        raise UserConflict(field="userName", value=user.username, existing=None)
    return user


def user_update(*, user: User, actor: Actor, **changes: Unpack[UserChanges]) -> User:
    """Change profile fields; only the fields that really change are saved and audited. The
    checks come first, then the writes, in the caller's transaction if there is one (no
    SAVEPOINT and RELEASE: above user_deactivate), else in one of their own."""
    if user.is_deleted:
        raise UserDeleted(user)
    diff = _apply(user, _with_sign_in_email(user, dict(changes)))
    if not diff:
        return user
    _validate(user)
    # A new userName or externalId may still lose a race with another server after the check:
    # that change keeps a savepoint, so the UserConflict it raises leaves the caller's
    # transaction usable (an exception out of a block without one dooms it).
    may_conflict = bool({"username", "external_id"} & diff.keys())
    if may_conflict:
        _refuse_conflicts(user)
    with transaction.atomic(savepoint=may_conflict):
        user.updated_at = timezone.now()
        _save_existing_user(user, [*diff, "updated_at"])
        profile_values.store(user, diff)
        audit.record(actor=actor, action="user.update", target=user, changes=diff)
        if {"username", "email"} & diff.keys():
            _touch_reports_of(user, user.updated_at)  # they show this email as their manager's
        # A new userName, email or externalId may be what a waiting report named as manager.
        if {"username", "email", "external_id"} & diff.keys():
            _link_waiting_reports(manager=user, actor=actor)
    return user


@transaction.atomic
def user_set_password(*, user: User, actor: Actor, password: str | None) -> User:
    user.set_password(password)
    user.updated_at = timezone.now()
    user.save(update_fields=["password", "updated_at"])
    audit.record(actor=actor, action="user.set_password", target=user)
    return user


# Deactivation, reactivation and profile updates check what they were given first, outside
# any atomic block, then write in one without a savepoint of its own (as the membership changes
# below): a refusal leaves the caller's transaction as it was (an exception leaving a block
# without a savepoint would doom it), and a SCIM PUT or PATCH, which calls them inside its own
# transaction, saves a SAVEPOINT and RELEASE for each (bench: PATCH active).


def user_deactivate(*, user: User, actor: Actor) -> User:
    """Soft delete: no sign-in, every session ends, everything else stays. Idempotent."""
    if not user.is_active:
        return user
    with transaction.atomic(savepoint=False):
        now = timezone.now()
        user.is_active, user.deactivated_at = False, now
        user.sessions_revoked_at = now
        user.updated_at = now
        fields = ["is_active", "deactivated_at", "sessions_revoked_at", "updated_at"]
        user.save(update_fields=fields)
        audit.record(
            actor=actor, action="user.deactivate", target=user, changes={"active": [True, False]}
        )
    return user


def user_reactivate(*, user: User, actor: Actor) -> User:
    """The same row, id, teams and history come back. Idempotent. A deleted user must be
    revived instead, which also takes their new profile."""
    if user.is_deleted:
        raise UserDeleted(user)
    if user.is_active:
        return user
    with transaction.atomic(savepoint=False):
        user.is_active, user.deactivated_at = True, None
        user.updated_at = timezone.now()
        user.save(update_fields=["is_active", "deactivated_at", "updated_at"])
        audit.record(
            actor=actor, action="user.reactivate", target=user, changes={"active": [False, True]}
        )
    return user


@transaction.atomic
def user_delete(*, user: User, actor: Actor) -> User:
    """Tombstone (SCIM DELETE): hidden from SCIM from now on; the row, teams and learning
    history stay so that a later POST of the same person revives them. Idempotent."""
    if user.is_deleted:
        return user
    now = timezone.now()
    was_active = user.is_active
    user.deleted_at = now
    user.is_active = False
    user.deactivated_at = user.deactivated_at or now
    user.sessions_revoked_at = now
    user.updated_at = now
    user.save(
        update_fields=[
            "deleted_at",
            "is_active",
            "deactivated_at",
            "sessions_revoked_at",
            "updated_at",
        ]
    )
    # Their teams and reports keep the links (revival restores them) but stop showing them.
    _touch_teams_of(user, now)
    _touch_reports_of(user, now)
    audit.record(
        actor=actor,
        action="user.delete",
        target=user,
        changes={"deleted": [False, True], "active": [was_active, False]},
    )
    return user


@transaction.atomic
def user_revive(
    *, user: User, actor: Actor, active: bool = True, **fields: Unpack[UserChanges]
) -> User:
    """Bring back a deleted or deactivated person as the same row (same id, teams and
    history), taking the profile the identity provider sends now."""
    was_deleted, was_active = user.is_deleted, user.is_active
    diff = _apply(user, _with_sign_in_email(user, dict(fields)))
    _validate(user)
    if {"username", "external_id"} & diff.keys():
        _refuse_conflicts(user)
    now = timezone.now()
    user.deleted_at = None
    if active:
        user.is_active, user.deactivated_at = True, None
    else:
        user.is_active, user.deactivated_at = False, user.deactivated_at or now
    user.updated_at = now
    _save_existing_user(user, [*diff, "deleted_at", "is_active", "deactivated_at", "updated_at"])
    profile_values.store(user, diff)
    if was_deleted:  # the teams and reports that kept their links show them again
        _touch_teams_of(user, now)
        _touch_reports_of(user, now)
    elif {"username", "email"} & diff.keys():
        _touch_reports_of(user, now)
    diff.update(deleted=[was_deleted, False], active=[was_active, user.is_active])
    audit.record(actor=actor, action="user.revive", target=user, changes=diff)
    _link_waiting_reports(manager=user, actor=actor)
    return user


@transaction.atomic
def user_set_role(*, user: User, actor: Actor, role: str) -> User:
    """Give a live person of an organisation another role; support staff, deleted and inactive
    people are refused. This is how support staff give an organisation a primary admin again
    after SCIM deactivated the last one (the identity provider knows who has left, so SCIM may
    do that). Idempotent."""
    if role not in Role.values:
        raise ValidationError({"role": f"{role!r} is not a role."})
    # Decide on the row as committed now, locked as SCIM locks people (FOR NO KEY UPDATE): a
    # deactivation racing this promotion is either seen here or waits until it is done.
    user.refresh_from_db(
        from_queryset=User.objects.select_for_update(no_key=True),
        fields=["organisation", "role", "is_active", "deleted_at"],
    )
    if user.organisation_id is None:
        raise RoleRefused(
            f"{user.username!r} is support staff; roles are for people of an organisation."
        )
    if user.is_deleted:
        raise UserDeleted(user)
    if not user.is_active:
        raise RoleRefused(f"User {user.username!r} is inactive; reactivate them first.")
    if user.role == role:
        return user
    old = user.role
    user.role = role
    user.updated_at = timezone.now()
    user.save(update_fields=["role", "updated_at"])
    audit.record(actor=actor, action="user.set_role", target=user, changes={"role": [old, role]})
    return user


# --- managers ------------------------------------------------------------------------------
#
# No cycles, even between two app servers: "A reports to B" and, at the same moment, "B reports
# to A" must not both pass their check. Every change that links a manager first locks the
# organisation's management chains (_lock_management_chains) and then reads the chain from the
# database, so the second change sees the first and is refused. People's rows are locked FOR NO
# KEY UPDATE (scim.views), which the foreign-key check on manager_id does not wait for: two
# such changes never deadlock on each other's rows.


@transaction.atomic
def user_set_manager(*, user: User, actor: Actor, manager: User | None) -> User:
    """Link (or unlink, with None) a manager of the same organisation; cycles are refused."""
    if manager is not None:
        _check_manager_allowed(user=user, manager=manager)
    return _store_manager(user, actor, manager=manager, pending=ManagerReference())


@transaction.atomic
def user_set_manager_reference(*, user: User, actor: Actor, reference: ManagerReference) -> User:
    """Set the manager from a SCIM-style reference (DESIGN §4): the value as our user id, then
    as an externalId, then the display name as a userName or email. A reference that names
    nobody yet is remembered and linked as soon as that person is provisioned."""
    if reference.is_empty:
        return user_set_manager(user=user, actor=actor, manager=None)
    assert user.organisation is not None, "support staff have no manager"
    manager = _resolve_manager(user.organisation, reference)
    if manager is not None:
        return user_set_manager(user=user, actor=actor, manager=manager)
    return _store_manager(user, actor, manager=None, pending=reference)


def _store_manager(
    user: User, actor: Actor, *, manager: User | None, pending: ManagerReference
) -> User:
    """Save a manager link, or a reference waiting for its manager; no-op when unchanged."""
    waiting = (pending.value[:255], pending.display_name[:255])
    if user.manager == manager and (
        (user.pending_manager_value, user.pending_manager_display) == waiting
    ):
        return user
    old = user.manager
    user.manager = manager
    user.pending_manager_value, user.pending_manager_display = waiting
    user.updated_at = timezone.now()
    user.save(
        update_fields=["manager", "pending_manager_value", "pending_manager_display", "updated_at"]
    )
    changes: dict[str, Any] = {"manager": [_ref(old), _ref(manager)]}
    if not pending.is_empty:
        changes["pending_manager"] = {"value": waiting[0], "display_name": waiting[1]}
    audit.record(actor=actor, action="user.set_manager", target=user, changes=changes)
    return user


def _resolve_manager(organisation: Organisation, reference: ManagerReference) -> User | None:
    """The live person of this organisation the reference names, or None. Only this
    organisation's people are looked at: another organisation's id is treated exactly as an
    unknown one (remembered as pending), so the answer says nothing about other tenants."""
    people = User.objects.for_organisation(organisation).not_deleted()
    if reference.value:
        public_id = _as_uuid(reference.value)
        if public_id is not None:
            found = people.filter(public_id=public_id).first()
            if found is not None:
                return found
        found = people.filter(external_id=reference.value).first()
        if found is not None:
            return found
    if reference.display_name:
        found = people.with_username(reference.display_name).first()
        if found is not None:
            return found
        by_email = list(people.with_email(reference.display_name)[:2])
        if len(by_email) == 1:  # an email shared by two people names neither
            return by_email[0]
    return None


def _check_manager_allowed(*, user: User, manager: User) -> None:
    if manager.organisation_id is None or manager.organisation_id != user.organisation_id:
        raise ManagerRefused(f"{manager.username!r} is not a user of this organisation.")
    if manager.pk == user.pk:
        raise ManagerRefused("A person cannot be their own manager.")
    assert user.organisation_id is not None  # support staff have no organisation
    _lock_management_chains(user.organisation_id)
    if user.pk in _managers_above(manager.pk):
        raise ManagerRefused(
            f"{manager.username!r} reports to {user.username!r}, directly or indirectly; "
            "making them their manager would create a cycle."
        )


def _lock_management_chains(organisation_id: int) -> None:
    """Serialise the changes that link managers in one organisation, across app servers, until
    the transaction ends. FOR NO KEY UPDATE of the organisation's row: it does not block the
    foreign-key checks of people and teams being created meanwhile. (SQLite serialises every
    writer anyway and ignores the lock.)"""
    Organisation.objects.select_for_update(no_key=True).filter(pk=organisation_id).values_list(
        "pk"
    ).first()


# Everyone above a person, in one statement whatever the depth. UNION (not UNION ALL) ends the
# walk should the data ever hold a cycle.
_MANAGERS_ABOVE = f"""
    WITH RECURSIVE above(id) AS (
        SELECT manager_id FROM {User._meta.db_table} WHERE id = %s AND manager_id IS NOT NULL
        UNION
        SELECT person.manager_id FROM {User._meta.db_table} person
        JOIN above ON person.id = above.id
        WHERE person.manager_id IS NOT NULL
    )
    SELECT id FROM above
"""  # noqa: S608 (the table name is ours; the id is a parameter)


def _managers_above(user_id: int) -> set[int]:
    """The ids of everyone above this person in the management chain, as committed now (not as
    an object read earlier in the request remembers it)."""
    with connection.cursor() as cursor:
        cursor.execute(_MANAGERS_ABOVE, [user_id])
        return {row[0] for row in cursor.fetchall()}


def _link_waiting_reports(
    *, manager: User, actor: Actor, waiting: list[User] | None = None
) -> None:
    """Link everyone whose pending manager reference names ``manager``: ``waiting``, when the
    caller has already read and locked them (identity_reads.waiting_reports)."""
    # organisation_id, not organisation: a person read without their organisation (a SCIM
    # PUT's locked read) would load it for nothing.
    organisation_id = manager.organisation_id
    if organisation_id is None or manager.is_deleted:
        return
    # The reports' rows are locked first, in id order, and the chains after them: the order
    # every manager change follows (its own person, then the chains), so none waits on another
    # in a circle. A report whose reference changed while we waited drops out of the result.
    waiting_reports = identity_reads.waiting_reports(manager) if waiting is None else waiting
    if not waiting_reports:
        return
    _lock_management_chains(organisation_id)
    above = _managers_above(manager.pk)
    reports = [report for report in waiting_reports if report.pk not in above]
    if not reports:
        return
    now = timezone.now()
    User.objects.filter(pk__in=[r.pk for r in reports]).update(
        manager=manager, pending_manager_value="", pending_manager_display="", updated_at=now
    )
    AuditEvent.objects.bulk_create(
        [
            audit.event(
                actor=actor,
                action="user.set_manager",
                target=report,
                changes={"manager": [None, _ref(manager)], "pending_manager": None},
            )
            for report in reports
        ]
    )


def _touch_reports_of(user: User, now: datetime) -> None:
    """The people who show ``user`` as their manager now look different (the manager's email,
    or no manager while ``user`` is deleted): a new lastModified for each (accounts.versions)."""
    User.objects.filter(manager=user).update(updated_at=now)


# --- teams ---------------------------------------------------------------------------------


@transaction.atomic
def team_create(
    *,
    organisation: Organisation,
    actor: Actor,
    display_name: str,
    external_id: str | None = None,
    members: Collection[User] = (),
) -> Team:
    team = Team(organisation=organisation, display_name=display_name, external_id=external_id)
    team.updated_at = team.created_at
    _validate(team)
    _refuse_team_name_taken(team)
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError:
        raise TeamNameTaken(display_name) from None
    audit.record(
        actor=actor,
        action="team.create",
        target=team,
        changes={"display_name": display_name, "external_id": external_id},
    )
    if members:
        team_add_members(team=team, actor=actor, users=members)
    return team


@transaction.atomic
def team_update(*, team: Team, actor: Actor, **changes: Unpack[TeamFields]) -> Team:
    """Rename a team or change its externalId."""
    diff = _apply(team, dict(changes))
    if not diff:
        return team
    _validate(team)
    saved = [*diff, "updated_at"]
    team.updated_at = timezone.now()
    if "display_name" in diff:
        _refuse_team_name_taken(team)
        team.renamed_at = team.updated_at  # every member shows the new name (accounts.versions)
        saved.append("renamed_at")
    try:
        with transaction.atomic():
            team.save(update_fields=saved)
    except IntegrityError:
        raise TeamNameTaken(team.display_name) from None
    audit.record(actor=actor, action="team.update", target=team, changes=diff)
    return team


@transaction.atomic
def team_delete(*, team: Team, actor: Actor) -> None:
    """Remove the team and its memberships; the people stay, without the team in their list."""
    member_ids = _member_public_ids(team)
    User.objects.filter(memberships__team=team).update(updated_at=timezone.now())
    audit.record(
        actor=actor,
        action="team.delete",
        target=team,
        changes={"display_name": team.display_name, "members": member_ids},
    )
    team.delete()


# The membership changes check what they were given first, then write without a savepoint of
# their own: a refusal leaves the caller's transaction as it was, and the SCIM request that calls
# them inside its transaction saves two statements (bench: team PATCH).


def team_add_members(*, team: Team, actor: Actor, users: Collection[User]) -> Team:
    """Add people (members already are skipped). A constant number of queries for any size."""
    _check_members_allowed(team, users)
    with transaction.atomic(savepoint=False):
        _change_members(team, actor, joining=list(users), removed={})
    return team


def team_remove_members(*, team: Team, actor: Actor, users: Collection[User]) -> Team:
    """Remove people, in whatever state they are (deleted ones too: a removal always succeeds,
    DESIGN §4); non-members are ignored. A constant number of queries for any size."""
    _check_members_allowed(team, users)
    with transaction.atomic(savepoint=False):
        present = _present_members(team, users)
        removed = {u.pk: str(u.public_id) for u in users if u.pk in present}
        _change_members(team, actor, joining=[], removed=removed)
    return team


def team_set_members(*, team: Team, actor: Actor, users: Collection[User]) -> Team:
    """Make the membership exactly ``users``: anyone else leaves, deleted people included (a
    membership the identity provider left out does not come back on revival, DESIGN §4). A
    constant number of queries for any size."""
    _check_members_allowed(team, users)
    with transaction.atomic(savepoint=False):
        # Lock the team so two concurrent full replacements cannot interleave their differences.
        Team.objects.select_for_update().filter(pk=team.pk).values_list("pk").first()
        wanted = {user.pk for user in users}
        present = dict(
            TeamMembership.objects.filter(team=team).values_list("user_id", "user_public_id")
        )
        joining = [user for user in users if user.pk not in present]
        removed = {pk: str(public_id) for pk, public_id in present.items() if pk not in wanted}
        _change_members(team, actor, joining=joining, removed=removed)
    return team


def _present_members(team: Team, users: Collection[User]) -> set[int]:
    """Which of ``users`` are members now: one query."""
    return set(
        TeamMembership.objects.filter(team=team, user__any=[u.pk for u in users]).values_list(
            "user_id", flat=True
        )
    )


def _change_members(
    team: Team, actor: Actor, *, joining: list[User], removed: dict[int, str]
) -> None:
    """Apply a membership difference in bulk: ``joining`` become members (those who are
    already are skipped), ``removed`` (user pk to public id) leave."""
    joining = list({user.pk: user for user in joining}.values())  # the same person twice is once
    if removed:
        TeamMembership.objects.filter(team=team, user_id__any=removed).delete()
    now = timezone.now()
    # Each person who joined shows one more team: their membership's beginning is part of
    # their lastModified (accounts.versions), so no row of theirs is written.
    added = _insert_memberships(team, joining, now) if joining else []
    if not added and not removed:
        return
    team.updated_at = now
    Team.objects.filter(pk=team.pk).update(updated_at=team.updated_at)
    if removed:  # each person who left shows one team fewer: a new lastModified
        User.objects.filter(pk__any=removed).update(updated_at=team.updated_at)
    audit.record(
        actor=actor,
        action="team.members",
        target=team,
        changes={
            "members": {
                "added": [str(user.public_id) for user in added],
                "removed": list(removed.values()),
            }
        },
    )


def _insert_memberships(team: Team, people: list[User], joined: datetime) -> list[User]:
    """The new memberships of ``people``, those that exist already skipped (members already,
    or added a moment ago by a concurrent request), each with its member's SCIM id and
    deletion (TeamMembership) as the people's rows say now; returns those who joined. On
    PostgreSQL one INSERT … RETURNING of the ids as one array, whatever their number: the
    ORM's bulk_create sends a parameter a column a row, 1,280 for Entra's 256 members, each
    prepared by Django and converted by psycopg, and a read of who is a member already was a
    round trip of its own (bench: adding 256 members). It reads the people FOR SHARE, so that
    a deletion or revival of one of them either waits for this transaction (and then updates
    its membership too) or is seen by it."""
    user_ids = [person.pk for person in people]
    if connection.vendor != "postgresql":
        members = TeamMembership.objects.filter(team=team).values("user_id")
        rows = list(
            User.objects.get_queryset()
            .filter(pk__in=user_ids)
            .exclude(pk__in=members)
            .values_list("pk", "public_id", "deleted_at")
        )
        TeamMembership.objects.bulk_create(
            [
                TeamMembership(
                    team=team,
                    user_id=pk,
                    created_at=joined,
                    user_public_id=public_id,
                    user_deleted=deleted_at is not None,
                )
                for pk, public_id, deleted_at in rows
            ],
            ignore_conflicts=True,
        )
        joining = {pk for pk, _, _ in rows}
        return [person for person in people if person.pk in joining]
    memberships = connection.ops.quote_name(TeamMembership._meta.db_table)
    people_table = connection.ops.quote_name(User._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH joining AS (SELECT id, public_id, deleted_at FROM {people_table} "  # noqa: S608
            "WHERE id = ANY(%s::bigint[]) ORDER BY id FOR SHARE) "  # (our own tables)
            f"INSERT INTO {memberships} "
            "(team_id, user_id, created_at, user_public_id, user_deleted) "
            "SELECT %s, id, %s, public_id, deleted_at IS NOT NULL FROM joining "
            "ON CONFLICT DO NOTHING RETURNING user_id",
            [user_ids, team.pk, joined],
        )
        joined_ids = {row[0] for row in cursor.fetchall()}
    return [person for person in people if person.pk in joined_ids]


def _check_members_allowed(team: Team, users: Collection[User]) -> None:
    strangers = [user.username for user in users if user.organisation_id != team.organisation_id]
    if strangers:
        raise MembersRefused(
            "Not people of this organisation: "
            + ", ".join(sorted(strangers)[:10])
            + (f" and {len(strangers) - 10} more" if len(strangers) > 10 else "")
        )


def _touch_teams_of(user: User, now: datetime) -> None:
    """The teams that list ``user`` look different when they stop (deletion) or start again
    (revival) showing them: a new version for each, in one statement. (Their memberships'
    user_deleted follows the person's row by a trigger: accounts/migrations/0012.)"""
    Team.objects.filter(memberships__user=user).update(updated_at=now)


def _member_public_ids(team: Team) -> list[str]:
    return [str(pk) for pk in team.members.values_list("public_id", flat=True)]


def _refuse_team_name_taken(team: Team) -> None:
    clash = (
        Team.objects.filter(organisation_id=team.organisation_id)
        .alias(name_lower=Lower("display_name"))
        .filter(name_lower=Lower(Value(team.display_name)))
        .exclude(pk=team.pk)
    )
    if clash.exists():
        raise TeamNameTaken(team.display_name)


# --- helpers -------------------------------------------------------------------------------


def _apply(instance: Organisation | User | Team, changes: dict[str, Any]) -> dict[str, list[Any]]:
    """Set attributes; return {field: [old, new]} for those that really changed."""
    diff: dict[str, list[Any]] = {}
    for field, new in changes.items():
        old = getattr(instance, field)
        if old != new:
            setattr(instance, field, new)
            diff[field] = [old, new]
    return diff


def _validate(instance: User | Team) -> None:
    """Field-level checks (lengths, email format, choices) before touching the database, so
    bad values give a clear error on every database, not a DataError on PostgreSQL only."""
    instance.full_clean(
        exclude=["password", "public_id", "organisation", "manager"],
        validate_unique=False,
        validate_constraints=False,
    )
    if isinstance(instance, User) and instance.external_id == "":
        raise ValidationError({"external_id": "externalId must not be empty; omit it instead."})
    if isinstance(instance, User):
        for field in PROFILE_LISTS:
            profile_values.check(field, getattr(instance, field))


def _refuse_conflicts(user: User) -> None:
    """One query for both unique identifiers (one round trip fewer per create), compiled once
    (accounts.identity_reads); the userName is the conflict reported when both are taken, by
    different people."""
    existing = identity_reads.identifier_holder(user)
    if existing is None:
        return
    if existing.holds_the_username:  # type: ignore[attr-defined]  # identity_reads' annotation
        raise UserConflict(field="userName", value=user.username, existing=existing)
    raise UserConflict(field="externalId", value=user.external_id or "", existing=existing)


def _with_sign_in_email(user: User, changes: dict[str, Any]) -> dict[str, Any]:
    """The changes with the sign-in address and the emails kept in step (User.email): new
    emails give the address; a new address alone changes that one of the emails."""
    emails = changes.get("emails")
    if isinstance(emails, list):
        changes["email"] = profile_values.sign_in_address(emails)
    elif "email" in changes:
        changes["emails"] = profile_values.with_sign_in_address(user.emails, changes["email"])
    return changes


def _insert_new_user(user: User) -> bool:
    """Save a new person by one INSERT … ON CONFLICT DO NOTHING RETURNING; False when it
    inserted nothing because the userName or externalId is taken (the unique indexes are the
    rule identity_reads.identifier_holder reports on), by a person committed long ago or by a
    concurrent create of another server, which the INSERT waits for. The transaction goes on
    either way: no conflict check before every create, and no SAVEPOINT and RELEASE around it
    to catch an IntegrityError (three round trips of a POST /Users; bench/README.md, issue 15).

    This is the INSERT Model.save makes, compiled once (auzlearn/compiled_inserts.py: each
    field's pre_save and get_db_prep_save as the ORM calls them), and what
    AbstractBaseUser.save adds; no save signal is sent, and none is connected to User
    (tests/accounts/test_services.py checks both). SQLite saves in a savepoint instead: its
    INSERT OR IGNORE would skip a row for any constraint (a CHECK too), not only a taken
    identifier."""
    if connection.vendor != "postgresql":
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            return False
        return True
    sql, params = insert_sql([user], returning_pk=True, ignore_conflicts=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    user.pk = row[0]
    user._state.adding, user._state.db = False, connection.alias
    if user._password is not None:  # type: ignore[attr-defined]  # as AbstractBaseUser.save
        password_validation.password_changed(user._password, user)  # type: ignore[attr-defined]
        user._password = None  # type: ignore[attr-defined]
    return True


def _save_existing_user(user: User, fields: list[str]) -> None:
    """Save these fields. Only a new userName or externalId can break a unique constraint,
    losing a race that _refuse_conflicts could not see: that UPDATE alone gets a savepoint, so
    the conflict is a UserConflict and the caller's transaction goes on."""
    if not {"username", "external_id"} & set(fields):
        user.save(update_fields=fields)
        return
    try:
        with transaction.atomic():
            user.save(update_fields=fields)
    except IntegrityError:
        raise UserConflict(field="userName", value=user.username, existing=None) from None


def _profile_of(user: User) -> dict[str, Any]:
    fields = [name for name in UserChanges.__annotations__ if getattr(user, name)]
    profile: dict[str, Any] = {name: getattr(user, name) for name in fields}
    profile["active"] = user.is_active
    return profile


def _ref(user: User | None) -> str | None:
    return str(user.public_id) if user is not None else None


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


# --- the organisation's own attributes -----------------------------------------------------
#
# An organisation defines attributes of its own (CustomAttribute); each person's values live in
# User.custom_attributes, a JSON object keyed by the attribute's name as defined. SCIM publishes
# and accepts them as one schema extension of User, SAML sign-in sets them from mapped attribute
# statements; both through user_set_custom_attributes.


@transaction.atomic
def custom_attribute_add(
    *,
    organisation: Organisation,
    actor: Actor,
    name: str,
    type: str,
    description: str = "",
) -> CustomAttribute:
    """Define an attribute. Refused (CustomAttributeRefused) for a name outside SCIM's attribute
    grammar, an unknown type, a description too long, and a name the organisation has already
    (compared ignoring case, as SCIM compares attribute names: CustomAttributeNameTaken)."""
    if not custom_attributes.is_attribute_name(name):
        raise CustomAttributeRefused(
            "name",
            f"{name!r} is not a SCIM attribute name: use 1 to 64 letters, digits, hyphens and "
            "underscores, starting with a letter.",
        )
    if type not in AttributeType.values:
        raise CustomAttributeRefused(
            "type", f"{type!r} is not a type; use one of {', '.join(AttributeType.values)}."
        )
    _check_description(description)
    if _custom_attributes_named(organisation, name).exists():
        raise CustomAttributeNameTaken(name)
    attribute = CustomAttribute(
        organisation=organisation, name=name, type=type, description=description
    )
    try:
        with transaction.atomic():
            attribute.save()
    except IntegrityError:  # the same name added twice at once; the constraint held
        raise CustomAttributeNameTaken(name) from None
    # Values a request racing an earlier removal of this name may have left (see below): a new
    # attribute starts with no values at all.
    _delete_custom_values(organisation, name)
    audit.record(
        actor=actor,
        action="custom_attribute.add",
        target=organisation,
        changes={"name": name, "type": type, "description": description},
    )
    return attribute


@transaction.atomic
def custom_attribute_update(
    *, attribute: CustomAttribute, actor: Actor, description: str
) -> CustomAttribute:
    """Change the description. The name and type stay: identity providers send values by the
    name, and the values people have are of the type."""
    _check_description(description)
    if attribute.description == description:
        return attribute
    old = attribute.description
    attribute.description = description
    attribute.save(update_fields=["description"])
    audit.record(
        actor=actor,
        action="custom_attribute.update",
        target=attribute.organisation,
        changes={"name": attribute.name, "description": [old, description]},
    )
    return attribute


@transaction.atomic
def custom_attribute_remove(*, attribute: CustomAttribute, actor: Actor) -> int:
    """Remove the attribute: SCIM stops publishing and accepting it, sign-ins stop setting it,
    and every person's value of it is deleted. Returns how many people had a value.

    The values go in one UPDATE whatever the organisation's size (a JSON key removal, see
    _WithoutKey), in the transaction that deletes the definition: no value outlives its
    attribute, and a person's row is locked once, briefly, like any profile change. The people
    who had a value get a new lastModified, since their SCIM representation changes."""
    organisation = attribute.organisation
    name, type_ = attribute.name, attribute.type
    attribute.delete()
    deleted = _delete_custom_values(organisation, name)
    audit.record(
        actor=actor,
        action="custom_attribute.remove",
        target=organisation,
        changes={"name": name, "type": type_, "values_deleted": deleted},
    )
    return deleted


@transaction.atomic
def user_set_custom_attributes(
    *, user: User, actor: Actor, values: Mapping[str, object], replace: bool = False
) -> User:
    """Set some of a person's values of the organisation's own attributes; None or "" clears
    one. With ``replace`` (SCIM PUT), the attributes not in ``values`` are cleared too.

    Names are matched ignoring case and stored under the attribute's own name; each value is
    read as its attribute's type (accounts.custom_attributes.typed_value, so "42" is a whole
    number and "False" a boolean). An unknown name or a value that does not fit raises
    ValidationError naming it, and nothing changes. Only real changes are saved and audited."""
    if user.is_deleted:
        raise UserDeleted(user)
    assert user.organisation_id is not None, "support staff have no attributes of their own"
    defined = {
        attribute.name.lower(): attribute
        for attribute in CustomAttribute.objects.filter(organisation_id=user.organisation_id)
    }
    wanted: dict[str, custom_attributes.JsonValue | None] = {}
    errors: dict[str, str] = {}
    for given, raw in values.items():
        attribute = defined.get(given.lower())
        if attribute is None:
            errors[given] = f"There is no attribute named {given!r} in this organisation."
            continue
        try:
            wanted[attribute.name] = custom_attributes.typed_value(attribute.type, raw)
        except custom_attributes.ValueRefused as refused:
            errors[attribute.name] = f"{attribute.name}: {refused}"
    if errors:
        raise ValidationError(errors)
    if replace:
        wanted = {attribute.name: wanted.get(attribute.name) for attribute in defined.values()}
    # Read the values as committed, with the row locked as SCIM locks people: a sign-in and a
    # SCIM request changing different attributes of one person at once both keep theirs.
    user.refresh_from_db(
        from_queryset=User.objects.select_for_update(no_key=True), fields=["custom_attributes"]
    )
    current = dict(user.custom_attributes)
    diff: dict[str, list[Any]] = {}
    for name, value in wanted.items():
        if current.get(name) != value:
            diff[name] = [current.get(name), value]
            if value is None:
                current.pop(name, None)
            else:
                current[name] = value
    if not diff:
        return user
    user.custom_attributes = current
    user.updated_at = timezone.now()
    user.save(update_fields=["custom_attributes", "updated_at"])
    audit.record(actor=actor, action="user.set_custom_attributes", target=user, changes=diff)
    return user


def _check_description(description: str) -> None:
    if len(description) > custom_attributes.MAX_DESCRIPTION_LENGTH:
        raise CustomAttributeRefused(
            "description",
            f"Keep the description to {custom_attributes.MAX_DESCRIPTION_LENGTH} characters.",
        )


def _custom_attributes_named(organisation: Organisation, name: str) -> "QuerySet[CustomAttribute]":
    return (
        CustomAttribute.objects.filter(organisation=organisation)
        .alias(name_lower=Lower("name"))
        .filter(name_lower=Lower(Value(name)))
    )


class _WithoutKey(Func):
    """A JSON column without one key, as one SQL expression: jsonb's ``-`` on PostgreSQL,
    JSON_REMOVE on SQLite. (Django has no such expression; these are the two databases
    auzlearn runs on, and any other is refused rather than half supported.)"""

    output_field = JSONField()

    def __init__(self, column: str, key: str) -> None:
        super().__init__(F(column))
        self.key = key

    def as_sql(self, *args: Any, **kwargs: Any) -> Any:
        raise NotSupportedError("Removing a JSON key is written for PostgreSQL and SQLite only.")

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        column, params = compiler.compile(self.source_expressions[0])
        return f"({column} - %s::text)", (*params, self.key)

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        column, params = compiler.compile(self.source_expressions[0])
        # The name is in SCIM's grammar (letters, digits, "-" and "_"), so it needs no escaping
        # inside the quoted path step.
        return f"JSON_REMOVE({column}, %s)", (*params, f'$."{self.key}"')


def _delete_custom_values(organisation: Organisation, name: str) -> int:
    """Delete every value of the attribute ``name`` in the organisation, in one UPDATE; the
    number of people who had one."""
    people = User.objects.filter(organisation=organisation, custom_attributes__has_key=name)
    return people.update(
        custom_attributes=_WithoutKey("custom_attributes", name), updated_at=timezone.now()
    )


# --- sessions ------------------------------------------------------------------------------
#
# Sessions are database rows keyed by a random key (accounts.sessions); nothing indexes them by
# person (the user id is inside the encoded data), so finding one person's rows would mean
# decoding every session of every organisation. A person's sessions are ended the way
# user_deactivate ends them: a new ``sessions_revoked_at`` changes the hash each session keeps
# (User._session_hash), so each of them fails Django's check at its next request, which
# deletes that session row and answers as to someone signed out.


@transaction.atomic
def user_end_sessions(*, user: User, actor: Actor) -> User:
    """Sign the person out everywhere: every session they have now stops working, on every app
    server, and their row is otherwise untouched (nothing SCIM shows changes, so not
    ``updated_at``). They may sign in again at once. An inactive person has no session that
    works (deactivation and deletion ended them, and sign-in refuses them): a no-op, like
    deactivating someone inactive."""
    user.refresh_from_db(
        from_queryset=User.objects.select_for_update(no_key=True),
        fields=["is_active", "deleted_at", "sessions_revoked_at"],
    )
    if not user.is_active:
        return user
    old = user.sessions_revoked_at
    user.sessions_revoked_at = timezone.now()
    user.save(update_fields=["sessions_revoked_at"])
    audit.record(
        actor=actor,
        action="user.end_sessions",
        target=user,
        changes={"sessions_revoked_at": [_iso(old), _iso(user.sessions_revoked_at)]},
    )
    return user


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
