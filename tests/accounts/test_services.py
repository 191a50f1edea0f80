"""accounts.services: lifecycle, managers, teams, conflicts and the audit trail."""

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import signals
from django.test.utils import CaptureQueriesContext

from accounts import services
from accounts.audit import Actor
from accounts.errors import (
    ManagerRefused,
    MembersRefused,
    OrganisationSlugTaken,
    TeamNameTaken,
    UserConflict,
    UserDeleted,
)
from accounts.models import ActorKind, AuditEvent, Team, TeamMembership, User
from accounts.services import ManagerReference
from tests import factories
from tests.factories import SYSTEM

SCIM = Actor.scim_key("k3y")


def _events(target: User | Team) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_id=str(target.public_id))
        .order_by("id")
        .values_list("action", flat=True)
    )


# --- create and update ---------------------------------------------------------------------


def test_user_create_records_who_created_whom(org, primary_admin):
    user = services.user_create(
        organisation=org,
        actor=Actor.admin(primary_admin),
        username="new@acme.test",
        email="new@acme.test",
        given_name="New",
    )
    event = AuditEvent.objects.get(target_id=str(user.public_id))
    assert event.action == "user.create"
    assert event.actor_kind == ActorKind.ADMIN
    assert event.actor_user == primary_admin
    assert event.organisation == org
    assert event.changes == {
        "username": "new@acme.test",
        "email": "new@acme.test",
        "emails": [{"value": "new@acme.test", "type": "work"}],
        "given_name": "New",
        "role": "learner",
        "active": True,
    }


@pytest.mark.parametrize("username", ["lee@acme.test", "LEE@ACME.TEST"])
def test_user_create_refuses_a_taken_username_and_names_the_existing_user(learner, username):
    with pytest.raises(UserConflict) as caught:
        services.user_create(organisation=learner.organisation, actor=SCIM, username=username)
    assert caught.value.field == "userName"
    assert caught.value.existing == learner
    assert User.objects.filter(organisation=learner.organisation).count() == 1


def test_user_create_refuses_a_taken_external_id(org):
    first = factories.user(org, external_id="00u1")
    with pytest.raises(UserConflict) as caught:
        services.user_create(
            organisation=org, actor=SCIM, username="b@acme.test", external_id="00u1"
        )
    assert caught.value.field == "externalId"
    assert caught.value.existing == first


def test_user_create_names_the_username_s_holder_when_both_identifiers_are_taken(org):
    factories.user(org, "ada@acme.test", external_id="00u1")
    lee = factories.user(org, "lee@acme.test", external_id="00u2")
    with pytest.raises(UserConflict) as caught:
        services.user_create(
            organisation=org, actor=SCIM, username="Lee@Acme.test", external_id="00u1"
        )
    assert (caught.value.field, caught.value.existing) == ("userName", lee)


def test_a_refused_create_writes_nothing_and_the_transaction_goes_on(org):
    """The person's INSERT is the conflict check (services._insert_new_user): one that finds
    the userName taken, by a deleted person here, inserts nothing, and the revival or other
    writes after it go on in the same transaction."""
    gone = factories.user(org, "gone@acme.test")
    services.user_delete(user=gone, actor=SYSTEM)
    events = AuditEvent.objects.count()
    with transaction.atomic():
        with pytest.raises(UserConflict) as caught:
            services.user_create(
                organisation=org,
                actor=SCIM,
                username="GONE@acme.test",
                emails=[{"value": "gone@acme.test", "type": "work"}],
                manager=ManagerReference(value="00u-nobody"),
            )
        services.user_create(organisation=org, actor=SCIM, username="ada@acme.test")

    assert caught.value.existing == gone and caught.value.existing.is_deleted
    assert sorted(User.objects.filter(organisation=org).values_list("username", flat=True)) == [
        "ada@acme.test",
        "gone@acme.test",
    ]
    assert AuditEvent.objects.count() == events + 1  # ada's create only
    assert not User.objects.filter(pending_manager_value="00u-nobody").exists()


def test_user_create_refuses_bad_values_before_touching_the_database(org):
    with pytest.raises(ValidationError) as caught:
        services.user_create(organisation=org, actor=SCIM, username="x", email="not an email")
    assert "email" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.user_create(organisation=org, actor=SCIM, username="y" * 256)
    assert not User.objects.filter(organisation=org).exists()
    assert not AuditEvent.objects.filter(action="user.create").exists()


def test_user_update_saves_and_audits_only_what_changed(learner):
    services.user_update(user=learner, actor=SCIM, title="Engineer", given_name=learner.given_name)
    learner.refresh_from_db()
    assert learner.title == "Engineer"
    event = AuditEvent.objects.filter(action="user.update").get()
    assert event.changes == {"title": ["", "Engineer"]}
    services.user_update(user=learner, actor=SCIM, title="Engineer")
    assert AuditEvent.objects.filter(action="user.update").count() == 1


def test_user_update_refuses_a_username_taken_by_someone_else(org, learner, primary_admin):
    with pytest.raises(UserConflict):
        services.user_update(user=learner, actor=SCIM, username="ADMIN@acme.test")
    learner.refresh_from_db()
    assert learner.username == "lee@acme.test"


def test_user_update_may_change_the_case_of_their_own_username(learner):
    services.user_update(user=learner, actor=SCIM, username="Lee@Acme.test")
    learner.refresh_from_db()
    assert learner.username == "Lee@Acme.test"


def test_organisation_slug_must_be_unique(org):
    with pytest.raises(OrganisationSlugTaken):
        services.organisation_create(actor=SCIM, slug="acme", name="Another Acme")


def test_organisation_update_audits_switches(org):
    services.organisation_update(organisation=org, actor=SCIM, scim_enabled=True)
    org.refresh_from_db()
    assert org.scim_enabled
    assert AuditEvent.objects.get(action="organisation.update").changes == {
        "scim_enabled": [False, True]
    }


# --- deactivate, reactivate, delete, revive ------------------------------------------------


def test_deactivate_then_reactivate_keeps_the_same_row_teams_and_history(org, learner):
    team = factories.team(org, "Sales", members=[learner])
    original_id, original_pk = learner.public_id, learner.pk

    services.user_deactivate(user=learner, actor=SCIM)
    learner.refresh_from_db()
    assert not learner.is_active
    assert learner.deactivated_at is not None
    assert learner.sessions_revoked_at is not None

    services.user_reactivate(user=learner, actor=SCIM)
    learner.refresh_from_db()
    assert learner.is_active and learner.deactivated_at is None
    assert (learner.pk, learner.public_id) == (original_pk, original_id)
    assert list(team.members.all()) == [learner]
    assert _events(learner) == ["user.create", "user.deactivate", "user.reactivate"]


def test_deactivate_and_reactivate_are_idempotent(learner):
    services.user_deactivate(user=learner, actor=SCIM)
    learner.refresh_from_db()
    first_time = learner.deactivated_at
    services.user_deactivate(user=learner, actor=SCIM)
    learner.refresh_from_db()
    assert learner.deactivated_at == first_time
    services.user_reactivate(user=learner, actor=SCIM)
    services.user_reactivate(user=learner, actor=SCIM)
    assert _events(learner) == ["user.create", "user.deactivate", "user.reactivate"]


def test_delete_then_revive_keeps_the_same_row_teams_and_history(org, learner):
    team = factories.team(org, "Sales", members=[learner])
    original_id = learner.public_id

    services.user_delete(user=learner, actor=SCIM)
    learner.refresh_from_db()
    assert learner.is_deleted and not learner.is_active
    assert TeamMembership.objects.filter(team=team, user=learner).exists()

    revived = services.user_revive(user=learner, actor=SCIM, given_name="Leigh")
    revived.refresh_from_db()
    assert revived.pk == learner.pk and revived.public_id == original_id
    assert revived.is_active and not revived.is_deleted
    assert revived.given_name == "Leigh"
    assert list(team.members.all()) == [revived]
    assert _events(revived) == ["user.create", "user.delete", "user.revive"]
    revive_event = AuditEvent.objects.get(action="user.revive")
    assert revive_event.changes["given_name"] == ["Lee", "Leigh"]
    assert revive_event.changes["deleted"] == [True, False]


def test_delete_is_idempotent_and_a_deleted_user_cannot_be_reactivated_without_revival(learner):
    services.user_delete(user=learner, actor=SCIM)
    services.user_delete(user=learner, actor=SCIM)
    assert _events(learner).count("user.delete") == 1
    with pytest.raises(UserDeleted):
        services.user_reactivate(user=learner, actor=SCIM)
    with pytest.raises(UserDeleted):
        services.user_update(user=learner, actor=SCIM, title="x")


def test_revive_can_bring_someone_back_inactive(learner):
    services.user_delete(user=learner, actor=SCIM)
    services.user_revive(user=learner, actor=SCIM, active=False)
    learner.refresh_from_db()
    assert not learner.is_deleted and not learner.is_active
    assert learner.deactivated_at is not None


def test_revive_refuses_a_username_someone_else_took_meanwhile(org, learner):
    services.user_delete(user=learner, actor=SCIM)
    factories.user(org, "taken@acme.test")
    with pytest.raises(UserConflict):
        services.user_revive(user=learner, actor=SCIM, username="taken@acme.test")
    learner.refresh_from_db()
    assert learner.is_deleted


# --- managers ------------------------------------------------------------------------------


def test_manager_resolved_by_our_id(org, learner):
    boss = factories.user(org, "boss@acme.test")
    services.user_set_manager_reference(
        user=learner, actor=SCIM, reference=ManagerReference(value=str(boss.public_id))
    )
    learner.refresh_from_db()
    assert learner.manager == boss


def test_manager_resolved_by_external_id(org, learner):
    boss = factories.user(org, "boss@acme.test", external_id="00uBOSS")
    services.user_set_manager_reference(
        user=learner, actor=SCIM, reference=ManagerReference(value="00uBOSS")
    )
    learner.refresh_from_db()
    assert learner.manager == boss


@pytest.mark.parametrize("display", ["boss@acme.test", "BOSS@ACME.TEST", "b.oss@mail.test"])
def test_manager_resolved_by_display_name_as_username_or_email(org, learner, display):
    boss = factories.user(org, "boss@acme.test", email="b.oss@mail.test")
    services.user_set_manager_reference(
        user=learner,
        actor=SCIM,
        reference=ManagerReference(value="unknown-okta-id", display_name=display),
    )
    learner.refresh_from_db()
    assert learner.manager == boss
    assert learner.pending_manager_value == "" and learner.pending_manager_display == ""


def test_id_wins_over_display_name(org, learner):
    by_id = factories.user(org, "one@acme.test")
    factories.user(org, "two@acme.test")
    services.user_set_manager_reference(
        user=learner,
        actor=SCIM,
        reference=ManagerReference(value=str(by_id.public_id), display_name="two@acme.test"),
    )
    learner.refresh_from_db()
    assert learner.manager == by_id


def test_unknown_manager_is_remembered_and_linked_when_they_arrive(org):
    report = services.user_create(
        organisation=org,
        actor=SCIM,
        username="report@acme.test",
        manager=ManagerReference(value="00uBOSS", display_name="boss@acme.test"),
    )
    report.refresh_from_db()
    assert report.manager is None
    assert (report.pending_manager_value, report.pending_manager_display) == (
        "00uBOSS",
        "boss@acme.test",
    )

    boss = services.user_create(organisation=org, actor=SCIM, username="Boss@Acme.test")
    report.refresh_from_db()
    assert report.manager == boss
    assert report.pending_manager_value == ""
    link = AuditEvent.objects.filter(action="user.set_manager", target_id=str(report.public_id))
    newest = link.first()
    assert newest is not None
    assert newest.changes["manager"] == [None, str(boss.public_id)]


def test_pending_reference_is_linked_when_a_later_update_gives_the_matching_external_id(org):
    report = services.user_create(
        organisation=org,
        actor=SCIM,
        username="report@acme.test",
        manager=ManagerReference(value="00uBOSS"),
    )
    boss = factories.user(org, "boss@acme.test")
    report.refresh_from_db()
    assert report.manager is None
    services.user_update(user=boss, actor=SCIM, external_id="00uBOSS")
    report.refresh_from_db()
    assert report.manager == boss


def test_pending_reference_is_not_linked_to_a_namesake_in_another_organisation(org, other_org):
    report = services.user_create(
        organisation=org,
        actor=SCIM,
        username="report@acme.test",
        manager=ManagerReference(display_name="boss@example.com"),
    )
    factories.user(other_org, "boss@example.com")
    report.refresh_from_db()
    assert report.manager is None
    assert report.pending_manager_display == "boss@example.com"


def test_manager_from_another_organisation_is_refused(org, other_org, learner):
    stranger = factories.user(other_org, "stranger@globex.test")
    with pytest.raises(ManagerRefused, match="not a user of this organisation"):
        services.user_set_manager(user=learner, actor=SCIM, manager=stranger)
    learner.refresh_from_db()
    assert learner.manager is None and learner.pending_manager_value == ""


def test_a_reference_to_another_organisations_person_is_taken_as_a_random_id(
    org, other_org, learner
):
    # No existence oracle across tenants: another organisation's id names nobody here, exactly
    # as an id nobody has, so both are remembered as a manager still to come.
    stranger = factories.user(other_org, "stranger@globex.test")
    for value in (str(stranger.public_id), str(uuid.uuid4())):
        services.user_set_manager_reference(
            user=learner, actor=SCIM, reference=ManagerReference(value=value)
        )
        learner.refresh_from_db()
        assert learner.manager is None and learner.pending_manager_value == value


def test_manager_cycles_are_refused(org):
    top = factories.user(org, "top@acme.test")
    middle = factories.user(org, "middle@acme.test")
    bottom = factories.user(org, "bottom@acme.test")
    services.user_set_manager(user=middle, actor=SCIM, manager=top)
    services.user_set_manager(user=bottom, actor=SCIM, manager=middle)

    with pytest.raises(ManagerRefused, match="cycle"):
        services.user_set_manager(user=top, actor=SCIM, manager=bottom)
    with pytest.raises(ManagerRefused, match="own manager"):
        services.user_set_manager(user=top, actor=SCIM, manager=top)
    top.refresh_from_db()
    assert top.manager is None


def test_waiting_report_that_would_close_a_cycle_stays_pending(org):
    report = services.user_create(
        organisation=org,
        actor=SCIM,
        username="a@acme.test",
        manager=ManagerReference(display_name="b@acme.test"),
    )
    # b arrives already reporting to a: linking a -> b would be a cycle.
    b = services.user_create(
        organisation=org,
        actor=SCIM,
        username="b@acme.test",
        manager=ManagerReference(value=str(report.public_id)),
    )
    report.refresh_from_db()
    assert b.manager == report
    assert report.manager is None
    assert report.pending_manager_display == "b@acme.test"


def test_empty_reference_clears_the_manager(org, learner):
    boss = factories.user(org, "boss@acme.test")
    services.user_set_manager(user=learner, actor=SCIM, manager=boss)
    services.user_set_manager_reference(user=learner, actor=SCIM, reference=ManagerReference())
    learner.refresh_from_db()
    assert learner.manager is None


# --- teams ---------------------------------------------------------------------------------


def test_team_create_rename_and_delete_are_audited(org, learner):
    team = services.team_create(
        organisation=org, actor=SCIM, display_name="Sales", members=[learner]
    )
    services.team_update(team=team, actor=SCIM, display_name="Sales EMEA")
    team_id = str(team.public_id)
    services.team_delete(team=team, actor=SCIM)
    assert not Team.objects.filter(public_id=team_id).exists()
    assert not TeamMembership.objects.filter(user=learner).exists()
    assert User.objects.filter(pk=learner.pk).exists()
    actions = list(
        AuditEvent.objects.filter(target_id=team_id).order_by("id").values_list("action", flat=True)
    )
    assert actions == ["team.create", "team.members", "team.update", "team.delete"]
    assert AuditEvent.objects.get(action="team.delete").changes["members"] == [
        str(learner.public_id)
    ]


def test_team_names_clash_ignoring_case(org):
    factories.team(org, "Sales")
    with pytest.raises(TeamNameTaken):
        services.team_create(organisation=org, actor=SCIM, display_name="SALES")
    other = factories.team(org, "Support")
    with pytest.raises(TeamNameTaken):
        services.team_update(team=other, actor=SCIM, display_name="sales")


def test_team_member_from_another_organisation_is_refused_and_nothing_changes(org, other_org):
    team = factories.team(org, "Sales")
    ours = factories.user(org)
    stranger = factories.user(other_org, "stranger@globex.test")
    with pytest.raises(MembersRefused, match=r"stranger@globex\.test"):
        services.team_add_members(team=team, actor=SCIM, users=[ours, stranger])
    assert not team.members.exists()


def test_team_membership_changes_are_set_operations(org):
    team = factories.team(org, "Sales")
    a, b, c = (factories.user(org) for _ in range(3))
    services.team_add_members(team=team, actor=SCIM, users=[a, b])
    version = Team.objects.get(pk=team.pk).updated_at
    services.team_add_members(team=team, actor=SCIM, users=[b, b])  # already there: no change
    assert set(team.members.all()) == {a, b}
    assert Team.objects.get(pk=team.pk).updated_at == version  # the team's version stays
    services.team_remove_members(team=team, actor=SCIM, users=[a, c])  # c never was a member
    assert set(team.members.all()) == {b}
    services.team_set_members(team=team, actor=SCIM, users=[a, c])
    assert set(team.members.all()) == {a, c}
    changes = [
        e.changes["members"]
        for e in AuditEvent.objects.filter(action="team.members").order_by("id")
    ]
    assert changes == [
        {"added": [str(a.public_id), str(b.public_id)], "removed": []},
        {"added": [], "removed": [str(a.public_id)]},
        {"added": [str(a.public_id), str(c.public_id)], "removed": [str(b.public_id)]},
    ]


def _people(org, n, prefix="bulk"):
    """Many people at once; reloaded so they carry their primary keys on every database."""
    created = User.objects.bulk_create(
        [User(organisation=org, username=f"{prefix}{i}@acme.test") for i in range(n)]
    )
    return list(User.objects.filter(username__in=[u.username for u in created]))


MAX_MEMBERSHIP_QUERIES = 8


@pytest.mark.parametrize("size", [10, 1000])
def test_team_membership_changes_cost_the_same_queries_at_any_size(
    org, size, django_assert_max_num_queries
):
    team = factories.team(org, "Big")
    people = _people(org, size)
    half = people[: size // 2]

    with django_assert_max_num_queries(MAX_MEMBERSHIP_QUERIES):
        services.team_add_members(team=team, actor=SCIM, users=people)
    with django_assert_max_num_queries(MAX_MEMBERSHIP_QUERIES):
        services.team_remove_members(team=team, actor=SCIM, users=half)
    with django_assert_max_num_queries(MAX_MEMBERSHIP_QUERIES):
        services.team_set_members(team=team, actor=SCIM, users=half)
    assert team.members.count() == len(half)


def test_membership_query_count_does_not_grow_with_size(org):
    counts = []
    for size in (10, 1000):
        team = factories.team(org, f"Team of {size}")
        people = _people(org, size, prefix=f"t{size}-")
        with CaptureQueriesContext(connection) as add:
            services.team_add_members(team=team, actor=SCIM, users=people)
        with CaptureQueriesContext(connection) as replace:
            services.team_set_members(team=team, actor=SCIM, users=people[: size // 2])
        counts.append((len(add), len(replace)))
    assert counts[0] == counts[1]


# --- writes without a savepoint of their own ---------------------------------------------------


def _statements(work) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        work()
    return [query["sql"].split()[0] for query in captured.captured_queries]


def test_deactivation_reactivation_and_updates_add_no_savepoint_to_the_caller_s_transaction(
    learner,
):
    with transaction.atomic():
        made = _statements(lambda: services.user_deactivate(user=learner, actor=SYSTEM))
        made += _statements(lambda: services.user_reactivate(user=learner, actor=SYSTEM))
        made += _statements(lambda: services.user_update(user=learner, actor=SYSTEM, title="Lead"))
    assert made == ["UPDATE", "INSERT"] * 2 + ["UPDATE", "INSERT"]
    learner.refresh_from_db()
    assert (learner.is_active, learner.title) == (True, "Lead")


def test_a_new_username_is_still_saved_in_a_savepoint_of_its_own(learner):
    with transaction.atomic():
        made = _statements(
            lambda: services.user_update(user=learner, actor=SYSTEM, username="lee2@acme.test")
        )
    assert made[0] == "SELECT" and "SAVEPOINT" in made  # the conflict check, then the guard


def test_a_create_writes_what_it_must_and_its_person_is_saved_as_save_would(org):
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        services.user_create(
            organisation=org,
            actor=SYSTEM,
            username="ada@acme.test",
            email="ada@acme.test",
            password="s3cret-Pw!",
        )
    made_sql = [query["sql"] for query in captured.captured_queries]
    made = [sql.split()[0] for sql in made_sql]
    # The person (their INSERT is the conflict check), then their email, the audit row and the
    # waiting reports. On PostgreSQL the person's INSERT needs no savepoint (ON CONFLICT DO
    # NOTHING) and the rest is one statement (auzlearn.one_trip_inserts); SQLite saves in a
    # savepoint.
    if connection.vendor == "postgresql":
        assert made == ["INSERT", "INSERT"]
        assert made_sql[1].count("INSERT INTO") == 2 and "FOR NO KEY UPDATE" in made_sql[1]
    else:
        assert made == ["SAVEPOINT", "INSERT", "RELEASE", "INSERT", "INSERT", "SELECT"]
    ada = User.objects.get(organisation=org, username="ada@acme.test")
    assert ada.check_password("s3cret-Pw!")
    assert ada.created_at == ada.updated_at and ada.public_id is not None


def test_a_created_person_is_a_saved_instance(org):
    ada = services.user_create(organisation=org, actor=SYSTEM, username="ada@acme.test")

    assert ada.pk == User.objects.get(username="ada@acme.test").pk
    assert ada._state.adding is False and ada._state.db == "default"
    ada.title = "Lead"
    ada.save(update_fields=["title"])  # an UPDATE, not a second INSERT
    assert User.objects.get(pk=ada.pk).title == "Lead"


def test_no_save_signal_is_connected_to_people():
    """user_create inserts a person without Model.save, so without its signals
    (services._insert_new_user): a receiver connected to User would be skipped there."""
    assert not signals.pre_save.has_listeners(User)
    assert not signals.post_save.has_listeners(User)


def test_a_refusal_leaves_the_caller_s_transaction_as_it_was(org, learner):
    other = factories.user(org, "ada@acme.test")
    services.user_delete(user=other, actor=SYSTEM)
    with transaction.atomic():
        with pytest.raises(UserDeleted):
            services.user_reactivate(user=other, actor=SYSTEM)
        with pytest.raises(UserConflict):
            services.user_update(
                user=learner, actor=SYSTEM, username="ADA@acme.test", title="Refused"
            )
        services.user_update(user=learner, actor=SYSTEM, given_name="Lee-Ann")  # goes on

    learner.refresh_from_db()
    other.refresh_from_db()
    assert (learner.username, learner.title, learner.given_name) == (
        "lee@acme.test",
        "",
        "Lee-Ann",
    )
    assert other.is_deleted and not other.is_active
    assert not AuditEvent.objects.filter(action="user.reactivate").exists()


def test_new_memberships_are_one_insert_and_skip_those_that_exist(org):
    team = factories.team(org, "Sales")
    ada, lee = factories.user(org, "ada@acme.test"), factories.user(org, "lee@acme.test")
    services.team_add_members(team=team, actor=SYSTEM, users=[ada])
    existing = TeamMembership.objects.get(team=team, user=ada).created_at
    joined = existing + dt.timedelta(minutes=5)

    joined_now: list[User] = []

    made = _statements(
        lambda: joined_now.extend(services._insert_memberships(team, [ada, lee], joined))
    )

    # One statement on PostgreSQL (the people's read, the INSERT and who joined); SQLite reads
    # the people not yet members, then inserts.
    assert made == (["WITH"] if connection.vendor == "postgresql" else ["SELECT", "INSERT"])
    assert joined_now == [lee]
    # A concurrent add of ada is no error, and changes nothing of hers.
    rows = dict(TeamMembership.objects.filter(team=team).values_list("user_id", "created_at"))
    assert rows == {ada.pk: existing, lee.pk: joined}
    copies = TeamMembership.objects.filter(team=team).values_list(
        "user_id", "user_public_id", "user_deleted"
    )
    assert set(copies) == {(ada.pk, ada.public_id, False), (lee.pk, lee.public_id, False)}


def test_whoever_deletes_or_revives_a_person_their_memberships_follow(org):
    """The trigger of accounts/migrations/0012: an UPDATE of the person's row that is not the
    service's (support staff's SQL, code older than the migration) moves them too."""
    team = factories.team(org, "Sales")
    ada = factories.user(org, "ada@acme.test")
    services.team_add_members(team=team, actor=SYSTEM, users=[ada])
    gone = {"deleted_at": ada.created_at, "is_active": False, "deactivated_at": ada.created_at}

    User.objects.filter(pk=ada.pk).update(**gone)
    assert TeamMembership.objects.get(team=team, user=ada).user_deleted
    User.objects.filter(pk=ada.pk).update(deleted_at=None)
    assert not TeamMembership.objects.get(team=team, user=ada).user_deleted


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the insert's trigger is PostgreSQL's (0012)"
)
def test_a_membership_inserted_without_its_members_copies_gets_them_from_the_person(org):
    """As code older than migration 0012, still serving while it is applied, or a bulk COPY
    would insert it."""
    team = factories.team(org, "Sales")
    ada, gone = factories.user(org, "ada@acme.test"), factories.user(org, "gone@acme.test")
    services.user_delete(user=gone, actor=SYSTEM)

    with connection.cursor() as cursor:
        for person in (ada, gone):
            cursor.execute(
                "INSERT INTO accounts_teammembership (team_id, user_id, created_at) "
                "VALUES (%s, %s, now())",
                [team.pk, person.pk],
            )

    copies = TeamMembership.objects.filter(team=team).values_list(
        "user_id", "user_public_id", "user_deleted"
    )
    assert set(copies) == {(ada.pk, ada.public_id, False), (gone.pk, gone.public_id, True)}


def test_a_membership_knows_whether_its_member_is_deleted_through_deletion_and_revival(org):
    team = factories.team(org, "Sales")
    ada = factories.user(org, "ada@acme.test")
    services.team_add_members(team=team, actor=SYSTEM, users=[ada])

    def deleted() -> bool:
        return TeamMembership.objects.get(team=team, user=ada).user_deleted

    services.user_delete(user=ada, actor=SYSTEM)
    assert deleted()
    services.user_revive(user=ada, actor=SYSTEM)
    assert not deleted()

    services.user_delete(user=ada, actor=SYSTEM)
    other = factories.team(org, "Support")
    services.team_add_members(team=other, actor=SYSTEM, users=[ada])  # joins while deleted
    assert TeamMembership.objects.get(team=other, user=ada).user_deleted
