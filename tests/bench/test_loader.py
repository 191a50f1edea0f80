"""The bulk loader (bench.populate, bench.bulk): COPY must write exactly the rows the ORM
writes, through the same constraints and row triggers. PostgreSQL only, as the benchmark is."""

import random

import pytest
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts import profile_values, services
from accounts.models import Organisation, ProfileValue, Team, TeamMembership, User
from bench import bulk, layout, populate

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the benchmark loads PostgreSQL with COPY"
    ),
]
PLAN = layout.OrganisationPlan("bench-copy", "Bench Copy (1000 people)", 1_000, 10)
# Different for every row or every load: compared on their own.
VOLATILE = ("id", "public_id", "password", "organisation_id", "manager_id", "created_at")


def seeded() -> random.Random:
    return random.Random(6)  # noqa: S311 (test data, as the benchmark's)


def _orm_organisation() -> Organisation:
    """The same people written the way the issue-6 loader wrote them: User objects through
    bulk_create, their emails through profile_values, managers by rank."""
    organisation = services.organisation_create(
        actor=populate.ACTOR, slug="bench-orm", name="Bench ORM"
    )
    now = timezone.now()
    people = User.objects.bulk_create(
        [
            User(
                organisation=organisation,
                password=make_password(None),
                created_at=now,
                updated_at=now,
                **populate.person(PLAN, index),
                **populate.PERSON_CONSTANTS,
            )
            for index in range(PLAN.people)
        ]
    )
    ProfileValue.objects.bulk_create(profile_values.rows_of_many(people, ["emails"]))
    for index, person in enumerate(people):
        manager = populate.manager_index(index)
        if manager is not None:
            person.manager = people[manager]
    User.objects.bulk_update(people, ["manager"])
    return organisation


def _rows(organisation: Organisation) -> list[tuple[str, int | None, str]]:
    """Each person's row as JSON but for the volatile columns, their manager's rank, and
    their ProfileValue rows, in load order."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH ranked AS (
                SELECT u.*, row_number() OVER (ORDER BY u.id) - 1 AS rank
                FROM accounts_user u WHERE u.organisation_id = %s
            )
            SELECT (to_jsonb(r) - %s::text[] - 'rank' - 'updated_at')::text, m.rank,
                   (SELECT json_agg(to_jsonb(p) - 'id' - 'user_id' ORDER BY p.id)::text
                    FROM accounts_profilevalue p WHERE p.user_id = r.id)
            FROM ranked r LEFT JOIN ranked m ON m.id = r.manager_id
            ORDER BY r.rank
            """,
            [organisation.pk, list(VOLATILE)],
        )
        return cursor.fetchall()


def test_copied_people_are_the_rows_the_orm_writes():
    populate.load(PLAN, seeded())
    copied = Organisation.objects.get(slug=PLAN.slug)
    written = _orm_organisation()
    copied_rows, written_rows = _rows(copied), _rows(written)
    assert len(copied_rows) == PLAN.people
    assert copied_rows == written_rows
    assert copied_rows[0][1] is None and copied_rows[45][1] == 2  # 45 reports to 45 // 20
    people = User.objects.filter(organisation=copied).order_by("pk")
    first = people.first()
    assert first is not None and not first.has_usable_password()
    assert first.username == "Ada.Achebe.000000@bench-copy.example"
    assert first.emails == [
        {"primary": True, "value": "ada.achebe.000000@bench-copy.example", "type": "work"}
    ]
    # Readable through the product's own lookups (the functional unique index included).
    assert (
        User.objects.for_organisation(copied)
        .with_username("ADA.ACHEBE.000000@Bench-Copy.example")
        .exists()
    )
    assert len({person.public_id for person in people}) == PLAN.people
    assert len({person.password for person in people}) == PLAN.people


def test_teams_and_their_members():
    populate.load(PLAN, seeded())
    teams = Team.objects.filter(organisation__slug=PLAN.slug)
    assert teams.count() == PLAN.teams
    big = teams.get(display_name=layout.BIG_TEAM)
    ranks = {
        pk: rank
        for rank, pk in enumerate(
            User.objects.filter(organisation__slug=PLAN.slug)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    }
    members = sorted(ranks[pk] for pk in big.members.values_list("pk", flat=True))
    assert members == list(layout.big_team_members(PLAN.people))
    outsiders = TeamMembership.objects.filter(team__organisation__slug=PLAN.slug).exclude(
        user__organisation__slug=PLAN.slug
    )
    assert not outsiders.exists()


def test_row_triggers_fire_for_every_copied_person():
    """COPY fires row triggers as INSERT does: a count kept by one (as PeopleCount is) stays
    exact. The trigger is made inside the test's transaction, so it goes with it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_test_count (organisation_id bigint PRIMARY KEY, people bigint)"
        )
        cursor.execute(
            """
            CREATE FUNCTION bench_test_count() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO bench_test_count VALUES (NEW.organisation_id, 1)
                ON CONFLICT (organisation_id) DO UPDATE SET people = bench_test_count.people + 1;
                RETURN NULL;
            END $$;
            CREATE TRIGGER bench_test_count AFTER INSERT ON accounts_user
                FOR EACH ROW EXECUTE FUNCTION bench_test_count();
            """
        )
    populate.load(PLAN, seeded())
    organisation = Organisation.objects.get(slug=PLAN.slug)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT people FROM bench_test_count WHERE organisation_id = %s", [organisation.pk]
        )
        assert cursor.fetchone() == (PLAN.people,)


def test_constraints_hold_for_copied_rows():
    """COPY is checked like any INSERT: a second load of the same organisation's people (the
    same userNames) is refused by the unique index, and nothing of it stays."""
    populate.load(PLAN, seeded())
    organisation = Organisation.objects.get(slug=PLAN.slug)
    varying = populate.PERSON_COLUMNS[4:]
    prototype = User(organisation=organisation, password="!x", **populate.PERSON_CONSTANTS)
    columns = bulk.Columns(User, varying, populate._constants(User, prototype, varying))
    values = populate.person(PLAN, 7)
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.copy(columns, [[values[name] for name in varying]])
    assert User.objects.filter(organisation=organisation).count() == PLAN.people


def test_model_row_is_what_columns_prepare():
    """bench.bulk prepares values as the ORM does for an unsaved instance."""
    organisation = services.organisation_create(actor=populate.ACTOR, slug="bench-prep", name="P")
    now = timezone.now()
    person = User(
        organisation=organisation,
        password="!x",
        created_at=now,
        updated_at=now,
        **populate.person(PLAN, 3),
        **populate.PERSON_CONSTANTS,
    )
    names = [name for name in populate.PERSON_COLUMNS if name not in ("id", "manager_id")]
    columns = bulk.Columns(User, names, {})
    prepared = columns.row([getattr(person, name) for name in names])
    expected = bulk.model_row(person, names)
    assert [str(value) for value in prepared] == [str(value) for value in expected]
