"""Loading the organisations quickly and in bulk, through the models: the rows go into the same
tables with every constraint and index in place (bulk_create in large batches), so a loaded
database is one the product could have written. The organisations themselves are created
through the service, as support staff would."""

import random
from collections.abc import Iterator, Sequence

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from accounts import profile_values, services
from accounts.audit import Actor
from accounts.models import Organisation, ProfileValue, Team, TeamMembership, User
from bench import layout, progress
from bench.layout import OrganisationPlan

BATCH = 5_000
ACTOR = Actor.system("bench")


def is_loaded(plans: Sequence[OrganisationPlan]) -> bool:
    """Whether a reused database holds these organisations (their size is in their name)."""
    names = dict(Organisation.objects.values_list("slug", "name"))
    return all(names.get(plan.slug) == plan.name for plan in plans)


def load(plan: OrganisationPlan, rng: random.Random) -> None:
    organisation = services.organisation_create(actor=ACTOR, slug=plan.slug, name=plan.name)
    pks = _people(organisation, plan)
    _link_managers(organisation)
    if plan.teams:
        _teams(organisation, plan, pks, rng)


def _people(organisation: Organisation, plan: OrganisationPlan) -> list[int]:
    pks: list[int] = []
    with progress.bar(plan.people, f"{plan.slug}: people", "person", leave=True) as bar:
        for start in range(0, plan.people, BATCH):
            indices = range(start, min(start + BATCH, plan.people))
            rows = User.objects.bulk_create([_person(organisation, plan, i) for i in indices])
            # Each person's email, one row each, as services.user_create writes them.
            ProfileValue.objects.bulk_create(profile_values.rows_of_many(rows, ["emails"]))
            pks += [row.pk for row in rows]
            bar.update(len(indices))
    return pks


def _person(organisation: Organisation, plan: OrganisationPlan, index: int) -> User:
    given, family = layout.given_name(index), layout.family_name(index)
    username = layout.username(plan, index)
    now = timezone.now()
    return User(
        organisation=organisation,
        username=username,
        external_id=f"00u{index:017d}",  # Okta's user ids look like this
        email=username.lower(),
        # As Okta sends it (bench.scenarios), so that a PUT of the same person leaves it as is.
        emails=[{"primary": True, "value": username.lower(), "type": "work"}],
        given_name=given,
        family_name=family,
        display_name=f"{given} {family}",
        title="Learner",
        department=layout.DEPARTMENTS[index % len(layout.DEPARTMENTS)],
        employee_number=str(100_000 + index),
        locale="en-GB",
        timezone="Europe/London",
        password=make_password(None),  # SSO only, as user_create leaves people SCIM sends
        created_at=now,
        updated_at=now,
    )


def _link_managers(organisation: Organisation) -> None:
    """Person i reports to person i // REPORTS_PER_MANAGER (so nobody to themselves, no cycle):
    one UPDATE, checked by the same constraints as any other."""
    table = User._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH ranked AS (
                SELECT id, row_number() OVER (ORDER BY id) - 1 AS rank
                FROM {table} WHERE organisation_id = %s
            )
            UPDATE {table} AS person SET manager_id = boss.id
            FROM ranked AS me JOIN ranked AS boss ON boss.rank = me.rank / %s
            WHERE person.id = me.id AND me.rank > 0
            """,  # noqa: S608 (the table name is the model's own)
            [organisation.pk, layout.REPORTS_PER_MANAGER],
        )


def _teams(
    organisation: Organisation, plan: OrganisationPlan, pks: list[int], rng: random.Random
) -> None:
    people = plan.people
    members: dict[str, Sequence[int]] = {
        layout.BIG_TEAM: layout.big_team_members(people),
        layout.SMALL_TEAM: layout.small_team_members(people),
        layout.ADD_TEAM: layout.add_team_members(people),
    }
    low, high = layout.REGULAR_TEAM_SIZES
    for number in range(len(members), plan.teams):
        size = rng.randint(low, min(high, people // 20))  # about one team a person
        members[layout.regular_team_name(number)] = rng.sample(range(people), size)
    now = timezone.now()
    teams = Team.objects.bulk_create(
        [
            Team(
                organisation=organisation,
                display_name=name,
                external_id=f"00g{number:017d}",
                created_at=now,
                updated_at=now,
            )
            for number, name in enumerate(members)
        ]
    )
    total = sum(len(indices) for indices in members.values())
    with progress.bar(total, f"{plan.slug}: team members", "member", leave=True) as bar:
        for batch in _batches(
            (
                TeamMembership(team=team, user_id=pks[i])
                for team in teams
                for i in members[team.display_name]
            ),
            BATCH * 2,
        ):
            TeamMembership.objects.bulk_create(batch)
            bar.update(len(batch))


def _batches(rows: Iterator[TeamMembership], size: int) -> Iterator[list[TeamMembership]]:
    batch: list[TeamMembership] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def analyse() -> None:
    """VACUUM ANALYZE the loaded tables, as autovacuum would have long since done on a
    production database: planner statistics, and visibility maps for index-only scans."""
    tables = [model._meta.db_table for model in (User, Team, TeamMembership, Organisation)]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")
